"""Request validation and response serialization with marshmallow::

    from dyne.ext.io.marshmallow import input, output, expect, webhook

The decorators are the shared ones of ``dyne.ext.io.core`` bound to the
marshmallow adapter; see that module for what each does.
"""

from __future__ import annotations

try:
    import marshmallow  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError('dyne.ext.io.marshmallow needs marshmallow: pip install "dyne[marshmallow]"'
                      ) from exc

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .. import core
from ..core import webhook
from .adapter import ADAPTER
from .fields import FileField

__all__ = ["FileField", "expect", "input", "output", "webhook"]

F = TypeVar("F", bound=Callable[..., Any])


def input(schema: Any, location: str = "media", key: str | None = None) -> Callable[[F], F]:
    """Validate ``location`` of the request with a marshmallow schema and inject
    the loaded data as ``key`` (``data`` for media, else the location's name)."""
    return core.input(ADAPTER, schema, location, key)


def output(schema: Any, status_code: int = 200, header: Any = None,
           description: str | None = None) -> Callable[[F], F]:
    """Dump ``resp.obj`` with a marshmallow schema (a class, or an instance such
    as ``BookSchema(many=True)``) into ``resp.media``."""
    return core.output(ADAPTER, schema, status_code, header, description)


def expect(responses: Mapping[Any, Any]) -> Callable[[F], F]:
    """Document other responses: ``{status: description | Schema | (Schema, description)}``."""
    return core.expect(ADAPTER, responses)
