"""``Scaffold``: what ``App`` and ``RouteGroup`` share, in one place.

Both declare routes and hooks the same way (Flask's ``Scaffold`` is the
model): ``route`` and its method shortcuts, ``add_route``, ``before_request``,
``after_request``, ``group`` and ``include_router``, with one signature each.
What differs is where a declaration goes: the app registers a route on its
router, a group records it and replays it on every app it is attached to.

Nothing registered late is silently ignored. Routes may be added at any time
(they compile on first use), and the app's own hooks apply from the next
request. A route compiles its groups' hooks into its pipeline on its first
request, though, so a hook added to a group after one of the group's routes
has served would never run for it: that raises ``SetupFinishedError``.

The decorators return the decorated function unchanged (and are typed so),
so a view stays callable and type-checked as written.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from .groups import RouteGroup
    from .injection import Depends

__all__ = ["Hook", "Scaffold", "SetupFinishedError", "route_hooks"]

F = TypeVar("F", bound=Callable[..., Any])
#: A request hook: ``hook(req, resp)`` (or ``hook(ws)`` for websockets), sync or async.
Hook = Callable[..., Any]


class SetupFinishedError(RuntimeError):
    """A hook was registered where routes that have already served would
    never run it."""


def route_hooks(before_request: Any, before: Any, where: str) -> list[Hook]:
    """The per-route hooks given as ``before_request=`` (a callable or a list
    of them); ``before=`` is its former spelling, still accepted."""
    if before is not None:
        warnings.warn(f"{where}(before=...) is deprecated: use before_request=... (a callable or "
                      "a list of callables)", DeprecationWarning, stacklevel=3)
        if before_request not in (None, False):
            raise TypeError(f"{where}() takes before_request= or before=, not both")
        before_request = before
    if before_request is None or before_request is False:
        return []
    if before_request is True:
        raise TypeError(f"{where}(before_request=True) registers a hook with @route(); "
                        "give add_route() the hooks themselves")
    if callable(before_request):
        return [before_request]
    hooks = list(before_request)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"before_request= takes callables, got {hook!r}")
    return hooks


class Scaffold:
    """The registration API of ``App`` and ``RouteGroup``.

    Subclasses implement ``add_route``, ``include_router``, ``group`` and
    ``setup_finished``, and may extend ``add_hook``; the rest is here.
    """

    #: Marks the objects decorators may declare on for all their routes
    #: (``@authenticate(...)(group)``; see ``dyne.endpoints.get_endpoint_spec``).
    _dyne_scope = True

    def __init__(self) -> None:
        #: ``hook(req, resp)`` run before the routes (all of the app's, or the group's).
        self.before_hooks: list[Hook] = []
        #: ``hook(req, resp)`` run after them.
        self.after_hooks: list[Hook] = []
        #: ``hook(ws)`` run before the websocket routes.
        self.websocket_hooks: list[Hook] = []

    # -- what subclasses provide -------------------------------------------------------

    @property
    def setup_finished(self) -> bool:
        """Whether hooks added now would be ignored by routes that already
        served (then ``check_setup`` raises)."""
        raise NotImplementedError

    def add_hook(self, kind: str, hook: Hook) -> None:
        """Record ``hook`` as a ``"before"``, ``"after"`` or ``"websocket"`` hook."""
        self.check_setup(f"add a {kind} hook")
        {"before": self.before_hooks, "after": self.after_hooks,
         "websocket": self.websocket_hooks}[kind].append(hook)

    def add_route(self, path: str, endpoint: Callable[..., Any] | None = None, *,
                  methods: Iterable[str] | str | None = None, websocket: bool = False,
                  name: str | None = None, before_request: Hook | Iterable[Hook] | None = None,
                  static: bool = False, include_in_schema: bool = True, before: Any = None,
                  **options: Any) -> Any:
        """Register ``endpoint`` at ``path`` (see ``App.add_route``)."""
        raise NotImplementedError

    def include_router(self, group: RouteGroup, *, prefix: str = "") -> None:
        """Register a ``RouteGroup``'s routes here, under ``prefix``."""
        raise NotImplementedError

    def group(self, prefix: str, *, name: str | None = None,
              dependencies: Iterable[Depends] = ()) -> RouteGroup:
        """A new ``RouteGroup`` under ``prefix``, included here."""
        raise NotImplementedError

    def add_dependencies(self, *dependencies: Depends) -> None:
        """Run each ``Depends(provider)`` once per request before every route
        declared here (and in nested groups), whatever the view asks for:
        ``app.add_dependencies(Depends(verify_key))``. What the providers read
        is documented on each operation (``dyne.injection.add_dependencies``)."""
        from .injection import add_dependencies

        self.check_setup("add dependencies")
        add_dependencies(self, dependencies)

    def check_setup(self, what: str) -> None:
        """Raise ``SetupFinishedError`` when serving has started."""
        if self.setup_finished:
            raise SetupFinishedError(
                f"Cannot {what} on {self!r}: its routes have already served requests and "
                "compiled their hooks, so they would never run it. Declare hooks before the "
                "application serves (at import time, or in an application factory).")

    # -- routes ------------------------------------------------------------------------

    def route(self, path: str | None = None, *, methods: Iterable[str] | str | None = None,
              websocket: bool = False, before_request: bool | Hook | Iterable[Hook] | None = None,
              name: str | None = None, before: Any = None, **options: Any) -> Callable[[F], F]:
        """Register a view for ``path``.

        ``methods`` limits the route to those HTTP methods (405 otherwise); by
        default a function answers GET (and HEAD, OPTIONS), a class-based view the
        methods it has handlers for. ``websocket=True`` makes it a
        websocket route. ``before_request=True`` registers the function as a
        hook run before every request (of the app, or of the group; ``path`` is
        then not needed); a callable or a list of them as ``before_request``
        runs only before this route. ``name`` is the name for ``url_for``
        (default: the function's name). Other keyword options go to the
        route-option registry (``request_model=``, ``include_in_schema=``...).
        """
        if before_request is True:
            def register_hook(endpoint: F) -> F:
                return self.before_request(endpoint, websocket=websocket)

            return register_hook
        hooks = route_hooks(before_request, before, "route")

        def decorator(endpoint: F) -> F:
            if path is None:
                raise TypeError("@route() needs a path (or before_request=True)")
            self.add_route(path, endpoint, methods=methods, websocket=websocket, name=name,
                           before_request=hooks or None, **options)
            return endpoint

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.get(path)``: a route for GET (and HEAD)."""
        return self.route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.post(path)``: a route for POST."""
        return self.route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.put(path)``: a route for PUT."""
        return self.route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.patch(path)``: a route for PATCH."""
        return self.route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """``@app.delete(path)``: a route for DELETE."""
        return self.route(path, methods=["DELETE"], **options)

    # -- hooks -------------------------------------------------------------------------

    @overload
    def before_request(self, func: F, *, websocket: bool = False) -> F: ...

    @overload
    def before_request(self, func: None = None, *, websocket: bool = False
                       ) -> Callable[[F], F]: ...

    def before_request(self, func: F | None = None, *, websocket: bool = False
                       ) -> F | Callable[[F], F]:
        """Register a hook run before each request (of the app, or of the
        group's routes, after the app's): ``(req, resp)``, or ``(ws)`` with
        ``websocket=True``; sync or async. Setting a status or a body in it
        answers the request without running the view."""

        def register(hook: F) -> F:
            if not callable(hook):
                raise TypeError(f"before_request() takes a callable, got {hook!r}")
            self.add_hook("websocket" if websocket else "before", hook)
            return hook

        return register(func) if func is not None else register

    @overload
    def after_request(self, func: F) -> F: ...

    @overload
    def after_request(self, func: None = None) -> Callable[[F], F]: ...

    def after_request(self, func: F | None = None) -> F | Callable[[F], F]:
        """Register a hook run after each request: ``(req, resp)``, sync or
        async. The app's see every response, error responses included; a
        group's run after its route answered (errors go to the error
        handlers instead), inner groups first."""

        def register(hook: F) -> F:
            if not callable(hook):
                raise TypeError(f"after_request() takes a callable, got {hook!r}")
            self.add_hook("after", hook)
            return hook

        return register(func) if func is not None else register
