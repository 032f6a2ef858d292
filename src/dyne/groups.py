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
from typing import TYPE_CHECKING, Any

from .routing import endpoint_name
from .scaffold import Hook, Scaffold, route_hooks

if TYPE_CHECKING:
    from .app import App
    from .injection import Depends
    from .routing import BaseRoute

__all__ = ["RouteGroup"]


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


class RouteGroup(Scaffold):
    """Routes under a common ``prefix``, with hooks scoped to them.

    :param prefix: path prefix of every route in the group (``"/v1"``).
    :param name: when given, route names become ``"<name>.<route name>"`` (for
        ``url_for``), so two groups can hold views of the same name.
    :param dependencies: ``Depends(provider)`` objects run once per request
        before each of the group's routes (``add_dependencies``).
    """

    def __init__(self, prefix: str = "", *, name: str | None = None,
                 dependencies: Iterable[Depends] = ()) -> None:
        super().__init__()
        self.prefix = _check_prefix(prefix)
        self.name = name
        self._records: list[_Record] = []
        self._children: list[tuple[RouteGroup, str]] = []
        #: Where this group's routes go: (app, prefix before ours, outer groups).
        self._targets: list[tuple[App, str, tuple[RouteGroup, ...]]] = []
        self._routes: list[BaseRoute] = []
        if dependencies:
            from .injection import add_dependencies

            add_dependencies(self, dependencies)

    @property
    def setup_finished(self) -> bool:
        """Whether a route of this group (or of a group nested in it) has
        served a request: it compiled the group's hooks then."""
        return any(getattr(route, "handler", None) is not None or getattr(route, "hooks", None) is not None
                   for route in self._all_routes())

    def _all_routes(self) -> list[BaseRoute]:
        return [*self._routes, *(route for child, _ in self._children for route in child._all_routes())]

    # -- declaring routes --------------------------------------------------------

    def add_route(self, path: str, endpoint: Callable[..., Any] | None = None, *,
                  methods: Iterable[str] | str | None = None, websocket: bool = False,
                  name: str | None = None, before_request: Hook | Iterable[Hook] | None = None,
                  static: bool = False, include_in_schema: bool = True, before: Any = None,
                  **options: Any) -> list[BaseRoute]:
        """Like ``app.add_route``, relative to the group's prefix. Returns the
        routes registered so far (one per app the group is attached to)."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"Route paths must start with '/', got {path!r}")
        hooks = route_hooks(before_request, before, "add_route")
        declared: dict[str, Any] = dict(options)
        if methods is not None:
            declared["methods"] = methods
        if websocket:
            declared["websocket"] = True
        if name is not None:
            declared["name"] = name
        if hooks:
            declared["before_request"] = hooks
        if static:
            declared["static"] = True
        if not include_in_schema:
            declared["include_in_schema"] = False
        record = _Record(path, endpoint, declared)
        self._records.append(record)
        return [self._register(record, app, outer_prefix, chain)
                for app, outer_prefix, chain in self._targets]

    # -- nesting ------------------------------------------------------------------------

    def group(self, prefix: str, *, name: str | None = None,
              dependencies: Iterable[Depends] = ()) -> RouteGroup:
        """A sub-group under this group's prefix."""
        child = RouteGroup(prefix, name=name, dependencies=dependencies)
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
            group.attach(app, outer_prefix + self.prefix + extra, (*chain, self))

    def _ancestry(self) -> set[RouteGroup]:
        found: set[RouteGroup] = set()
        for child, _ in self._children:
            found.add(child)
            found |= child._ancestry()
        return found

    # -- registration -----------------------------------------------------------------

    def attach(self, app: App, prefix: str = "", chain: tuple[RouteGroup, ...] = ()) -> None:
        """Register every route of this group (and its sub-groups) on ``app``
        under ``prefix``, and the routes declared later too. ``chain`` is the
        groups this one is nested in, outermost first. (``app.include_router``
        calls this.)"""
        outer_prefix = _check_prefix(prefix)
        self._targets.append((app, outer_prefix, chain))
        for record in self._records:
            self._register(record, app, outer_prefix, chain)
        for child, extra in self._children:
            child.attach(app, outer_prefix + self.prefix + extra, (*chain, self))

    def _register(self, record: _Record, app: App, outer_prefix: str,
                  chain: tuple[RouteGroup, ...]) -> BaseRoute:
        groups = (*chain, self)
        options = dict(record.options)
        path = join_paths(outer_prefix + self.prefix, record.path)
        names = [group.name for group in groups if group.name]
        if names and not options.get("static"):
            base = options.get("name") or endpoint_name(record.endpoint)
            options["name"] = ".".join([*names, base])
        route = app.add_route(path, record.endpoint, **options)
        route.groups = groups
        self._routes.append(route)
        return route

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes this group registered (on every app it is attached to)."""
        return list(self._routes)

    def __repr__(self) -> str:
        return f"<RouteGroup {self.prefix or '/'!r} routes={len(self._records)}>"
