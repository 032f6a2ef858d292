"""Optional extensions. Each is imported only when you import it, and names the
``pip install "dyne[extra]"`` it needs when its dependencies are missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graphql import GraphQLView as GraphQLView

#: The route options dyne's extensions handle, as ``"module:function"``: the
#: extension is imported when a route first uses the option. (Other packages
#: declare theirs in the ``dyne.route_options`` entry-point group.)
ROUTE_OPTIONS: dict[str, str] = {
    "request_model": "dyne.ext.io.pydantic.route_options:request_model",
    "response_model": "dyne.ext.io.pydantic.route_options:response_model",
    "rate_limit": "dyne.ext.ratelimit:route_option",
}

# ``dyne.ext.GraphQLView`` (a Dyne import path) resolves on first use, so that
# ``import dyne.ext`` imports no extension.
_LAZY = {"GraphQLView": "dyne.ext.graphql"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dyne.ext' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
