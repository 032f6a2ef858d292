"""Request validation and response serialization with msgspec Structs and
attrs classes::

    from dyne.ext.io.msgspec import input, output, expect, webhook

The decorators are the shared ones of ``dyne.ext.io.core`` bound to the
msgspec adapter (which also validates attrs classes, dataclasses and
TypedDicts). A Struct or attrs class given to the pydantic or marshmallow
decorators is handed to this adapter too.
"""

from __future__ import annotations

try:
    import msgspec  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError('dyne.ext.io.msgspec needs msgspec: pip install "dyne[msgspec]" '
                      '(or "dyne[attrs]" for attrs classes)') from exc

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .. import core
from ..core import webhook
from .adapter import ADAPTER

__all__ = ["expect", "input", "output", "webhook"]

F = TypeVar("F", bound=Callable[..., Any])


def input(schema: Any, location: str = "media", key: str | None = None) -> Callable[[F], F]:
    """Validate ``location`` of the request with a Struct or attrs class and
    inject the instance msgspec builds as ``key`` (``data`` for media, else the
    location's name)."""
    return core.input(ADAPTER, schema, location, key)


def output(schema: Any, status_code: int = 200, header: Any = None,
           description: str | None = None) -> Callable[[F], F]:
    """Serialize ``resp.obj`` through a Struct or attrs class (dicts and
    objects are read by key or attribute) into ``resp.media``."""
    return core.output(ADAPTER, schema, status_code, header, description)


def expect(responses: Mapping[Any, Any]) -> Callable[[F], F]:
    """Document other responses: ``{status: description | Model | (Model, description)}``."""
    return core.expect(ADAPTER, responses)
