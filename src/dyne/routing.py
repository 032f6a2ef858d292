"""Path templates, routes and the router.

Paths use f-string syntax: ``/users/{id:int}``, ``/files/{rest:path}``,
``/items/{name}.json``. Each template is parsed once, when it is registered.

Lookup never scans the whole route table:

* paths without parameters sit in a dict (one lookup);
* the others sit in a tree keyed by path segment, so a request walks one
  branch per segment. At each level a literal segment beats a parameter, and
  parameters are tried most specific first (``int``, ``uuid``, ``float``, then
  ``str``), falling back when a value does not convert. ``path`` parameters are
  tried last.

A path may carry several routes, one per method set. A function registered
without ``methods`` answers GET (and so HEAD); a class-based view without
``methods`` answers the methods it has ``on_<method>`` handlers for (every
standard method when it has ``on_request``). OPTIONS is answered
automatically with the ``Allow`` header when no handler claims it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .endpoints import EndpointSpec, Handler
from .exceptions import NoRouteFound

__all__ = [
    "CONVERTORS",
    "BaseRoute",
    "Convertor",
    "HookScope",
    "PathTemplate",
    "Route",
    "Router",
    "WebSocketRoute",
    "register_convertor",
    "route_path",
]

#: Methods a class-based view with ``on_request`` answers. Anything else (TRACE,
#: CONNECT, made-up verbs) gets a 405.
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: What a function view registered without ``methods=`` answers (HEAD and
#: OPTIONS come with it), as in Flask, Starlette and Dyne 2.0.5.
DEFAULT_METHODS = frozenset({"GET"})


# -- Convertors --------------------------------------------------------------------

class Convertor:
    """Turns one path parameter's text into a Python value and back.

    ``regex`` matches the text (no capturing groups), ``convert`` may raise
    ``ValueError`` to reject it (the router then tries other routes, and
    answers 404 if none fits), ``to_string`` is used by ``url_for``.
    ``priority`` orders parameters at the same position: lower is tried first.
    """

    regex: str = "[^/]+"
    priority: int = 30

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


class StringConvertor(Convertor):
    regex = "[^/]+"
    priority = 40

    def to_string(self, value: Any) -> str:
        text = str(value)
        if not text:
            raise ValueError("a str path parameter cannot be empty")
        return text


class IntegerConvertor(Convertor):
    """Non-negative integers up to 2**63 - 1 (what databases and JSON encoders
    hold); larger values do not match."""

    regex = "[0-9]{1,19}"
    priority = 10

    def convert(self, value: str) -> int:
        number = int(value)
        if number > 9223372036854775807:
            raise ValueError("integer path parameter out of range")
        return number

    def to_string(self, value: Any) -> str:
        number = int(value)
        if number < 0:
            raise ValueError("an int path parameter cannot be negative")
        return str(number)


class FloatConvertor(Convertor):
    regex = r"[0-9]+(?:\.[0-9]+)?"
    priority = 20

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: Any) -> str:
        number = float(value)
        if number < 0 or number != number or number in (float("inf"), float("-inf")):
            raise ValueError("a float path parameter must be a finite, non-negative number")
        return f"{number:.20f}".rstrip("0").rstrip(".")


class UUIDConvertor(Convertor):
    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    priority = 15

    def convert(self, value: str) -> Any:
        from uuid import UUID

        return UUID(value)

    def to_string(self, value: Any) -> str:
        from uuid import UUID

        return str(value if isinstance(value, UUID) else UUID(str(value)))


class PathConvertor(Convertor):
    regex = ".*"
    priority = 100

    def to_string(self, value: Any) -> str:
        return str(value)


CONVERTORS: dict[str, Convertor] = {
    "str": StringConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
    "path": PathConvertor(),
}


def check_convertor(name: str, convertor: Convertor) -> None:
    if not isinstance(convertor, Convertor):
        raise TypeError("register_convertor() needs a dyne.routing.Convertor instance")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"Convertor names are identifiers, got {name!r}")


def register_convertor(name: str, convertor: Convertor) -> None:
    """Make ``{param:name}`` available in the path templates of every app
    created afterwards (a process-wide default). Prefer
    ``app.register_convertor``, which changes one app only."""
    check_convertor(name, convertor)
    CONVERTORS[name] = convertor


# -- Templates ---------------------------------------------------------------------

_PARAM_RE = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Part:
    """A compiled piece of a template: a regex with one group per parameter.

    ``match(text)`` gives the converted parameters, or ``None``. It is chosen
    when the part is compiled, for the shape of the part: a whole segment that
    is one parameter (the common ``{id:int}``) needs neither the regex's groups
    nor a loop over parameters.
    """

    __slots__ = ("convertors", "match", "names", "priority", "regex", "simple_str", "text")

    def __init__(self, text: str, regex: re.Pattern[str], names: tuple[str, ...],
                 convertors: tuple[Convertor, ...], priority: int, simple_str: bool,
                 whole: bool = False) -> None:
        self.text = text
        self.regex = regex
        self.names = names
        self.convertors = convertors
        self.priority = priority
        #: Exactly one plain ``{name}``: any non-empty segment matches.
        self.simple_str = simple_str
        self.match: Callable[[str], dict[str, Any] | None] = self._matcher(whole)

    def _matcher(self, whole: bool) -> Callable[[str], dict[str, Any] | None]:
        fullmatch = self.regex.fullmatch
        if self.simple_str:
            name = self.names[0]

            def match_any_text(value: str) -> dict[str, Any] | None:
                return {name: value} if value else None

            return match_any_text
        if whole:  # the text is one parameter: its value is the whole text
            name, conv = self.names[0], self.convertors[0]

            def match_one(value: str) -> dict[str, Any] | None:
                if fullmatch(value) is None:
                    return None
                try:
                    return {name: conv.convert(value)}
                except (ValueError, TypeError):
                    return None

            return match_one
        names, convertors = self.names, self.convertors

        def match_groups(value: str) -> dict[str, Any] | None:
            found = fullmatch(value)
            if found is None:
                return None
            try:
                return {name: conv.convert(text) for name, conv, text
                        in zip(names, convertors, found.groups(), strict=True)}
            except (ValueError, TypeError):
                return None

        return match_groups


def _compile_part(text: str, route_path: str, known: Mapping[str, Convertor]) -> _Part:
    pattern = []
    names: list[str] = []
    convertors: list[Convertor] = []
    position = 0
    for found in _PARAM_RE.finditer(text):
        name, conv_name = found.group(1), found.group(2) or "str"
        if not _NAME_RE.match(name):
            raise ValueError(f"Invalid parameter name {name!r} in route {route_path!r}")
        convertor = known.get(conv_name)
        if convertor is None:
            raise ValueError(f"Unknown convertor {conv_name!r} in route {route_path!r} "
                             f"(known: {', '.join(sorted(known))})")
        pattern.append(re.escape(text[position:found.start()]))
        pattern.append(f"({convertor.regex})")
        names.append(name)
        convertors.append(convertor)
        position = found.end()
    pattern.append(re.escape(text[position:]))
    literal = len(names) != 1 or _PARAM_RE.fullmatch(text) is None
    if not names:
        priority = 0
    elif literal:
        priority = 5  # literal text around the parameter(s): more specific
    else:
        priority = convertors[0].priority
    simple_str = (len(names) == 1 and not literal and isinstance(convertors[0], StringConvertor)
                  and type(convertors[0]) is StringConvertor)
    return _Part(text, re.compile("".join(pattern)), tuple(names), tuple(convertors),
                 priority, simple_str, whole=len(names) == 1 and not literal)


class PathTemplate:
    """A parsed route path: its parameters, how to match it, how to build it."""

    __slots__ = ("convertors", "known", "param_names", "parts", "path", "tail_index")

    def __init__(self, path: str, known: Mapping[str, Convertor] | None = None) -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"Route paths must start with '/', got {path!r}")
        if path.count("{") != path.count("}"):
            raise ValueError(f"Unbalanced braces in route {path!r}")
        self.path = path
        #: The convertors ``{name:kind}`` may name (the app's, or the defaults).
        self.known = CONVERTORS if known is None else known
        segments = path.split("/")[1:]
        self.parts = [_compile_part(segment, path, self.known) for segment in segments]
        names: list[str] = []
        convertors: dict[str, Convertor] = {}
        self.tail_index: int | None = None
        for index, part in enumerate(self.parts):
            for name, conv in zip(part.names, part.convertors, strict=True):
                if name in convertors:
                    raise ValueError(f"Parameter {name!r} appears twice in route {path!r}")
                names.append(name)
                convertors[name] = conv
                if isinstance(conv, PathConvertor) and self.tail_index is None:
                    self.tail_index = index
        self.param_names = tuple(names)
        self.convertors = convertors

    @property
    def is_static(self) -> bool:
        return not self.param_names

    def tail_regex(self) -> _Part:
        """One part covering every segment from the first ``path`` parameter on."""
        assert self.tail_index is not None
        text = "/".join(part.text for part in self.parts[self.tail_index:])
        return _compile_part(text, self.path, self.known)

    def build(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL path for ``params`` (percent-encoded) and the unused params."""
        missing = [name for name in self.param_names if name not in params]
        if missing:
            raise NoRouteFound(f"Route {self.path!r} needs parameter(s): {', '.join(missing)}")
        remaining = dict(params)

        from urllib.parse import quote

        def substitute(found: re.Match[str]) -> str:
            name = found.group(1)
            conv = self.convertors[name]
            try:
                text = conv.to_string(remaining.pop(name))
            except (ValueError, TypeError) as exc:
                raise NoRouteFound(f"Bad value for parameter {name!r} of route {self.path!r}: {exc}")
            safe = "/" if isinstance(conv, PathConvertor) else ""
            return quote(text, safe=safe)

        return _PARAM_RE.sub(substitute, self.path), remaining

    def __repr__(self) -> str:
        return f"PathTemplate({self.path!r})"


# -- Routes ------------------------------------------------------------------------

def _normalize_methods(methods: Iterable[str] | str | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    normalized = frozenset(m.upper() for m in methods)
    if not normalized:
        raise ValueError("methods= must name at least one HTTP method (or be None for all)")
    return normalized


def endpoint_name(endpoint: Any) -> str:
    name = getattr(endpoint, "__name__", None) or type(endpoint).__name__
    return str(name)


class HookScope(Protocol):
    """What a route reads from the route groups it was declared in
    (``dyne.RouteGroup``): their hooks and name."""

    name: str | None
    before_hooks: list[Callable[..., Any]]
    after_hooks: list[Callable[..., Any]]
    websocket_hooks: list[Callable[..., Any]]


class BaseRoute:
    """What every route shares: a path template, an endpoint and a name.

    ``include_in_schema=False`` keeps the route out of generated API
    documents (OpenAPI); an endpoint object may say so itself with an
    ``include_in_schema = False`` attribute. ``convertors`` are the path
    convertors the template may use (an app passes its own registry).
    """

    websocket = False

    def __init__(self, path: str, endpoint: Any, *, name: str | None = None,
                 include_in_schema: bool | None = None,
                 convertors: Mapping[str, Convertor] | None = None) -> None:
        self.path = path
        self.template = PathTemplate(path, convertors)
        self.endpoint = endpoint
        self.name = name or endpoint_name(endpoint)
        #: A class-based view: a class (instantiated per request) or an instance,
        #: with ``on_get``/``on_post``/``on_request``... methods.
        self.is_class = isinstance(endpoint, type)
        self.is_view_object = not self.is_class and any(
            attr.startswith("on_") for attr in dir(type(endpoint)))
        if include_in_schema is None:
            include_in_schema = bool(getattr(endpoint, "include_in_schema", True))
        #: Whether API documents (OpenAPI) list this route.
        self.include_in_schema = include_in_schema
        #: The ``RouteGroup``s the route was declared in, outermost first: their
        #: hooks run for it (read when the route is compiled, on first use).
        self.groups: tuple[HookScope, ...] = ()
        #: The application the route was registered on (set by ``App.add_route``):
        #: what it declares for all its routes (``@authenticate(...)(app)``) applies.
        self.app: Any = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.template.param_names

    # -- Dyne 2.0.5's names --------------------------------------------------------

    @property
    def route(self) -> str:
        """The path template (Dyne 2.0.5's name for ``path``)."""
        return self.path

    @property
    def endpoint_name(self) -> str:
        """The endpoint's ``__name__`` (its class's name for a view object)."""
        return endpoint_name(self.endpoint)

    @property
    def doc(self) -> str | None:
        """The endpoint's docstring, as written."""
        doc = getattr(self.endpoint, "__doc__", None)
        return doc if isinstance(doc, str) else None

    @property
    def description(self) -> str | None:
        """The endpoint's docstring (same as ``doc``)."""
        return self.doc

    def _identity(self) -> tuple[Any, ...]:
        return (type(self), self.path, self.endpoint)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseRoute):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        try:
            return hash(self._identity())
        except TypeError:  # an unhashable view object
            return hash((type(self), self.path, id(self.endpoint)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r}={self.endpoint!r}>"

    def url(self, **params: Any) -> str:
        path, extra = self.template.build(params)
        if extra:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(extra, doseq=True)}"
        return path


class Route(BaseRoute):
    """An HTTP route. A function registered with ``methods=None`` answers GET
    (``route.methods`` is then ``{"GET"}``); a class-based view with
    ``methods=None`` answers the methods it has handlers for."""

    def __init__(self, path: str, endpoint: Any, *, methods: Iterable[str] | str | None = None,
                 name: str | None = None, before: Iterable[Callable[..., Any]] = (),
                 include_in_schema: bool | None = None,
                 convertors: Mapping[str, Convertor] | None = None) -> None:
        super().__init__(path, endpoint, name=name, include_in_schema=include_in_schema,
                         convertors=convertors)
        normalized = _normalize_methods(methods)
        if normalized is None and not (self.is_class or self.is_view_object):
            normalized = DEFAULT_METHODS
        self.methods = normalized
        self.before = list(before)
        #: Route-level metadata and steps (from route options like ``request_model=``).
        self.spec = EndpointSpec()
        #: The compiled handler, built by the application on first use.
        self.handler: Handler | None = None

    def before_hooks(self) -> list[Callable[..., Any]]:
        """Hooks run before the view: the groups' (outermost first), then the
        route's own ``before_request`` hooks."""
        if not self.groups:
            return self.before
        return [*(hook for group in self.groups for hook in group.before_hooks), *self.before]

    def after_hooks(self) -> list[Callable[..., Any]]:
        """The groups' after-request hooks (innermost first)."""
        return [hook for group in reversed(self.groups) for hook in group.after_hooks]

    def declared_methods(self) -> frozenset[str]:
        """The methods this route's endpoint can answer, for ``Allow`` headers."""
        if self.methods is not None:
            methods = set(self.methods)
        elif (self.is_class or self.is_view_object) and not hasattr(self.endpoint, "on_request"):
            methods = {name[3:].upper() for name in dir(self.endpoint)
                       if name.startswith("on_") and name != "on_request"}
        else:
            return STANDARD_METHODS
        if "GET" in methods:
            methods.add("HEAD")
        return frozenset(methods)

    def _identity(self) -> tuple[Any, ...]:
        return (type(self), self.path, self.endpoint, self.methods)


class WebSocketRoute(BaseRoute):
    """A websocket route."""

    websocket = True
    #: ``idle_timeout`` / ``max_message_size`` given to the route (``dyne.websockets``).
    limits: dict[str, Any] = {}  # replaced per route, never mutated

    def __init__(self, path: str, endpoint: Any, *, name: str | None = None,
                 include_in_schema: bool | None = None,
                 convertors: Mapping[str, Convertor] | None = None) -> None:
        super().__init__(path, endpoint, name=name, include_in_schema=include_in_schema,
                         convertors=convertors)
        #: The hooks run before the endpoint, compiled on first use (``None``: not yet).
        self.hooks: list[Callable[..., Any]] | None = None

    def before_hooks(self) -> list[Callable[..., Any]]:
        """The groups' websocket hooks (outermost first), then the
        websocket guards of the authentication declared on the app, the
        groups and the endpoint (``@authenticate``), each ``hook(ws)``."""
        from .endpoints import get_endpoint_spec, websocket_guards, with_inherited

        hooks = [hook for group in self.groups for hook in group.websocket_hooks]
        specs = with_inherited(self, [get_endpoint_spec(self.endpoint, False)])
        return [*hooks, *websocket_guards(specs, self.path)]


# -- The lookup tree ---------------------------------------------------------------

class RouteSet:
    """All the routes registered on one path template."""

    __slots__ = ("any_methods", "any_route", "by_method", "routes", "websocket")

    def __init__(self) -> None:
        self.by_method: dict[str, Route] = {}
        #: A class-based view registered without ``methods=``, and the methods it answers.
        self.any_route: Route | None = None
        self.any_methods: frozenset[str] = frozenset()
        self.websocket: WebSocketRoute | None = None
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        if route.methods is None:
            if self.any_route is not None:
                raise ValueError(f"Route {route.path!r} already has a class-based view answering "
                                 f"every method it handles ({self.any_route.name!r})")
            self.any_route = route
            self.any_methods = route.declared_methods()
        else:
            taken = sorted(m for m in route.methods if m in self.by_method)
            if taken:
                owner = self.by_method[taken[0]].name
                raise ValueError(f"Route {route.path!r} already has a {', '.join(taken)} "
                                 f"handler ({owner!r})")
            for method in route.methods:
                self.by_method[method] = route
        self.routes.append(route)

    def resolve(self, method: str) -> Route | None:
        """The route answering ``method`` here: one that declared it, else (for
        HEAD) the GET route, else a class-based view that answers it. ``None``:
        405, or the automatic OPTIONS answer."""
        by_method = self.by_method
        route = by_method.get(method)
        if route is not None:
            return route
        if method == "HEAD":
            route = by_method.get("GET")
            if route is not None:
                return route
        any_route = self.any_route
        if any_route is not None and method in self.any_methods:
            return any_route
        return None

    def allowed(self) -> list[str]:
        """Every method some route here answers, for the ``Allow`` header."""
        methods: set[str] = set(self.by_method)
        if "GET" in methods:
            methods.add("HEAD")
        if self.any_route is not None:
            methods |= self.any_route.declared_methods()
        methods.add("OPTIONS")
        return sorted(methods)


class _Node:
    __slots__ = ("dynamic", "leaf", "static", "tails")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: list[tuple[_Part, _Node]] = []
        self.tails: list[tuple[_Part, RouteSet]] = []
        self.leaf: RouteSet | None = None


class _Tree:
    """Static paths in a dict; parameterised ones in a segment tree."""

    def __init__(self) -> None:
        self.static: dict[str, RouteSet] = {}
        self.root = _Node()

    def route_set(self, template: PathTemplate) -> RouteSet:
        if template.is_static:
            return self.static.setdefault(template.path, RouteSet())
        node = self.root
        stop = template.tail_index if template.tail_index is not None else len(template.parts)
        for part in template.parts[:stop]:
            if not part.names:
                node = node.static.setdefault(part.text, _Node())
                continue
            for existing, child in node.dynamic:
                if existing.text == part.text:
                    node = child
                    break
            else:
                child = _Node()
                node.dynamic.append((part, child))
                node.dynamic.sort(key=lambda item: item[0].priority)
                node = child
        if template.tail_index is not None:
            tail = template.tail_regex()
            for existing, route_set in node.tails:
                if existing.text == tail.text:
                    return route_set
            route_set = RouteSet()
            node.tails.append((tail, route_set))
            node.tails.sort(key=lambda item: item[0].priority)
            return route_set
        if node.leaf is None:
            node.leaf = RouteSet()
        return node.leaf

    def match(self, path: str, raw_path: bytes | None = None) -> tuple[RouteSet, dict[str, Any]] | None:
        found = self.static.get(path)
        if found is not None:
            return found, {}
        params: dict[str, Any] = {}
        leaf = _walk(self.root, _segments(path, raw_path), 1, params)
        if leaf is None:
            return None
        return leaf, params


def _segments(path: str, raw_path: bytes | None) -> list[str]:
    """Path segments, decoded one by one when the raw path has an encoded
    slash (``%2F``), so that ``/search/a%2Fb`` reaches ``/search/{term}``."""
    if raw_path is not None and b"%2" in raw_path and (b"%2F" in raw_path or b"%2f" in raw_path):
        from urllib.parse import unquote

        raw = raw_path.decode("latin-1").split("?", 1)[0]
        return [unquote(segment) for segment in raw.split("/")]
    return path.split("/")


def _walk(node: _Node, segments: list[str], index: int, params: dict[str, Any]) -> RouteSet | None:
    if index == len(segments):
        return node.leaf
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1, params)
        if found is not None:
            return found
    for part, child in node.dynamic:
        values = part.match(segment)
        if values is None:
            continue
        found = _walk(child, segments, index + 1, params)
        if found is not None:
            params.update(values)
            return found
    if node.tails:
        rest = "/".join(segments[index:])
        for part, route_set in node.tails:
            values = part.match(rest)
            if values is not None:
                params.update(values)
                return route_set
    return None


# -- Router ------------------------------------------------------------------------

def route_path(scope: Any) -> str:
    """The request path relative to the app: ``path`` without ``root_path``
    (servers such as uvicorn ``--root-path``, and mounting apps, put the
    prefix in both)."""
    path: str = scope["path"]
    root = scope.get("root_path")
    if root and path.startswith(root):
        size = len(root)
        if len(path) == size:
            return "/"
        if path[size] == "/":
            return path[size:]
    return path



class Router:
    """Holds the routes and finds the one for a path.

    ``convertors`` is this router's registry of path convertors, a copy of the
    process-wide defaults (``CONVERTORS``) made when the router is created:
    ``register_convertor`` adds to it without changing other routers.
    """

    def __init__(self) -> None:
        self.convertors: dict[str, Convertor] = dict(CONVERTORS)
        self.routes: list[BaseRoute] = []
        #: The application whose routes these are (set by ``App``).
        self.app: Any = None
        self._http = _Tree()
        self._ws = _Tree()
        #: Whether a websocket route has limits of its own (``dyne.websockets``).
        self.websocket_limits = False
        self._by_name: dict[str, BaseRoute] = {}
        self._by_endpoint: dict[Any, BaseRoute] = {}

    async def trigger_event(self, event_type: str) -> None:
        """Run the app's ``"startup"`` or ``"shutdown"`` handlers (Dyne 2.0.5's
        way for tests to run them: ``await app.router.trigger_event("startup")``)."""
        from .compat import trigger_event

        if self.app is None:
            raise RuntimeError("This router belongs to no App")
        await trigger_event(self.app, event_type)

    def register_convertor(self, name: str, convertor: Convertor) -> None:
        """Make ``{param:name}`` available in the paths of routes added later."""
        check_convertor(name, convertor)
        self.convertors[name] = convertor

    def add(self, route: BaseRoute) -> BaseRoute:
        if isinstance(route, WebSocketRoute):
            route_set = self._ws.route_set(route.template)
            if route_set.websocket is not None:
                raise ValueError(f"A websocket route is already registered on {route.path!r}")
            route_set.websocket = route
            if getattr(route, "limits", None):
                self.websocket_limits = True
        else:
            assert isinstance(route, Route)
            self._http.route_set(route.template).add(route)
        self.routes.append(route)
        self._by_name.setdefault(route.name, route)
        try:
            self._by_endpoint.setdefault(route.endpoint, route)
        except TypeError:  # unhashable endpoint object
            pass
        return route

    def match(self, path: str, raw_path: bytes | None = None
              ) -> tuple[RouteSet, dict[str, Any]] | None:
        """The routes on ``path`` and its converted parameters, or ``None``.
        ``raw_path`` (the undecoded path) lets encoded slashes stay inside a
        parameter."""
        return self._http.match(path, raw_path)

    def match_websocket(self, path: str, raw_path: bytes | None = None
                        ) -> tuple[WebSocketRoute, dict[str, Any]] | None:
        found = self._ws.match(path, raw_path)
        if found is None or found[0].websocket is None:
            return None
        return found[0].websocket, found[1]

    def lookup(self, endpoint: Any) -> BaseRoute:
        """The route registered for a view (function, class or name)."""
        route: BaseRoute | None
        if isinstance(endpoint, str):
            route = self._by_name.get(endpoint)
        else:
            try:
                route = self._by_endpoint.get(endpoint)
            except TypeError:
                route = None
            if route is None:  # a bound method of a class-based view, a wrapped function...
                target = getattr(endpoint, "__func__", None) or getattr(endpoint, "__wrapped__", None)
                if target is not None and target is not endpoint:
                    return self.lookup(target)
        if route is None:
            raise NoRouteFound(f"No route found for endpoint {endpoint!r}. Known names: "
                               f"{', '.join(sorted(self._by_name)) or '(none)'}")
        return route

    def url_for(self, endpoint: Any, **params: Any) -> str:
        """The path of the route for ``endpoint`` with ``params`` filled in
        (percent-encoded); parameters the path does not use become the query string."""
        return self.lookup(endpoint).url(**params)
