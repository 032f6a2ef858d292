"""Route groups: routes that share a path prefix and hooks.

``app.group("/v1")`` gives a group attached to the app; a ``RouteGroup``
made on its own (in another module, say) is attached later with
``app.include_router(group, prefix=...)``, like FastAPI's ``APIRouter``::

    import dyne

    users = dyne.RouteGroup("/users")

    @users.route("/{id:int}")
    async def get_user(req, resp, *, id):
        resp.media = {"id": id}

    app = dyne.App()
    app.include_router(users, prefix="/api")     # -> /api/users/{id}

A group's ``before_request`` and ``after_request`` hooks run only for its own
routes (and those of groups included in it), outer groups' first. Groups
nest: ``group.group("/admin")`` or ``group.include_router(other)``.

Routes are registered on the app as they are declared, and hooks are read
when a route is first used, so the order of declarations does not matter
until the app serves requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .routing import RouteShortcuts

if TYPE_CHECKING:
    from .app import App
    from .routing import BaseRoute

__all__ = ["RouteGroup"]

F = TypeVar("F", bound=Callable[..., Any])


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise ValueError(f"Group prefixes must start with '/', got {prefix!r}")
    if "{" in prefix or "}" in prefix:
        raise ValueError(f"Group prefixes cannot have parameters, got {prefix!r}")
    return prefix.rstrip("/")


def join_paths(prefix: str, path: str) -> str:
    """``/v1`` + ``/users`` -> ``/v1/users``; ``/v1`` + ``/`` -> ``/v1``."""
    if not path.startswith("/"):
        raise ValueError(f"Route paths must start with '/', got {path!r}")
    if path == "/":
        return prefix or "/"
    return prefix + path


class _Record:
    __slots__ = ("endpoint", "options", "path")

    def __init__(self, path: str, endpoint: Any, options: dict[str, Any]) -> None:
        self.path = path
        self.endpoint = endpoint
        self.options = options


class RouteGroup(RouteShortcuts):
    """Routes under a common ``prefix``, with hooks scoped to them.

    :param prefix: path prefix of every route in the group (``"/v1"``).
    :param name: when given, route names become ``"<name>.<route name>"`` (for
        ``url_for``), so two groups can hold views of the same name.
    """

    def __init__(self, prefix: str = "", *, name: str | None = None) -> None:
        self.prefix = _check_prefix(prefix)
        self.name = name
        self.before_hooks: list[Callable[..., Any]] = []
        self.after_hooks: list[Callable[..., Any]] = []
        self.websocket_hooks: list[Callable[..., Any]] = []
        self._records: list[_Record] = []
        self._children: list[tuple[RouteGroup, str]] = []
        #: Where this group's routes go: (app, prefix before ours, outer groups).
        self._targets: list[tuple[App, str, tuple[RouteGroup, ...]]] = []
        self._routes: list[BaseRoute] = []

    # -- declaring routes --------------------------------------------------------

    def route(self, path: str | None = None, *, websocket: bool = False,
              before_request: Any = False, **options: Any) -> Callable[[F], F]:
        """Like ``app.route``, relative to the group's prefix.
        ``before_request=True`` registers a hook for the group's routes only."""

        def decorator(endpoint: F) -> F:
            if before_request is True:
                self.before_request(endpoint, websocket=websocket)
                return endpoint
            if path is None:
                raise TypeError("@group.route() needs a path (or before_request=True)")
            hooks = before_request or None
            if hooks is not None:
                options.setdefault("before", hooks)
            self.add_route(path, endpoint, websocket=websocket, **options)
            return endpoint

        return decorator

    def add_route(self, path: str, endpoint: Callable[..., Any] | None = None,
                  **options: Any) -> None:
        """Like ``app.add_route``, relative to the group's prefix."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"Route paths must start with '/', got {path!r}")
        record = _Record(path, endpoint, options)
        self._records.append(record)
        for app, outer_prefix, chain in self._targets:
            self._register(record, app, outer_prefix, chain)

    # -- hooks -------------------------------------------------------------------------

    def before_request(self, func: F | None = None, *, websocket: bool = False) -> Any:
        """A hook run before each route of the group: ``(req, resp)``, or ``(ws)``
        with ``websocket=True``; sync or async. Setting a status or a body
        answers the request without the view. Runs after app-wide hooks."""

        def register(hook: F) -> F:
            (self.websocket_hooks if websocket else self.before_hooks).append(hook)
            return hook

        return register(func) if func is not None else register

    def after_request(self, func: F | None = None) -> Any:
        """A hook run after each route of the group answered (its view returned,
        or a before hook answered): ``(req, resp)``. Errors go to the error
        handlers instead; ``app.after_request`` hooks see every response."""

        def register(hook: F) -> F:
            self.after_hooks.append(hook)
            return hook

        return register(func) if func is not None else register

    # -- nesting ------------------------------------------------------------------------

    def group(self, prefix: str, **options: Any) -> RouteGroup:
        """A sub-group under this group's prefix."""
        child = RouteGroup(prefix, **options)
        self.include_router(child)
        return child

    def include_router(self, group: RouteGroup, *, prefix: str = "") -> None:
        """Include another group's routes under this group (and ``prefix``)."""
        if not isinstance(group, RouteGroup):
            raise TypeError(f"include_router() takes a dyne.RouteGroup, got {group!r}")
        if group is self or self in group._ancestry():
            raise ValueError("A route group cannot include itself")
        extra = _check_prefix(prefix)
        self._children.append((group, extra))
        for app, outer_prefix, chain in self._targets:
            group._attach(app, outer_prefix + self.prefix + extra, (*chain, self))

    def _ancestry(self) -> set[RouteGroup]:
        found: set[RouteGroup] = set()
        for child, _ in self._children:
            found.add(child)
            found |= child._ancestry()
        return found

    # -- registration -----------------------------------------------------------------

    def _attach(self, app: App, prefix: str = "", chain: tuple[RouteGroup, ...] = ()) -> None:
        """Register every route of this group (and its sub-groups) on ``app``,
        and the routes declared later too."""
        outer_prefix = _check_prefix(prefix)
        self._targets.append((app, outer_prefix, chain))
        for record in self._records:
            self._register(record, app, outer_prefix, chain)
        for child, extra in self._children:
            child._attach(app, outer_prefix + self.prefix + extra, (*chain, self))

    def _register(self, record: _Record, app: App, outer_prefix: str,
                  chain: tuple[RouteGroup, ...]) -> None:
        groups = (*chain, self)
        options = dict(record.options)
        path = join_paths(outer_prefix + self.prefix, record.path)
        names = [group.name for group in groups if group.name]
        if names and not options.get("static"):
            from .routing import endpoint_name

            base = options.get("name") or endpoint_name(record.endpoint)
            options["name"] = ".".join([*names, base])
        route = app.add_route(path, record.endpoint, **options)
        route.groups = groups
        self._routes.append(route)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes this group registered (on every app it is attached to)."""
        return list(self._routes)

    def __repr__(self) -> str:
        return f"<RouteGroup {self.prefix or '/'!r} routes={len(self._records)}>"


def iter_hooks(groups: Iterable[RouteGroup], kind: str) -> list[Callable[..., Any]]:
    """The hooks of ``kind`` (``"before"``, ``"after"``, ``"websocket"``) of
    nested groups: outer groups' before hooks first, inner groups' after hooks first."""
    if kind == "before":
        return [hook for group in groups for hook in group.before_hooks]
    if kind == "websocket":
        return [hook for group in groups for hook in group.websocket_hooks]
    return [hook for group in reversed(list(groups)) for hook in group.after_hooks]
