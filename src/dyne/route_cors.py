"""Per-endpoint CORS: ``@cors(...)`` and ``@no_cors`` over the app-wide policy.

The decorators record a ``CORSPolicy`` in the view's endpoint metadata
(``meta["cors"]``). When any route of an app declares one, the app's CORS
layer becomes ``RouteCORSMiddleware`` (``App.builtin_middleware``): a request
carrying an ``Origin`` header is matched to its route (a preflight to the
route of the method it announces in ``Access-Control-Request-Method``) and
answered with that route's policy; routes without one keep the app-wide
policy (``App(cors=True, cors_params=...)``), or none. Apps that declare no
per-route policy keep Starlette's ``CORSMiddleware`` (or nothing), unchanged.

A policy's unset fields are taken from the app-wide ``cors_params`` (dyne's
restrictive defaults when the app has none). Preflights and refusals are
answered exactly as the app-wide layer does (Starlette's ``CORSMiddleware``:
a refused preflight is a ``400``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .endpoints import Metadata, get_endpoint_spec
from .mounts import route_path

if TYPE_CHECKING:
    from .routing import BaseRoute, Router
    from .types import Receive, Scope, Send

__all__ = ["CORSPolicy", "RouteCORSMiddleware", "cors", "declares_route_cors", "no_cors", "route_policy"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class CORSPolicy(Metadata):
    """One route's CORS policy, in ``meta["cors"]``. ``None`` fields come from
    the app-wide ``cors_params``; ``enabled=False`` is ``@no_cors``."""

    enabled: bool = True
    allow_origins: tuple[str, ...] | None = None
    allow_origin_regex: str | None = None
    allow_methods: tuple[str, ...] | None = None
    allow_headers: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    allow_credentials: bool | None = None
    max_age: int | None = None

    def options(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Starlette ``CORSMiddleware`` options: this policy over ``defaults``."""
        merged = dict(defaults)
        for key in ("allow_origins", "allow_origin_regex", "allow_methods", "allow_headers",
                    "expose_headers", "allow_credentials", "max_age"):
            value = getattr(self, key)
            if value is not None:
                merged[key] = list(value) if isinstance(value, tuple) else value
        return merged


def _strings(name: str, value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(f"@cors({name}=...) takes a list of strings, not a string")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"@cors({name}=...) takes strings, got {item!r}")
    return items


def cors(*, allow_origins: Iterable[str] | None = None, allow_methods: Iterable[str] | None = None,
         allow_headers: Iterable[str] | None = None, expose_headers: Iterable[str] | None = None,
         allow_credentials: bool | None = None, max_age: int | None = None,
         allow_origin_regex: str | None = None) -> Callable[[F], F]:
    """This endpoint's CORS policy, instead of the app-wide one (unset
    options are the app's). For function views and controller methods."""
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0):
        raise TypeError("@cors(max_age=...) must be a non-negative number of seconds")
    if allow_credentials is not None and not isinstance(allow_credentials, bool):
        raise TypeError("@cors(allow_credentials=...) must be True or False")
    policy = CORSPolicy(
        allow_origins=_strings("allow_origins", allow_origins),
        allow_origin_regex=allow_origin_regex,
        allow_methods=_strings("allow_methods", allow_methods),
        allow_headers=_strings("allow_headers", allow_headers),
        expose_headers=_strings("expose_headers", expose_headers),
        allow_credentials=allow_credentials, max_age=max_age)

    def decorator(view: F) -> F:
        _declare(view, policy, "@cors")
        return view

    return decorator


_DISABLED = CORSPolicy(enabled=False)


def no_cors(view: F) -> F:
    """No CORS for this endpoint, whatever the app-wide policy: no CORS
    headers are added and preflights get none, so browsers refuse
    cross-origin calls."""
    _declare(view, _DISABLED, "@no_cors")
    return view


def _declare(view: Any, policy: CORSPolicy, decorator: str) -> None:
    if not callable(view):
        raise TypeError(f"{decorator} decorates a view function or a controller method, got {view!r}")
    spec = get_endpoint_spec(view)
    assert spec is not None
    if "cors" in spec.meta:
        raise TypeError(f"{getattr(view, '__qualname__', view)} already has a CORS policy "
                        "(@cors / @no_cors)")
    spec.meta["cors"] = policy


def route_policy(route: BaseRoute) -> CORSPolicy | None:
    """The CORS policy ``route`` declares (its view's, else the route's own)."""
    spec = get_endpoint_spec(route.endpoint, False) if not isinstance(route.endpoint, type) else None
    policy = spec.meta.get("cors") if spec is not None else None
    if policy is None:
        own = getattr(route, "spec", None)
        policy = own.meta.get("cors") if own is not None else None
    return policy if isinstance(policy, CORSPolicy) else None


def declares_route_cors(routes: Iterable[BaseRoute]) -> bool:
    """Whether any HTTP route declares a CORS policy."""
    return any(not route.websocket and route_policy(route) is not None for route in routes)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class RouteCORSMiddleware:
    """CORS by route: each route's ``@cors``/``@no_cors`` policy, else the
    app-wide one (``default``: ``cors_params``, or ``None`` for no CORS)."""

    def __init__(self, app: Callable[..., Any], router: Router,
                 default: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None) -> None:
        from starlette.middleware.cors import CORSMiddleware

        self.app = app
        self.router = router
        self._layer = CORSMiddleware
        #: The options unset fields of a policy take.
        self.defaults = dict(defaults if defaults is not None else default or {})
        self.default = CORSMiddleware(app, **default) if default is not None else None
        self._by_route: dict[int, Callable[..., Any]] = {}

    def _for_route(self, route: BaseRoute) -> Callable[..., Any]:
        layer = self._by_route.get(id(route))
        if layer is None:
            policy = route_policy(route)
            if policy is None:
                layer = self.default or self.app
            elif not policy.enabled:
                layer = self.app
            else:
                layer = self._layer(self.app, **policy.options(self.defaults))
            self._by_route[id(route)] = layer
        return layer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _header(scope, b"origin") is None:
            await (self.default or self.app)(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            announced = _header(scope, b"access-control-request-method")
            if announced is not None:
                method = announced.decode("latin-1").upper()
        found = self.router.match(route_path(scope))
        route = found[0].resolve(method) if found is not None else None
        layer = self._for_route(route) if route is not None else (self.default or self.app)
        await layer(scope, receive, send)
