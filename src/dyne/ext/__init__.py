"""Optional extensions. Each is imported only when you import it, and names the
``pip install "dyne[extra]"`` it needs when its dependencies are missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graphql import GraphQLView as GraphQLView

# ``dyne.ext.GraphQLView`` (a Dyne import path) resolves on first use, so that
# ``import dyne.ext`` imports no extension.
_LAZY = {"GraphQLView": "dyne.ext.graphql"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dyne.ext' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
