"""Endpoint metadata, and the per-route pipeline compiled from it.

Decorators such as ``@input``, ``@output`` or ``@authenticate`` do not wrap the
view. They record what they need on the view's ``EndpointSpec``:

* **steps** run before the view, ordered by phase (route ``before`` hooks,
  then ``PHASE_AUTH``, then ``PHASE_INPUT``...). A step is
  ``async def step(req, resp, kwargs)``; it may add keyword arguments for the
  view to ``kwargs``, raise ``HTTPException``, or fill in ``resp`` (a status or
  a body), which stops the request there.
* **after steps** run after the view returned: ``async def step(req, resp)``.
* **meta** is a dict for documentation and tooling (OpenAPI reads it).

When a route is first used, its handler is compiled once from the route's
hooks and specs: a view with nothing declared is called directly.

Route keyword options that the core does not know (``request_model=``...) are
handed to handlers registered with ``register_route_option``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from functools import cache
from itertools import count
from typing import TYPE_CHECKING, Any, NamedTuple

from . import ext
from .concurrency import is_async_callable, run_sync
from .exceptions import HTTPException

if TYPE_CHECKING:
    from .request import Request
    from .response import Response
    from .routing import Route

__all__ = [
    "NO_DEPENDENCIES_KEY",
    "PHASE_AUTH",
    "PHASE_BEFORE",
    "PHASE_DEFAULT",
    "PHASE_INPUT",
    "PHASE_OUTPUT",
    "EndpointSpec",
    "Metadata",
    "Operation",
    "get_endpoint_spec",
    "inherited_specs",
    "register_route_option",
    "route_operations",
    "websocket_guards",
    "with_inherited",
]

Step = Callable[["Request", "Response", dict[str, Any]], Awaitable[None]]
AfterStep = Callable[["Request", "Response"], Awaitable[None]]
#: ``await handler(req, resp, params)``; returns ``False`` when a step stopped
#: the request before the view ran.
Handler = Callable[["Request", "Response", dict[str, Any]], Awaitable[Any]]

PHASE_BEFORE = 0
PHASE_AUTH = 100
PHASE_INPUT = 200
PHASE_DEFAULT = 500
PHASE_OUTPUT = 100

SPEC_ATTRIBUTE = "__dyne_endpoint__"
#: A view's own handler: ``(view, handler_for)``, where ``handler_for(steps)``
#: gives ``await handler(req, resp, kwargs)``, which does what calling the view
#: with ``kwargs`` and applying its return value would (``steps``: whether
#: pipeline steps may add keyword arguments). A controller's view sets it: its
#: method is then called without a second coroutine in between. The view is
#: recorded with it, so that a wrapper which copied the attribute
#: (``functools.wraps``) is not bypassed.
DIRECT_HANDLER_ATTRIBUTE = "__dyne_direct_handler__"
_sequence = count()


class EndpointSpec:
    """What the decorators on one view declared."""

    __slots__ = ("after", "meta", "steps")

    def __init__(self) -> None:
        self.steps: list[tuple[int, int, Step]] = []
        self.after: list[tuple[int, int, AfterStep]] = []
        #: Metadata keyed by the extension that owns it, e.g. ``"io.inputs"``,
        #: ``"io.output"``, ``"io.expect"``, ``"webhook"``, ``"auth"``; values are
        #: ``Metadata`` records (or lists / dicts of them).
        self.meta: dict[str, Any] = {}

    def add_step(self, step: Step, phase: int = PHASE_DEFAULT) -> None:
        """Run ``step(req, resp, kwargs)`` before the view (lower phases first;
        equal phases in the order the decorators were applied, innermost first)."""
        self.steps.append((phase, next(_sequence), step))

    def add_after(self, step: AfterStep, phase: int = PHASE_DEFAULT) -> None:
        """Run ``step(req, resp)`` after the view returned."""
        self.after.append((phase, next(_sequence), step))

    def __bool__(self) -> bool:
        return bool(self.steps or self.after or self.meta)

    def __repr__(self) -> str:
        return f"<EndpointSpec steps={len(self.steps)} after={len(self.after)} meta={list(self.meta)}>"


class Metadata:
    """Base class of typed endpoint metadata: each declaration records a
    frozen dataclass (``@dataclass(frozen=True, eq=False)``) deriving from
    this, next to the code that produces it (``dyne.ext.io.core.InputMeta``,
    ``dyne.ext.auth.roles.AuthMeta``...), so that readers such as the OpenAPI
    builder are type-checked against it.

    A record also reads like the dict the contract used to be:
    ``record["location"]``, ``record.get("key")``, ``dict(record)``, and it
    equals a dict with the same fields.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def _field_names(self) -> tuple[str, ...]:
        fields: dict[str, Any] = getattr(self, "__dataclass_fields__", {})
        return tuple(fields)

    def __getitem__(self, key: str) -> Any:
        if key in self._field_names():
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self._field_names() else default

    def keys(self) -> tuple[str, ...]:
        return self._field_names()

    def __contains__(self, key: object) -> bool:
        return key in self._field_names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._field_names())

    def __len__(self) -> int:
        return len(self._field_names())

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._field_names()}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Metadata):
            return type(other) is type(self) and other.as_dict() == self.as_dict()
        if isinstance(other, Mapping):
            return dict(other) == self.as_dict()
        return NotImplemented

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in self.as_dict().items())
        return f"{type(self).__name__}({values})"


def get_endpoint_spec(view: Any, create: bool = True, *, scope: bool = False) -> EndpointSpec | None:
    """The ``EndpointSpec`` of a view function (created on first use).

    Decorators call this to record what they need. ``functools.wraps`` copies
    the spec to a wrapper, so decorators that do wrap keep the metadata.
    A decorator applied to a class-based view (the class itself) declares for
    every method of that class and of its subclasses.

    A route group or an application (``dyne.RouteGroup``, ``dyne.App``) has
    a spec too, inherited by each of its routes (``inherited_specs``); only
    decorators that make sense there (``@authenticate``, ``@public``,
    ``@doc(tags=...)``) pass ``scope=True``: any other raises ``TypeError``
    rather than being accepted and doing nothing.
    """
    target = getattr(view, "__func__", view)  # a bound method's function
    if create and not scope and getattr(target, "_dyne_scope", False) is True:
        raise TypeError(f"This decorator applies to views, not to {view!r}: only @authenticate, "
                        "@public, @auth.login_required and @doc(tags=...) can be declared once "
                        "on a route group or an app")
    # The object's own spec only: a class must not share (and extend) its base
    # class's spec, nor an instance its class's. Class-based views gather the
    # specs along the class's MRO when their route is compiled.
    spec = getattr(target, "__dict__", {}).get(SPEC_ATTRIBUTE)
    if spec is None and create:
        spec = EndpointSpec()
        try:
            setattr(target, SPEC_ATTRIBUTE, spec)
        except (AttributeError, TypeError):
            raise TypeError(f"Cannot attach endpoint metadata to {view!r}") from None
    return spec


#: ``meta`` key set by ``@public`` (``dyne.ext.auth``): the view opts out of
#: the authentication its route group or app declares.
PUBLIC_KEY = "auth.public"
#: ``meta`` key set by the ``dependencies=False`` route option: the route does
#: not run the dependencies its route groups and app declare.
NO_DEPENDENCIES_KEY = "injection.no_dependencies"
#: ``meta`` key of a route group's or app's spec: the steps and the ``InputMeta``
#: records that ``dependencies=[...]`` added (``dyne.injection.add_dependencies``),
#: as ``(steps, inputs)``, for the routes that opt out to leave out.
DEPENDENCY_PARTS_KEY = "injection.dependency_parts"


def inherited_specs(route: Any) -> list[EndpointSpec | None]:
    """The specs a route inherits: its app's, then its route groups'
    (outermost first). Read when the route is compiled or documented, so a
    group may be decorated before or after its routes are declared."""
    owner = getattr(route, "app", None)
    groups = getattr(route, "groups", ())
    if owner is None and not groups:
        return []
    return [get_endpoint_spec(scope, False) for scope in (owner, *groups) if scope is not None]


def _without_auth(spec: EndpointSpec) -> EndpointSpec:
    copy = EndpointSpec()
    copy.steps = [step for step in spec.steps if step[0] != PHASE_AUTH]
    copy.after = list(spec.after)
    copy.meta = {key: value for key, value in spec.meta.items() if key != "auth"}
    return copy


def _without_dependencies(spec: EndpointSpec) -> EndpointSpec:
    steps, inputs = spec.meta.get(DEPENDENCY_PARTS_KEY, ((), ()))
    if not steps:
        return spec
    copy = EndpointSpec()
    copy.steps = [step for step in spec.steps if not any(step[2] is own for own in steps)]
    copy.after = list(spec.after)
    copy.meta = {key: value for key, value in spec.meta.items()  # and injection.DEPENDENCIES_KEY:
                 if key not in (DEPENDENCY_PARTS_KEY, "injection.dependencies")}
    kept = [item for item in spec.meta.get("io.inputs", ()) if not any(item is own for own in inputs)]
    if kept:
        copy.meta["io.inputs"] = kept
    else:
        copy.meta.pop("io.inputs", None)
    return copy


def with_inherited(route: Any, specs: Iterable[EndpointSpec | None]) -> list[EndpointSpec | None]:
    """``specs`` (a view's own) preceded by those its route inherits; when
    one of ``specs`` is marked ``@public``, the inherited ones lose their
    authentication (``PHASE_AUTH`` steps and ``meta["auth"]``); when one is
    marked ``dependencies=False``, they lose the dependencies declared with
    ``dependencies=[...]`` (their steps and their documented inputs)."""
    own = list(specs)
    inherited = [spec for spec in inherited_specs(route) if spec]
    if not inherited:
        return own
    if any(spec is not None and spec.meta.get(PUBLIC_KEY) for spec in own):
        inherited = [_without_auth(spec) for spec in inherited]
    if any(spec is not None and spec.meta.get(NO_DEPENDENCIES_KEY) for spec in own):
        inherited = [_without_dependencies(spec) for spec in inherited]
    return [*inherited, *own]


def websocket_guards(specs: Iterable[EndpointSpec | None], path: str) -> list[Callable[..., Any]]:
    """The ``guard(ws)`` hooks of the authentication declared in ``specs``
    (``meta["auth"]`` entries with a ``websocket_guard``), for a websocket
    route. ``TypeError`` for anything else declared there (an ``@input``, a
    backend without websocket support...): it would never run."""
    guards: list[Callable[..., Any]] = []
    for spec in specs:
        if spec is None:
            continue
        entries = spec.meta.get("auth", ())
        guarded = {id(getattr(entry, "step", None)) for entry in entries}
        if spec.after or any(id(step) not in guarded for _, _, step in spec.steps):
            raise TypeError(f"The websocket route {path!r} declares request steps (such as @input "
                            "or a rate limit) that do not run for websocket routes")
        for entry in entries:
            guard = getattr(entry, "websocket_guard", None)
            if guard is None:
                raise TypeError(f"{entry.backend!r} cannot authenticate the websocket route {path!r}; "
                                "use @authenticate with a stateless backend (TokenAuth...)")
            guards.append(guard)
    return guards


# -- Route options -------------------------------------------------------------------

RouteOption = Callable[["Route", Any], None]
#: The names ``route()``/``add_route()`` take themselves.
CORE_ROUTE_KEYWORDS = ("before_request", "include_in_schema", "methods", "name", "static",
                       "websocket")
#: Process-wide default route options, copied into each app's registry when
#: the app is created. Besides these, the options that dyne's own extensions
#: declare (``dyne.ext.ROUTE_OPTIONS``) and that installed packages declare in
#: the ``dyne.route_options`` entry-point group are found when first used.
ROUTE_OPTIONS: dict[str, RouteOption | str] = {
    # The formats req.media() decodes on the route (dyne.bodies).
    "media_formats": "dyne.bodies:route_option",
    # csrf=False exempts the route from CSRF checks (dyne.csrf).
    "csrf": "dyne.csrf:route_option",
    # Hooks after the view, a body limit, a 504 timeout (dyne.route_options).
    "after_request": "dyne.route_options:after_request_option",
    "after": "dyne.route_options:after_request_option",
    "max_body_size": "dyne.route_options:max_body_size_option",
    "timeout": "dyne.route_options:timeout_option",
    # dependencies=False: the route skips its groups' and app's dependencies (dyne.injection).
    "dependencies": "dyne.injection:dependencies_option",
}


def register_route_option(name: str, handler: RouteOption) -> None:
    """Accept ``@app.route(..., name=value)`` in every app created afterwards
    (a process-wide default). Prefer ``app.register_route_option``."""
    _check_option_name(name)
    ROUTE_OPTIONS[name] = handler


def _check_option_name(name: str) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"Route option names are identifiers, got {name!r}")
    if name in CORE_ROUTE_KEYWORDS:
        raise ValueError(f"{name!r} is a keyword of route() itself, not an option")


def _load(target: str) -> RouteOption:
    module_name, _, attr = target.partition(":")
    handler: RouteOption = getattr(importlib.import_module(module_name), attr)
    return handler


@cache
def _entry_point_options() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {entry.name: entry.value for entry in entry_points(group="dyne.route_options")}


def plugin_route_options(name: str | None = None) -> dict[str, str]:
    """Route options declared by packages, as ``"module:function"`` strings:
    dyne's own extensions (``dyne.ext.ROUTE_OPTIONS``), then the
    ``dyne.route_options`` entry points of installed distributions (read
    once, and only when an option is not one of dyne's)."""
    if name is not None and name in ext.ROUTE_OPTIONS:
        return ext.ROUTE_OPTIONS
    return {**_entry_point_options(), **ext.ROUTE_OPTIONS}


class RouteOptions:
    """One app's route options: ``name -> handler(route, value)``, called when a
    route is registered with ``name=value`` (typically adding steps to
    ``route.spec``). Handlers given as ``"module:function"`` strings are
    imported when first used."""

    def __init__(self) -> None:
        self._handlers: dict[str, RouteOption | str] = dict(ROUTE_OPTIONS)

    def register(self, name: str, handler: RouteOption) -> None:
        _check_option_name(name)
        if not callable(handler):
            raise TypeError(f"A route option handler is a callable (route, value), got {handler!r}")
        self._handlers[name] = handler

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._handlers
                                          or name in plugin_route_options(name))

    def names(self) -> list[str]:
        return sorted({*self._handlers, *plugin_route_options()})

    def handler(self, name: str) -> RouteOption:
        """The handler of option ``name``; ``TypeError`` for an unknown one."""
        handler = self._handlers.get(name)
        if handler is None:
            handler = plugin_route_options(name).get(name)
            if handler is None:
                known = ", ".join(sorted({*CORE_ROUTE_KEYWORDS, *self.names()}))
                raise TypeError(f"Unknown route option {name!r} (known: {known})")
        if isinstance(handler, str):
            handler = self._handlers[name] = _load(handler)
        return handler

    def apply(self, route: Route, options: dict[str, Any]) -> None:
        """Hand each of ``options`` to its handler."""
        for name, value in options.items():
            self.handler(name)(route, value)


# -- Signatures ---------------------------------------------------------------------

def check_view_signature(view: Callable[..., Any], param_names: Iterable[str],
                         path: str, skip_self: bool = False) -> None:
    """Fail at registration, not on the first request, when a view cannot take
    ``(req, resp)`` and its path parameters."""
    import inspect

    try:
        signature = inspect.signature(view)
    except (TypeError, ValueError):
        return
    parameters = list(signature.parameters.values())
    if skip_self and parameters:
        parameters = parameters[1:]
    kinds = inspect.Parameter
    accepts_any_keyword = any(p.kind is kinds.VAR_KEYWORD for p in parameters)
    positional = [p for p in parameters if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind is kinds.VAR_POSITIONAL for p in parameters)
    name = getattr(view, "__qualname__", repr(view))
    if len(positional) < 2 and not has_varargs:
        raise TypeError(f"View {name} must accept (req, resp) for route {path!r}")
    if accepts_any_keyword:
        return
    by_name = {p.name: p for p in parameters}
    missing = [param for param in param_names
               if param not in by_name or by_name[param].kind is kinds.POSITIONAL_ONLY]
    if missing:
        wanted = ", ".join(missing)
        raise TypeError(f"View {name} does not accept path parameter(s) {wanted} of route "
                        f"{path!r}; declare them, e.g. def view(req, resp, *, {wanted})")


# -- Compilation --------------------------------------------------------------------

def hook_step(hook: Callable[..., Any]) -> Step:
    """Adapt a ``(req, resp)`` hook, sync or async, into a pipeline step."""
    if is_async_callable(hook):
        async def async_step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            await hook(req, resp)

        return async_step

    async def sync_step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        await run_sync(hook, req, resp)

    return sync_step


def _ordered(specs: Iterable[EndpointSpec | None]) -> tuple[list[Step], list[AfterStep]]:
    steps: list[tuple[int, int, Step]] = []
    after: list[tuple[int, int, AfterStep]] = []
    for spec in specs:
        if spec is not None:
            steps.extend(spec.steps)
            after.extend(spec.after)
    return ([s for _, _, s in sorted(steps, key=lambda item: item[:2])],
            [s for _, _, s in sorted(after, key=lambda item: item[:2])])


def build_pipeline(view: Callable[..., Any], specs: Iterable[EndpointSpec | None],
                   before: Iterable[Callable[..., Any]] = ()) -> Handler:
    """Compile the handler for one view: ``await handler(req, resp, params)``.

    ``view`` is called as ``view(req, resp, **kwargs)``; sync views run in the
    thread pool. A view's return value becomes the body (see
    ``Response.apply_return``).
    """
    steps, after = _ordered(specs)
    steps = [hook_step(hook) for hook in before] + steps
    is_async = is_async_callable(view)

    own = getattr(view, DIRECT_HANDLER_ATTRIBUTE, None)
    handler_for = own[1] if own is not None and own[0] is view else None

    if not steps and not after:
        if handler_for is not None:
            return handler_for(False)  # type: ignore[no-any-return]
        if is_async:
            async def direct_async(req: Request, resp: Response, params: dict[str, Any]) -> None:
                result = await view(req, resp, **params)
                if result is not None:
                    resp.apply_return(result)

            return direct_async

        async def direct_sync(req: Request, resp: Response, params: dict[str, Any]) -> None:
            result = await run_sync(view, req, resp, **params)
            if result is not None:
                resp.apply_return(result)

        return direct_sync

    if handler_for is not None:
        call = handler_for(True)

        async def own_pipeline(req: Request, resp: Response, params: dict[str, Any]) -> Any:
            kwargs = dict(params) if steps else params
            for step in steps:
                await step(req, resp, kwargs)
                if resp.is_set:
                    return False
            await call(req, resp, kwargs)
            for after_step in after:
                await after_step(req, resp)
            return None

        return own_pipeline

    async def pipeline(req: Request, resp: Response, params: dict[str, Any]) -> Any:
        # Steps add keyword arguments: give them a copy, so req.path_params
        # stays the path's parameters. Without steps, nothing writes to it.
        kwargs = dict(params) if steps else params
        for step in steps:
            await step(req, resp, kwargs)
            if resp.is_set:
                return False
        if is_async:
            result = await view(req, resp, **kwargs)
        else:
            result = await run_sync(view, req, resp, **kwargs)
        if result is not None:
            resp.apply_return(result)
        for after_step in after:
            await after_step(req, resp)
        return None

    return pipeline


# -- Operations ------------------------------------------------------------------------

#: The order operations are listed in (OpenAPI's order of a path item).
METHOD_ORDER = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")


class Operation(NamedTuple):
    """One handler of a route and the specs that apply to it.

    ``method`` is the HTTP method it answers (upper case), or ``None`` for a
    handler that answers every method (a class-based view with only
    ``on_request``). ``HEAD`` is
    not listed where ``GET`` answers it. ``view`` is the function that runs:
    the view function, or the class's ``on_<method>`` (or ``on_request``).
    ``specs`` are the (non-empty) ``EndpointSpec`` objects declared for it,
    outermost first: the route's own (route options), the class's along its MRO (bases
    first), the view object's, ``on_request``'s, then the handler's.
    """

    method: str | None
    view: Callable[..., Any]
    specs: tuple[EndpointSpec, ...]


def route_specs(route: Route) -> list[EndpointSpec | None]:
    """The specs that apply to every method of ``route``: the route's own, and
    for a class-based view those declared on the class (along its MRO, bases
    first) and on the view object."""
    specs: list[EndpointSpec | None] = [route.spec]
    if route.is_class or route.is_view_object:
        endpoint = route.endpoint
        owner = endpoint if route.is_class else type(endpoint)
        specs.extend(vars(klass).get(SPEC_ATTRIBUTE) for klass in reversed(owner.__mro__))
        if not route.is_class:
            specs.append(getattr(endpoint, "__dict__", {}).get(SPEC_ATTRIBUTE))
    return specs


def _present(specs: Iterable[EndpointSpec | None]) -> tuple[EndpointSpec, ...]:
    return tuple(spec for spec in specs if spec)


def route_operations(route: Route) -> list[Operation]:
    """What ``route`` answers, one ``Operation`` per handler, in
    ``METHOD_ORDER``: for documentation tools (OpenAPI) and anything else that
    needs to know which declarations apply to which method."""
    endpoint = route.endpoint
    allowed = route.methods
    if not (route.is_class or route.is_view_object):
        specs = _present(with_inherited(route, [route.spec, get_endpoint_spec(endpoint, False)]))
        if allowed is None:
            return [Operation(None, endpoint, specs)]
        return [Operation(method, endpoint, specs) for method in METHOD_ORDER
                if method in allowed and not (method == "HEAD" and "GET" in allowed)]
    owner = endpoint if route.is_class else type(endpoint)
    outer = route_specs(route)
    method_specs = getattr(route, "method_specs", {})
    on_request = getattr(owner, "on_request", None)
    if callable(on_request):
        outer.extend((get_endpoint_spec(on_request, False), method_specs.get("on_request")))
    found: list[Operation] = []
    for method in METHOD_ORDER:
        handler = getattr(owner, f"on_{method.lower()}", None)
        if not callable(handler) or (allowed is not None and method not in allowed):
            continue
        if method == "HEAD" and callable(getattr(owner, "on_get", None)):
            continue
        found.append(Operation(method, handler, _present(
            with_inherited(route, [*outer, get_endpoint_spec(handler, False),
                                   method_specs.get(f"on_{method.lower()}")]))))
    if not found and callable(on_request):
        found.append(Operation(None, on_request, _present(with_inherited(route, outer))))
    return found


def compile_route(route: Route) -> Handler:
    """The handler for an HTTP route: function views directly, class-based views
    through ``on_request`` and ``on_<method>``; route-group after hooks around it."""
    handler: Handler
    if route.is_class or route.is_view_object:
        handler = _class_view_handler(route)
    else:
        handler = build_pipeline(route.endpoint,
                                 with_inherited(route, [route.spec,
                                                        get_endpoint_spec(route.endpoint, False)]),
                                 route.before_hooks())
    timeout = route.spec.meta.get("timeout")
    if timeout is not None:
        from .route_options import with_timeout

        handler = with_timeout(handler, timeout)
    after_hooks = route.after_hooks()
    if not after_hooks:
        return handler
    after_steps = [hook_step(hook) for hook in after_hooks]
    inner = handler

    async def with_after_hooks(req: Request, resp: Response, params: dict[str, Any]) -> Any:
        result = await inner(req, resp, params)
        for step in after_steps:
            await step(req, resp, params)
        return result

    return with_after_hooks


def _method_caller(name: str, is_async: bool) -> Callable[..., Any]:
    """A view that calls method ``name`` of the class-based view instance the
    handler created for this request (kept in the ASGI scope)."""
    if is_async:
        async def call_async(req: Request, resp: Response, **kwargs: Any) -> Any:
            return await getattr(req.scope[_INSTANCE_KEY], name)(req, resp, **kwargs)

        return call_async

    def call_sync(req: Request, resp: Response, **kwargs: Any) -> Any:
        return getattr(req.scope[_INSTANCE_KEY], name)(req, resp, **kwargs)

    return call_sync


_INSTANCE_KEY = "dyne.view_instance"


def _class_view_handler(route: Route) -> Handler:
    """Class-based views: a new instance per request (when a class was
    registered); ``on_request`` runs first for every method, then
    ``on_<method>``; neither present -> 405. Route hooks run once, before
    whichever of the two comes first."""
    endpoint = route.endpoint
    is_class = route.is_class
    owner = endpoint if is_class else type(endpoint)
    has_on_request = callable(getattr(owner, "on_request", None))
    compiled: dict[str, Handler | None] = {}
    allow = ", ".join(sorted(route.declared_methods() | {"OPTIONS"}))
    # The route's own spec and the specs declared on the class (and its
    # bases, and a view object itself) apply to the whole view.
    whole_view = route_specs(route)
    # The plans of the handlers' signatures (dyne.injection), by handler name.
    method_specs = getattr(route, "method_specs", {})

    def pipeline_for(name: str) -> Handler | None:
        if name in compiled:
            return compiled[name]
        function = getattr(owner, name, None)
        handler: Handler | None = None
        if callable(function):
            route_level = name == "on_request" or not has_on_request
            own = [*(whole_view if route_level else ()), get_endpoint_spec(function, False),
                   method_specs.get(name)]
            handler = build_pipeline(
                _method_caller(name, is_async_callable(function)),
                with_inherited(route, own) if route_level else own,
                route.before_hooks() if route_level else (),
            )
        compiled[name] = handler
        return handler

    async def handler(req: Request, resp: Response, params: dict[str, Any]) -> Any:
        method = req.scope["method"].lower()
        on_method = pipeline_for(f"on_{method}")
        if on_method is None and method == "head":
            on_method = pipeline_for("on_get")
        on_request = pipeline_for("on_request") if has_on_request else None
        if on_request is None and on_method is None:
            if method == "options":  # answered for the view, as for function views
                resp.headers["Allow"] = allow
                resp.status_code = 200
                return None
            raise HTTPException(405, headers={"Allow": allow})
        req.scope[_INSTANCE_KEY] = endpoint() if is_class else endpoint
        if on_request is not None and await on_request(req, resp, params) is False:
            return False
        if on_method is not None:
            return await on_method(req, resp, params)
        return None

    return handler
