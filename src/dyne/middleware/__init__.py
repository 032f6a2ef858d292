"""ASGI middleware that dyne configures from ``App(...)`` options, usable
directly with ``app.add_middleware`` too.

* ``CORSMiddleware``, ``GZipMiddleware``, ``TrustedHostMiddleware``: Starlette's,
  re-exported here (imported on first use, so ``import dyne`` stays light).
* ``HSTSMiddleware``: redirects ``http``/``ws`` to ``https``/``wss`` and sends
  ``Strict-Transport-Security`` on secure responses.
* ``MiddlewareBase``: the base of middleware classes (PyJolt's idiom, with
  dyne's ``Request`` and ``Response``; ``app.add_middleware_class``), in
  ``dyne.middleware.classes``.

``App.builtin_middleware()`` turns the ``App`` options into the list of
(class, options) pairs, from the outermost in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .hsts import HSTSMiddleware

__all__ = [
    "CORS_DEFAULTS",
    "CORSMiddleware",
    "GZipMiddleware",
    "HSTSMiddleware",
    "MiddlewareBase",
    "TrustedHostMiddleware",
    "check_allowed_hosts",
    "cors_options",
]

#: dyne's CORS defaults: restrictive, as Dyne documents them. Browsers may make
#: no cross-origin requests until ``allow_origins`` (or the regex) names them.
CORS_DEFAULTS: dict[str, Any] = {
    "allow_origins": [],
    "allow_origin_regex": None,
    "allow_methods": ["GET"],
    "allow_headers": [],
    "allow_credentials": False,
    "expose_headers": [],
    "max_age": 60,
}
_CORS_EXTRA_KEYS = frozenset({"allow_private_network"})

_STARLETTE = {
    "CORSMiddleware": "starlette.middleware.cors",
    "GZipMiddleware": "starlette.middleware.gzip",
    "TrustedHostMiddleware": "starlette.middleware.trustedhost",
}


def __getattr__(name: str) -> Any:
    if name == "MiddlewareBase":
        from .classes import MiddlewareBase

        return MiddlewareBase
    module_name = _STARLETTE.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dyne.middleware' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)


def cors_options(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``CORS_DEFAULTS`` updated with ``cors_params``; unknown keys are a ``TypeError``."""
    options = dict(CORS_DEFAULTS)
    if params is None:
        return options
    if not isinstance(params, Mapping):
        raise TypeError(f"cors_params must be a dict, got {type(params).__name__}")
    unknown = sorted(set(params) - set(CORS_DEFAULTS) - _CORS_EXTRA_KEYS)
    if unknown:
        known = ", ".join(sorted(set(CORS_DEFAULTS) | _CORS_EXTRA_KEYS))
        raise TypeError(f"Unknown cors_params key(s): {', '.join(unknown)} (known: {known})")
    for key in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        value = params.get(key)
        if isinstance(value, str):
            raise TypeError(f"cors_params[{key!r}] must be a list of strings, not a string")
    if "max_age" in params and (not isinstance(params["max_age"], int)
                                or isinstance(params["max_age"], bool) or params["max_age"] < 0):
        raise TypeError("cors_params['max_age'] must be a non-negative number of seconds")
    options.update(params)
    return options


def check_allowed_hosts(hosts: Iterable[str] | None) -> list[str] | None:
    """Validate ``allowed_hosts`` patterns: exact names, ``*.example.com`` or ``*``."""
    if hosts is None:
        return None
    if isinstance(hosts, str):
        raise TypeError("allowed_hosts must be a list of host names, not a string")
    checked = []
    hosts = list(hosts)
    if not hosts:
        raise ValueError("allowed_hosts is empty, so every request would be refused; list host "
                         "names, or leave it out (or use ['*']) to allow any host")
    for pattern in hosts:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"allowed_hosts entries must be non-empty strings, got {pattern!r}")
        if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*"
                                  and not pattern.startswith("*.")):
            raise ValueError(f"Bad allowed_hosts pattern {pattern!r}: wildcards must be like "
                             "'*.example.com' (or '*' for any host)")
        checked.append(pattern.lower())
    return checked
