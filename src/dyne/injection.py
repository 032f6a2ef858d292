"""Handlers that read their signature: parameter markers and dependency injection.

A view keeps dyne's ``(req, resp, *, ...)`` form; its keyword parameters
declare what it needs::

    @app.route("/items/{item_id:int}")
    async def show(req, resp, *, item_id: int, limit: int = 10,
                   token: str = Header(alias="X-Token"), db=Depends(get_db)) -> Item:
        ...

When the route is registered, ``compile_signature`` turns the signature into a
``Plan``, once: which values come from the query, the headers, the cookies,
the body (a model), the path, the form or the uploads, and which providers to
call. The plan's request step is an ordinary ``PHASE_INPUT`` step of the
route's ``EndpointSpec`` (the mechanism of ``@input``), and what it reads is
recorded as ``InputMeta`` in ``meta["io.inputs"]``, so the OpenAPI document
describes it exactly as it describes ``@input``. Validation errors are
``@input``'s 400 ``{"errors": {...}}``. A view that declares nothing compiles
to no plan at all and keeps the direct call of a plain view.

Values are validated with pydantic: the parameters of one location form one
model, built once per route.

``is_model`` tells whether an annotation is a body model (pydantic model,
dataclass, TypedDict); other libraries add their kinds with
``register_model_detector``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .concurrency import is_async_callable, run_sync
from .exceptions import HTTPException

if TYPE_CHECKING:
    from .request import Request
    from .response import Response
    from .routing import Route

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Marker",
    "Path",
    "Plan",
    "Query",
    "UploadFile",
    "add_dependencies",
    "attach_class_view_plans",
    "attach_route_plan",
    "compile_signature",
    "dependencies_option",
    "is_model",
    "register_model_detector",
    "signature_annotations",
]

#: The ASGI scope key of a request's exit stack (generator providers); the
#: application closes it after the response was sent.
CLEANUP_KEY = "dyne.injection.cleanup"
#: The ASGI scope key of a request's provider results (one call per provider).
CONTEXT_KEY = "dyne.injection.context"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a marker without one: the value must be sent.
REQUIRED: Any = _Required()

_CONSTRAINTS = frozenset({
    "gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern",
    "title", "examples", "deprecated", "strict", "allow_inf_nan", "max_digits",
    "decimal_places", "json_schema_extra",
})


class Marker:
    """Where a parameter's value comes from (``Query(...)``, ``Header(...)``...).

    ``default`` (``REQUIRED`` or ``...`` when the value must be sent),
    ``alias`` (the name on the wire), ``description`` (for OpenAPI) and
    pydantic ``Field`` constraints (``ge=``, ``max_length=``, ``pattern=``...).
    """

    __slots__ = ("alias", "constraints", "default", "description")
    #: ``@input``'s location name (``"query"``, ``"headers"``...) or ``"path"``.
    location = ""

    def __init__(self, default: Any = REQUIRED, *, alias: str | None = None,
                 description: str | None = None, **constraints: Any) -> None:
        unknown = sorted(set(constraints) - _CONSTRAINTS)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unknown option(s) {', '.join(unknown)}; "
                            f"known: alias, description, {', '.join(sorted(_CONSTRAINTS))}")
        if alias is not None and (not isinstance(alias, str) or not alias):
            raise TypeError(f"{type(self).__name__}(alias=...) must be a non-empty string")
        self.default = REQUIRED if default is ... else default
        self.alias = alias
        self.description = description
        self.constraints = constraints

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def __repr__(self) -> str:
        shown = "" if self.required else repr(self.default)
        return f"{type(self).__name__[:-6]}({shown})"


class QueryMarker(Marker):
    __slots__ = ()
    location = "query"


class HeaderMarker(Marker):
    __slots__ = ()
    location = "headers"


class CookieMarker(Marker):
    __slots__ = ()
    location = "cookies"


class PathMarker(Marker):
    __slots__ = ()
    location = "path"


class BodyMarker(Marker):
    __slots__ = ()
    location = "media"


class FormMarker(Marker):
    __slots__ = ()
    location = "form"


class FileMarker(Marker):
    __slots__ = ()
    location = "files"


def Query(default: Any = REQUIRED, *, alias: str | None = None,
          description: str | None = None, **constraints: Any) -> Any:
    """A query-string parameter: ``limit: int = Query(10, ge=1, le=100)``."""
    return QueryMarker(default, alias=alias, description=description, **constraints)


def Header(default: Any = REQUIRED, *, alias: str | None = None,
           description: str | None = None, **constraints: Any) -> Any:
    """A request header, case-insensitive; ``x_token`` also reads ``X-Token``."""
    return HeaderMarker(default, alias=alias, description=description, **constraints)


def Cookie(default: Any = REQUIRED, *, alias: str | None = None,
           description: str | None = None, **constraints: Any) -> Any:
    """A cookie sent by the client."""
    return CookieMarker(default, alias=alias, description=description, **constraints)


def Path(default: Any = REQUIRED, *, alias: str | None = None,
         description: str | None = None, **constraints: Any) -> Any:
    """A path parameter of the route, validated (``item_id: int = Path(ge=1)``)."""
    return PathMarker(default, alias=alias, description=description, **constraints)


def Body(default: Any = REQUIRED, *, alias: str | None = None,
         description: str | None = None, **constraints: Any) -> Any:
    """The request body (JSON, YAML, MessagePack or a form), validated by the
    annotation. With several ``Body`` parameters, each is a member of a JSON
    object."""
    return BodyMarker(default, alias=alias, description=description, **constraints)


def Form(default: Any = REQUIRED, *, alias: str | None = None,
         description: str | None = None, **constraints: Any) -> Any:
    """A field of an HTML form (urlencoded or multipart)."""
    return FormMarker(default, alias=alias, description=description, **constraints)


def File(default: Any = REQUIRED, *, alias: str | None = None,
         description: str | None = None, **constraints: Any) -> Any:
    """An uploaded file of a multipart form (``photo: UploadFile = File()``); a
    ``list[UploadFile]`` takes every file sent under the name."""
    return FileMarker(default, alias=alias, description=description, **constraints)


class Depends:
    """A value computed by ``provider`` for the request: ``db = Depends(get_db)``.

    The provider's own parameters are read like a view's (markers, nested
    ``Depends``; ``req``/``resp`` or parameters annotated ``Request`` /
    ``Response`` receive those). Each provider runs once per request (unless
    ``use_cache=False``); sync providers run in the thread pool; a generator
    provider's code after ``yield`` runs once the response has been sent, also
    when the request failed. ``app.dependency_overrides[provider] = other``
    replaces a provider (in tests).
    """

    __slots__ = ("provider", "use_cache")

    def __init__(self, provider: Callable[..., Any], *, use_cache: bool = True) -> None:
        if not callable(provider):
            raise TypeError(f"Depends() needs a callable provider, got {provider!r}")
        self.provider = provider
        self.use_cache = use_cache

    def __repr__(self) -> str:
        return f"Depends({getattr(self.provider, '__qualname__', self.provider)!r})"


def _upload_type() -> type:
    from .ext.io.files import File as UploadedFile

    return UploadedFile


if TYPE_CHECKING:
    from .ext.io.files import File as UploadFile
else:
    def __getattr__(name: str) -> Any:
        if name == "UploadFile":
            return _upload_type()
        raise AttributeError(f"module 'dyne.injection' has no attribute {name!r}")


# -- What is a model ------------------------------------------------------------------

ModelDetector = Callable[[Any], bool]
_MODEL_DETECTORS: list[ModelDetector] = []


def register_model_detector(detector: ModelDetector) -> None:
    """Teach ``is_model`` another kind of model class (msgspec Structs, attrs
    classes...): ``detector(annotation) -> bool``."""
    if not callable(detector):
        raise TypeError(f"A model detector is a callable, got {detector!r}")
    if detector not in _MODEL_DETECTORS:
        _MODEL_DETECTORS.append(detector)


def is_model(annotation: Any) -> bool:
    """Whether ``annotation`` is a model class: a parameter of that type is the
    request body, a return annotation of it is serialized."""
    if not isinstance(annotation, type):
        return False
    if dataclasses.is_dataclass(annotation) or typing.is_typeddict(annotation):
        return True
    if issubclass(annotation, dict) and hasattr(annotation, "__required_keys__"):
        return True  # typing_extensions.TypedDict
    if callable(getattr(annotation, "model_validate", None)) and hasattr(annotation, "model_fields"):
        return True
    from .encoders import model_kind

    if model_kind(annotation) in ("msgspec", "attrs"):  # validated by dyne.ext.io.msgspec
        return True
    return any(detector(annotation) for detector in _MODEL_DETECTORS)


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, _union_type()):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _union_type() -> Any:
    import types

    return types.UnionType


def returns_model(annotation: Any) -> bool:
    """``Item``, ``Item | None``, ``list[Item]``, ``Sequence[Item]``..."""
    annotation = _strip_optional(annotation)
    if is_model(annotation):
        return True
    origin = typing.get_origin(annotation)
    if origin in (list, set, frozenset, tuple, Collection, Iterable,
                  typing.Sequence, typing.MutableSequence) or (
            origin is not None and getattr(origin, "__module__", "") == "collections.abc"):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return len(args) == 1 and is_model(args[0])
    return False


def _is_upload(annotation: Any) -> bool:
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, typing.Sequence) or origin is Collection:
        args = typing.get_args(annotation)
        return bool(args) and _is_upload(args[0])
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, _upload_type()):
        return True
    from starlette.datastructures import UploadFile as StarletteUpload

    return issubclass(annotation, StarletteUpload)


# -- The plan ------------------------------------------------------------------------

ARG_VALUE, ARG_DEPENDENCY, ARG_REQUEST, ARG_RESPONSE = range(4)


class _Leaf:
    """One validated value: a field of a location's model."""

    __slots__ = ("annotation", "field", "location", "marker", "name", "wire")

    def __init__(self, location: str, wire: str, annotation: Any, marker: Marker | None,
                 default: Any, name: str) -> None:
        self.location = location
        self.wire = wire
        self.annotation = annotation
        self.marker = marker
        self.name = name
        self.field = _field_info(wire, marker, default)


def _field_info(wire: str, marker: Marker | None, default: Any) -> Any:
    from pydantic import Field

    options: dict[str, Any] = dict(marker.constraints) if marker is not None else {}
    if marker is not None and marker.description is not None:
        options["description"] = marker.description
    if default is not REQUIRED:
        options["default"] = default
    return Field(alias=wire, **options)


class _Dependency:
    """A provider to call, and where each of its arguments comes from."""

    __slots__ = ("arguments", "kind", "provider", "target", "use_cache")

    def __init__(self, provider: Callable[..., Any], use_cache: bool,
                 target: Callable[..., Any] | None = None) -> None:
        #: The provider as written in ``Depends`` (the key of the per-request cache).
        self.provider = provider
        #: What is called: the provider, or its replacement in ``dependency_overrides``.
        self.target = target if target is not None else provider
        self.use_cache = use_cache
        self.kind = _provider_kind(self.target)
        self.arguments: list[tuple[str, int, Any]] = []


def _provider_kind(provider: Callable[..., Any]) -> str:
    target: Any = provider
    if not (inspect.isfunction(provider) or inspect.ismethod(provider)
            or isinstance(provider, type)) and callable(provider):
        target = type(provider).__call__
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "gen"
    if is_async_callable(provider):
        return "async"
    return "sync"


class _Group:
    """The parameters of one location, validated together by one model."""

    __slots__ = ("fields", "location", "read", "validate")

    def __init__(self, location: str, read: Callable[..., Any], validate: Callable[[Any], Any],
                 fields: tuple[tuple[str, _Leaf], ...]) -> None:
        self.location = location
        self.read = read
        self.validate = validate
        self.fields = fields


class Plan:
    """What to read, validate and call before a handler runs; made once by
    ``compile_signature``. ``await plan.resolve(req, resp, kwargs)`` fills in
    the handler's keyword arguments."""

    __slots__ = ("arguments", "groups", "inputs", "name", "output", "overridden", "path_group",
                 "providers", "recompile", "single_body")

    def __init__(self, name: str) -> None:
        self.name = name
        #: Every provider the plan calls (as written in ``Depends``).
        self.providers: frozenset[Any] = frozenset()
        #: ``recompile(overrides) -> Plan``: the plan with providers replaced.
        self.recompile: Callable[[Mapping[Any, Any]], Plan] | None = None
        #: Plans compiled for ``app.dependency_overrides``, by the overrides that apply.
        self.overridden: dict[tuple[tuple[int, Any], ...], Plan] = {}
        #: ``(parameter, source kind, source)`` of the handler itself.
        self.arguments: list[tuple[str, int, Any]] = []
        self.groups: list[_Group] = []
        #: The one body parameter validated as a whole: ``(leaf, read_body)``,
        #: ``await read_body(req)`` giving the validated value.
        self.single_body: tuple[_Leaf, Callable[[Request], Awaitable[Any]]] | None = None
        self.path_group: _Group | None = None
        #: ``InputMeta`` records for documentation (``meta["io.inputs"]``); typed
        #: path parameters are one record of location ``"path"``.
        self.inputs: list[Any] = []
        #: The return annotation to serialize (``None``: none).
        self.output: Any = None

    def __bool__(self) -> bool:
        return bool(self.arguments or self.output is not None)

    def __repr__(self) -> str:
        return f"<Plan {self.name} arguments={[a[0] for a in self.arguments]}>"

    async def resolve(self, req: Request, resp: Response, kwargs: dict[str, Any],
                      context: _Context | None = None) -> None:
        if context is None:
            # One context per request: providers shared by a route group's
            # dependencies and the view run once.
            scope = req.scope
            context = scope.get(CONTEXT_KEY)
            if context is None:
                context = scope[CONTEXT_KEY] = _Context(req, resp)
            providers = self.providers
            if providers:
                overrides = getattr(req.app, "dependency_overrides", None)
                if overrides and not providers.isdisjoint(overrides):
                    await self._with_overrides(overrides).resolve(req, resp, kwargs, context)
                    return
        values = context.values
        errors: dict[str, list[str]] = {}
        if self.path_group is not None:
            self._validate(self.path_group, req.path_params, values, errors)
        for group in self.groups:
            self._validate(group, await group.read(req), values, errors)
        if self.single_body is not None:
            leaf, read_body = self.single_body
            try:
                values[leaf] = await read_body(req)
            except _input_invalid() as invalid:
                errors.update(invalid.errors)
        if errors:
            raise _input_error(errors)
        for name, kind, source in self.arguments:
            kwargs[name] = await context.value(kind, source)

    def request_step(self) -> Callable[[Request, Response, dict[str, Any]], Awaitable[None]]:
        """The pipeline step filling the handler's keyword arguments: ``resolve``,
        or, for a plan without ``Depends`` (nothing to share with other plans
        or to override), a step compiled from it that writes the validated
        values straight into the arguments (same checks, same errors)."""
        if any(kind == ARG_DEPENDENCY for _, kind, _ in self.arguments):
            return self.resolve
        return _values_step(self)

    def _with_overrides(self, overrides: Mapping[Any, Any]) -> Plan:
        """The plan with ``overrides`` applied (their own parameters read, the
        replaced providers' not), compiled once per set of overrides."""
        applying = {provider: overrides[provider] for provider in self.providers if provider in overrides}
        key = tuple(sorted(((id(p), r) for p, r in applying.items()), key=lambda item: item[0]))
        plan = self.overridden.get(key)
        if plan is None:
            assert self.recompile is not None
            plan = self.overridden[key] = self.recompile(applying)
        return plan

    @staticmethod
    def _validate(group: _Group, raw: Any, values: dict[Any, Any], errors: dict[str, list[str]]) -> None:
        try:
            model = group.validate(raw)
        except _input_invalid() as invalid:
            errors.update(invalid.errors)
            return
        for field, leaf in group.fields:
            values[leaf] = getattr(model, field)


def _values_step(plan: Plan) -> Callable[[Request, Response, dict[str, Any]], Awaitable[None]]:
    """``plan.resolve`` for a plan whose arguments are validated values, the
    request and the response only: each group's fields go to the parameters
    reading them, with no per-request context, value table or awaits per
    argument."""
    names: dict[Any, list[str]] = {}
    constants: list[tuple[str, int]] = []
    for name, kind, source in plan.arguments:
        if kind == ARG_VALUE:
            names.setdefault(source, []).append(name)
        else:
            constants.append((name, kind))

    def targets(group: _Group) -> tuple[tuple[str, str], ...]:
        return tuple((field, name) for field, leaf in group.fields for name in names.get(leaf, ()))

    path = plan.path_group
    path_validate = path.validate if path is not None else None
    path_targets = targets(path) if path is not None else ()
    groups = tuple((group.read, group.validate, targets(group)) for group in plan.groups)
    body = plan.single_body
    body_names = tuple(names.get(body[0], ())) if body is not None else ()
    body_read = body[1] if body is not None else None
    request_names = tuple(name for name, kind in constants if kind == ARG_REQUEST)
    response_names = tuple(name for name, kind in constants if kind == ARG_RESPONSE)
    invalid_type = _input_invalid()

    async def resolve_values(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        errors: dict[str, list[str]] | None = None
        if path_validate is not None:
            try:
                model = path_validate(req.path_params)
            except invalid_type as invalid:
                errors = dict(invalid.errors)
            else:
                for field, name in path_targets:
                    kwargs[name] = getattr(model, field)
        for read, validate, fields in groups:
            try:
                model = validate(await read(req))
            except invalid_type as invalid:
                if errors is None:
                    errors = {}
                errors.update(invalid.errors)
                continue
            for field, name in fields:
                kwargs[name] = getattr(model, field)
        if body_read is not None:
            try:
                value = await body_read(req)
            except invalid_type as invalid:
                if errors is None:
                    errors = {}
                errors.update(invalid.errors)
            else:
                for name in body_names:
                    kwargs[name] = value
        if errors:
            raise _input_error(errors)
        for name in request_names:
            kwargs[name] = req
        for name in response_names:
            kwargs[name] = resp

    return resolve_values


def _input_invalid() -> type[Any]:
    from .ext.io.core import InputInvalid

    return InputInvalid


def _input_error(errors: dict[str, list[str]]) -> HTTPException:
    from .ext.io.core import input_error

    return input_error(errors)


class _Context:
    """One request's validated values and provider results."""

    __slots__ = ("cache", "req", "resp", "values")

    def __init__(self, req: Request, resp: Response) -> None:
        self.req = req
        self.resp = resp
        self.values: dict[Any, Any] = {}
        self.cache: dict[Any, Any] = {}

    async def value(self, kind: int, source: Any) -> Any:
        if kind == ARG_VALUE:
            return self.values[source]
        if kind == ARG_DEPENDENCY:
            return await self.solve(source)
        if kind == ARG_REQUEST:
            return self.req
        return self.resp

    async def solve(self, dependency: _Dependency) -> Any:
        provider = dependency.provider
        cache = self.cache
        if dependency.use_cache and provider in cache:
            return cache[provider]
        kwargs: dict[str, Any] = {}
        for name, arg_kind, source in dependency.arguments:
            kwargs[name] = await self.value(arg_kind, source)
        target, kind = dependency.target, dependency.kind
        if kind == "async":
            result = await target(**kwargs)
        elif kind == "sync":
            result = await run_sync(target, **kwargs)
        else:
            result = await self._enter(target, kind, kwargs)
        if dependency.use_cache:
            cache[provider] = result
        return result

    async def _enter(self, target: Callable[..., Any], kind: str, kwargs: dict[str, Any]) -> Any:
        scope = self.req.scope
        stack: contextlib.AsyncExitStack | None = scope.get(CLEANUP_KEY)
        if stack is None:
            stack = scope[CLEANUP_KEY] = contextlib.AsyncExitStack()
        if kind == "asyncgen":
            return await stack.enter_async_context(contextlib.asynccontextmanager(target)(**kwargs))
        manager = contextlib.contextmanager(target)(**kwargs)
        value = await run_sync(manager.__enter__)

        async def leave(*exc_info: Any) -> bool:
            return bool(await run_sync(manager.__exit__, *exc_info))

        stack.push_async_exit(leave)
        return value


async def run_cleanup(scope: Mapping[str, Any]) -> None:
    """Run the code after ``yield`` of the request's generator providers
    (called by the application once the response was sent). Errors there are
    logged: the response is gone."""
    stack: contextlib.AsyncExitStack | None = scope.get(CLEANUP_KEY)
    if stack is None:
        return
    try:
        await stack.aclose()
    except Exception:
        logging.getLogger("dyne").exception("A dependency's cleanup (after yield) failed")


# -- Compiling ------------------------------------------------------------------------

def _name_of(func: Any) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


class _Unresolved:
    """An annotation written as a string that names nothing importable."""

    __slots__ = ("error", "text")

    def __init__(self, text: str, error: Exception) -> None:
        self.text = text
        self.error = error


def _hints(func: Callable[..., Any], name: str) -> dict[str, Any]:
    """The parameters' annotations, resolved; one that cannot be resolved is
    an ``_Unresolved`` (an error only if the parameter needs its type)."""
    target: Any = func
    if not (inspect.isfunction(func) or inspect.ismethod(func)):
        target = vars(func).get("__init__", func) if isinstance(func, type) else type(func).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    raw: dict[str, Any] = dict(getattr(target, "__annotations__", {}) or {})
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    resolved: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:
                value = eval(value, namespace)  # the function's own annotation
            except Exception as exc:
                value = _Unresolved(value, exc)
        resolved[key] = value
    return resolved


def signature_annotations(func: Callable[..., Any], name: str) -> dict[str, Any]:
    """``func``'s annotations as the engine reads them (strings resolved in
    its module; one that does not resolve is left as a marker object that is
    no type). For code that inspects a handler beside its plan (controllers)."""
    return _hints(func, name)


def _split_annotated(annotation: Any) -> tuple[Any, Marker | Depends | None]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        for extra in extras:
            if isinstance(extra, (Marker, Depends)):
                return base, extra
        return base, None
    return annotation, None


def _is_request_type(annotation: Any) -> bool:
    from .request import Request

    return isinstance(annotation, type) and issubclass(annotation, Request)


def _is_response_type(annotation: Any) -> bool:
    from .response import Response

    return isinstance(annotation, type) and issubclass(annotation, Response)


_PLAIN_PATH_TYPES: tuple[Any, ...] = (str, Any, inspect.Parameter.empty)


def _convertor_type(convertor: Any) -> type | None:
    """The type of every value dyne's own ``int``, ``float`` and ``uuid``
    path convertors give (not a subclass's: it may convert otherwise)."""
    from uuid import UUID

    from .routing import FloatConvertor, IntegerConvertor, UUIDConvertor

    kinds: dict[type, type] = {IntegerConvertor: int, FloatConvertor: float, UUIDConvertor: UUID}
    return kinds.get(type(convertor))


class _Compiler:
    def __init__(self, route_params: Collection[str] | Mapping[str, Any], view_name: str,
                 other_steps: bool = False, overrides: Mapping[Any, Any] | None = None,
                 model_name: str = "") -> None:
        self.model_name = model_name or view_name.rsplit(".", 1)[-1]
        self.overrides = overrides or {}
        self.other_steps = other_steps
        self.route_params = frozenset(route_params)
        #: The type each path parameter's convertor already gives (``{id:int}``
        #: -> ``int``), when ``route_params`` maps names to convertors.
        self.route_types: dict[str, type] = (
            {name: kind for name, convertor in route_params.items()
             if (kind := _convertor_type(convertor)) is not None}
            if isinstance(route_params, Mapping) else {})
        self.view_name = view_name
        self.leaves: dict[tuple[str, str], _Leaf] = {}
        self.body: list[_Leaf] = []
        self.single_body_ok = True
        self.dependencies: dict[Any, _Dependency] = {}
        self.active: list[Any] = []
        self.body_validator: Callable[[Any], Callable[[Any], Any]] | None = None

    def fail(self, where: str, parameter: str, reason: str) -> TypeError:
        return TypeError(f"{where}: parameter {parameter!r} {reason}")

    def arguments(self, func: Callable[..., Any], skip: int, provider: bool,
                  injected: Collection[str] = ()) -> list[tuple[str, int, Any]] | None:
        """The sources of ``func``'s parameters; ``None`` when there is
        nothing to fill (the handler is called as today)."""
        where = (f"Provider {_name_of(func)} (used by {self.view_name})" if provider
                 else f"View {self.view_name}")
        try:
            signature = inspect.signature(func, follow_wrapped=False)
        except (TypeError, ValueError):
            return None
        kinds = inspect.Parameter
        parameters = list(signature.parameters.values())
        positional = 0
        found: list[tuple[str, int, Any]] = []
        hints: dict[str, Any] | None = None
        for parameter in parameters:
            if parameter.kind in (kinds.VAR_POSITIONAL, kinds.VAR_KEYWORD):
                continue
            if parameter.kind is kinds.POSITIONAL_ONLY or (
                    parameter.kind is kinds.POSITIONAL_OR_KEYWORD and positional < skip):
                positional += 1
                if positional > skip and parameter.default is kinds.empty:
                    raise self.fail(where, parameter.name, "is positional-only; make it a keyword")
                continue
            name = parameter.name
            if name in injected:
                continue
            if hints is None:
                hints = _hints(func, where)
            annotation = hints.get(name, kinds.empty)
            annotation, marker = _split_annotated(annotation)
            default = parameter.default
            if isinstance(default, (Marker, Depends)):
                if marker is not None:
                    raise self.fail(where, name, "has a marker both in Annotated[...] and as default")
                marker, default = default, kinds.empty
            source = self.source(where, name, annotation, marker, default, provider)
            if source is not None:
                found.append((name, *source))
        return found

    def source(self, where: str, name: str, annotation: Any, marker: Marker | Depends | None,
               default: Any, provider: bool) -> tuple[int, Any] | None:
        empty = inspect.Parameter.empty
        if isinstance(annotation, _Unresolved):
            if name in self.route_params and marker is None and not provider:
                return None  # filled from the route, as always
            if marker is None and default is not empty:
                return None  # as before: left to its default
            raise self.fail(where, name, f"is annotated {annotation.text!r}, which cannot be "
                                         f"resolved ({annotation.error})")
        if isinstance(marker, Depends):
            return ARG_DEPENDENCY, self.dependency(marker.provider, marker.use_cache)
        if marker is None and (_is_request_type(annotation)
                               or (provider and annotation is empty and name in ("req", "request"))):
            return ARG_REQUEST, None
        if marker is None and (_is_response_type(annotation)
                               or (provider and annotation is empty and name in ("resp", "response"))):
            return ARG_RESPONSE, None
        value_default = REQUIRED if default is empty else default
        if marker is not None:
            if not marker.required:
                if default is not empty:
                    raise self.fail(where, name, "has a default both in its marker and after =")
                value_default = marker.default
            location = marker.location
            wire = marker.alias or name
            if location == "path":
                if wire not in self.route_params:
                    raise self.fail(where, name, f"is marked Path() but the route has no {{{wire}}}")
                return ARG_VALUE, self.leaf("path", wire, annotation, marker, value_default, name, where)
            if annotation is empty:
                annotation = Any
            return ARG_VALUE, self.leaf(location, wire, annotation, marker, value_default, name, where)
        if name in self.route_params:
            if annotation in _PLAIN_PATH_TYPES:
                if not provider:
                    return None  # filled from the route, as always
                return ARG_VALUE, self.leaf("path", name, Any, None, REQUIRED, name, where)
            if not provider and annotation is self.route_types.get(name):
                # ``item_id: int`` on ``{item_id:int}``: the route's convertor
                # gave an int already, which validating would return unchanged.
                return None
            return ARG_VALUE, self.leaf("path", name, annotation, None, REQUIRED, name, where)
        if annotation is empty:
            if default is not empty or self.other_steps:
                # Left to its default, as always; or filled by a pipeline step
                # (a decorator's ``kwargs[name] = ...``) this plan cannot see.
                return None
            raise TypeError(f"{where} has a keyword parameter {name!r} that nothing fills: it is "
                            f"not a path parameter of the route, has no default, no annotation and "
                            f"no marker. Give it a default, a type (a query parameter: "
                            f"{name}: str), a marker (Query(), Header()...) or Depends(provider)")
        if is_model(_strip_optional(annotation)):
            return ARG_VALUE, self.leaf("media", name, annotation, None, value_default, name, where)
        if _is_upload(annotation):
            return ARG_VALUE, self.leaf("files", name, annotation, None, value_default, name, where)
        problem = _unreadable(annotation)
        if problem is not None:
            if self.other_steps:
                return None  # an object a pipeline step injects, not a query parameter
            raise self.fail(where, name, f"is annotated {annotation!r}, which is not a type a query "
                                         f"parameter can have ({problem}); give it a marker, "
                                         f"Depends(provider) or a default")
        return ARG_VALUE, self.leaf("query", name, annotation, None, value_default, name, where)

    def leaf(self, location: str, wire: str, annotation: Any, marker: Marker | None,
             default: Any, name: str, where: str) -> _Leaf:
        if location == "media" and marker is None and any(
                existing.marker is None for existing in self.body):
            raise self.fail(where, name, "is a second body model; a request has one body "
                                         "(use Body() on each part to send them as one object)")
        key = (location, wire.lower() if location in ("headers",) else wire)
        existing = self.leaves.get(key)
        if existing is not None:
            if existing.annotation != annotation or repr(existing.field) != repr(
                    _field_info(wire, marker, default)):
                raise self.fail(where, name, f"reads {location} {wire!r} as another parameter does, "
                                             f"with another type or options")
            return existing
        leaf = _Leaf(location, wire, annotation, marker, default, name)
        self.leaves[key] = leaf
        if location == "media":
            self.body.append(leaf)
        return leaf

    def dependency(self, provider: Callable[..., Any], use_cache: bool) -> _Dependency:
        key = (provider, use_cache)
        found = self.dependencies.get(key)
        if found is not None:
            return found
        if provider in self.active:
            chain = " -> ".join(_name_of(p) for p in [*self.active, provider])
            raise TypeError(f"Dependency cycle in {self.view_name}: {chain}")
        target = self.overrides.get(provider, provider)
        dependency = _Dependency(provider, use_cache, target)
        self.active.append(provider)
        try:
            dependency.arguments = self.arguments(target, 0, provider=True) or []
        finally:
            self.active.pop()
        self.dependencies[key] = dependency
        return dependency

    def build(self, plan: Plan) -> None:
        if not self.leaves:
            return
        from .ext.io.core import InputMeta, location_reader, media_validation, resolve_adapter
        from .ext.io.pydantic.adapter import ADAPTER

        by_location: dict[str, list[_Leaf]] = {}
        for leaf in self.leaves.values():
            by_location.setdefault(leaf.location, []).append(leaf)
        body = by_location.pop("media", [])
        if len(body) == 1 and (body[0].marker is None or body[0].marker.alias is None):
            # One body parameter is the whole body (Body(alias=...): a member of it).
            leaf = body[0]
            # The model's own library validates it (pydantic, or msgspec for
            # Structs and attrs classes), as @input(Model) would.
            adapter = resolve_adapter(leaf.annotation, ADAPTER)
            body_fields = adapter.input_fields(leaf.annotation)
            read_body: Callable[[Request], Awaitable[Any]]
            if self.body_validator is not None:  # a controller's @consumes
                validate = self.body_validator(leaf.annotation)
                read = location_reader("media", body_fields)

                async def read_consumed(req: Request) -> Any:
                    return validate(await read(req))

                read_body = read_consumed
            else:
                # As @input: read and validated in one step (JSON in one pass with pydantic).
                read_body = media_validation(
                    adapter, leaf.annotation, body_fields,
                    ADAPTER.validator(leaf.annotation) if adapter is ADAPTER
                    else adapter.loader(leaf.annotation, "media"), dumped=False)
            plan.single_body = (leaf, read_body)
            plan.inputs.append(InputMeta(schema=leaf.annotation, location="media", key=leaf.name,
                                         library=adapter.library))
        elif body:
            by_location["media"] = body
        for location, leaves in by_location.items():
            model = _group_model(self.model_name, location, leaves)
            fields = tuple((f"p{index}", leaf) for index, leaf in enumerate(leaves))
            group = _Group(location, location_reader(location, ADAPTER.input_fields(model))
                           if location != "path" else _no_reader, ADAPTER.validator(model), fields)
            if location == "path":
                plan.path_group = group
            else:
                plan.groups.append(group)
            plan.inputs.append(InputMeta(schema=model, location=location,
                                         key="_".join(leaf.name for leaf in leaves),
                                         library="pydantic"))


def _unreadable(annotation: Any) -> str | None:
    """Why pydantic cannot validate ``annotation`` (``None`` when it can)."""
    from pydantic import TypeAdapter

    try:
        TypeAdapter(annotation)
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


async def _no_reader(req: Request) -> Any:  # pragma: no cover - path values come from the route
    return req.path_params


_LOCATION_NAMES = {"query": "Query", "headers": "Headers", "cookies": "Cookies", "path": "Path",
                   "media": "Body", "form": "Form", "files": "Files"}


def _group_model(view: str, location: str, leaves: list[_Leaf]) -> Any:
    """The model of one location's parameters, named after the view
    (``create_item`` -> ``CreateItemBody``, as OpenAPI shows a body's)."""
    from pydantic import ConfigDict, create_model

    words = "".join(ch if ch.isalnum() else " " for ch in view).split()
    name = "".join(word[:1].upper() + word[1:] for word in words) + _LOCATION_NAMES[location]
    fields: dict[str, Any] = {f"p{index}": (_field_annotation(leaf), leaf.field)
                              for index, leaf in enumerate(leaves)}
    return create_model(name, __config__=ConfigDict(arbitrary_types_allowed=True), **fields)


def _field_annotation(leaf: _Leaf) -> Any:
    if leaf.location == "files":
        return _file_annotation(leaf.annotation)
    return leaf.annotation


def _file_annotation(annotation: Any) -> Any:
    """Uploads are validated as ``FileField`` (a ``FileField`` subclass as is)."""
    from .ext.io.pydantic.fields import FileField

    optional = _strip_optional(annotation) is not annotation
    inner = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    if origin is not None:
        args = typing.get_args(inner)
        item = args[0] if args and isinstance(args[0], type) and issubclass(args[0], FileField) else FileField
        result: Any = list[item]  # type: ignore[valid-type]
    elif isinstance(inner, type) and issubclass(inner, FileField):
        result = inner
    else:
        result = FileField
    return result | None if optional else result


def compile_signature(func: Callable[..., Any], route_params: Collection[str] | Mapping[str, Any] = (), *,
                      skip: int = 2, injected: Collection[str] = (), provider: bool = False,
                      other_steps: bool = False, name: str | None = None,
                      overrides: Mapping[Any, Any] | None = None,
                      body_validator: Callable[[Any], Callable[[Any], Any]] | None = None,
                      ) -> Plan | None:
    """Compile ``func``'s signature into a ``Plan``, or ``None`` when it
    declares nothing to fill (then call it as dyne always has).

    ``route_params``: the route's path parameters (a mapping of them to their
    convertors lets a parameter annotated with the type its convertor gives
    be passed as the route gave it, unvalidated); ``skip``: the leading
    positional parameters the caller passes itself (``req, resp`` = 2; a
    bound method's ``self`` is not counted); ``injected``: keyword arguments
    something else fills (``@input``'s keys); ``provider``: compile a
    dependency provider (``req``/``resp`` are then requested by name);
    ``other_steps``: pipeline steps that may add keyword arguments run before
    the handler (an unannotated parameter without default is then theirs);
    ``overrides``: providers to replace (``app.dependency_overrides`` is
    applied at request time without it); ``body_validator(annotation) ->
    validate(raw)``: validates the one body parameter instead of the model's
    library (its exceptions propagate as raised; controllers' ``@consumes``).
    Raises ``TypeError`` naming the handler and parameter when a keyword
    parameter cannot be filled.
    """
    view_name = name or _name_of(func)
    compiler = _Compiler(route_params, view_name, other_steps, overrides,
                         getattr(func, "__name__", "") or view_name)
    compiler.body_validator = body_validator
    arguments = compiler.arguments(func, skip, provider, injected)
    plan = Plan(view_name)
    plan.arguments = arguments or []
    if overrides is None and compiler.dependencies:
        plan.providers = frozenset(dependency.provider for dependency in compiler.dependencies.values())

        def recompile(applying: Mapping[Any, Any]) -> Plan:
            compiled = compile_signature(func, route_params, skip=skip, injected=injected,
                                         provider=provider, other_steps=other_steps, name=name,
                                         overrides=applying, body_validator=body_validator)
            assert compiled is not None  # it has dependencies
            return compiled

        plan.recompile = recompile
    if not provider:
        plan.output = _return_annotation(func, view_name)
    compiler.build(plan)
    return plan if plan else None


def _return_annotation(func: Callable[..., Any], name: str) -> Any:
    raw = getattr(func, "__annotations__", {}).get("return") if inspect.isfunction(
        inspect.unwrap(func)) or inspect.ismethod(func) else None
    if raw is None:
        return None
    annotation = _hints(func, name).get("return")
    annotation, _ = _split_annotated(annotation)
    return annotation if annotation is not None and returns_model(annotation) else None


# -- Routes ----------------------------------------------------------------------------

def attach_route_plan(route: Route) -> Plan | None:
    """Compile a function view's signature when its route is registered and
    record the plan on the route's ``EndpointSpec``: the request step, the
    inputs for OpenAPI, and the serialization of a model return annotation.
    Nothing is recorded for a view that declares nothing."""
    from .endpoints import PHASE_INPUT, PHASE_OUTPUT, get_endpoint_spec

    view = route.endpoint
    own = get_endpoint_spec(view, False)
    injected = {item.key for spec in (own, route.spec) if spec is not None
                for item in spec.meta.get("io.inputs", ())}
    specs = [spec for spec in (own, route.spec) if spec is not None]
    other_steps = sum(len(spec.steps) for spec in specs) > len(injected)
    plan = compile_signature(view, route.template.convertors, injected=injected,
                             other_steps=other_steps)
    if plan is None:
        return None
    spec = route.spec
    if plan.arguments:
        spec.add_step(plan.request_step(), PHASE_INPUT)
        if plan.inputs:
            spec.meta.setdefault("io.inputs", []).extend(plan.inputs)
    has_output = any(spec is not None and "io.output" in spec.meta for spec in (own, route.spec))
    if plan.output is not None and not has_output:
        from .ext.io.core import OutputMeta, resolve_adapter
        from .ext.io.pydantic.adapter import ADAPTER

        output_adapter = resolve_adapter(plan.output, ADAPTER)
        dump = output_adapter.dumper(plan.output)

        async def serialize_return(req: Request, resp: Response) -> None:
            # The success body only: a view may answer an error its own way
            # (resp.status_code = 404; resp.media = {...}).
            body = resp.media
            if body is not None and 200 <= resp.status_code < 300:
                resp.media = dump(body)

        spec.meta["io.output"] = OutputMeta(schema=plan.output, status_code=200, header=None,
                                            description=None, library=output_adapter.library,
                                            header_library=None)
        spec.add_after(serialize_return, PHASE_OUTPUT)
    return plan


#: The attribute of a class-based view's route holding the specs compiled
#: from its handlers' signatures (``{"on_get": EndpointSpec}``).
METHOD_SPECS = "method_specs"


def attach_class_view_plans(route: Route) -> None:
    """Compile the signatures of a class-based view's ``on_<method>``
    handlers (``(self, req, resp, *, ...)``; a view object's bound handlers)
    when the route is registered. Each plan is recorded in a spec of the
    route's own (``route.method_specs[name]``), which the handler's pipeline
    and the OpenAPI document read; the class's functions are not touched, so
    one class may serve several routes."""
    from .endpoints import PHASE_INPUT, EndpointSpec, get_endpoint_spec, route_specs

    owner = route.endpoint if route.is_class else type(route.endpoint)
    outer = [spec for spec in route_specs(route) if spec is not None]
    found: dict[str, Any] = {}
    for attr in dir(owner):
        if not attr.startswith("on_"):
            continue
        function = getattr(owner, attr)
        if not inspect.isfunction(function) or isinstance(
                inspect.getattr_static(owner, attr), (staticmethod, classmethod)):
            continue
        own = get_endpoint_spec(function, False)
        specs = [*outer, *((own,) if own is not None else ())]
        injected = {item.key for spec in specs for item in spec.meta.get("io.inputs", ())}
        other_steps = sum(len(spec.steps) for spec in specs) > len(injected)
        plan = compile_signature(function, route.template.convertors, skip=3, injected=injected,
                                 other_steps=other_steps,
                                 name=f"{owner.__qualname__}.{attr}")
        if plan is None or not plan.arguments:
            continue
        spec = EndpointSpec()
        spec.add_step(plan.request_step(), PHASE_INPUT)
        if plan.inputs:
            spec.meta["io.inputs"] = list(plan.inputs)
        found[attr] = spec
    if found:
        setattr(route, METHOD_SPECS, found)


# -- Dependencies of a route group or the app ------------------------------------------

#: ``meta`` key of the providers declared on a route group or app (for repr/tests).
DEPENDENCIES_KEY = "injection.dependencies"


def add_dependencies(scope: Any, dependencies: Iterable[Depends]) -> None:
    """Run ``dependencies`` (``Depends(provider)`` objects) once per request
    before every route of ``scope`` (a ``RouteGroup`` or the ``App``), for
    their effect: a provider that raises ``HTTPException`` answers the
    request; a view asking for the same provider gets the same value (one
    call per request). What their providers read (query, headers...) is
    documented on each operation. ``app.add_dependencies`` /
    ``group.add_dependencies`` and ``app.group(..., dependencies=[...])``
    call this."""
    from .endpoints import DEPENDENCY_PARTS_KEY, PHASE_INPUT, get_endpoint_spec

    declared = list(dependencies)
    if not declared:
        return
    for dependency in declared:
        if not isinstance(dependency, Depends):
            raise TypeError(f"dependencies take Depends(provider) objects, got {dependency!r}")
    label = getattr(scope, "prefix", None)
    words = "".join(ch if ch.isalnum() else " " for ch in (label or type(scope).__name__)).split()
    base = "".join(word[:1].upper() + word[1:] for word in words) or "Root"

    def holder() -> None:  # pragma: no cover - never called, its signature is compiled
        return None

    holder.__name__ = holder.__qualname__ = f"{base}Dependencies"
    holder.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(f"dependency_{index}", inspect.Parameter.KEYWORD_ONLY, default=dependency)
        for index, dependency in enumerate(declared)])
    plan = compile_signature(holder, (), skip=0, name=f"{base} dependencies")
    assert plan is not None  # it has providers
    resolve = plan.resolve

    async def run_dependencies(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        await resolve(req, resp, {})  # the values stay in the request's cache

    spec = get_endpoint_spec(scope, scope=True)
    assert spec is not None
    # After authentication and the groups' own steps, before the view's inputs.
    spec.add_step(run_dependencies, PHASE_INPUT - 1)
    spec.meta[DEPENDENCIES_KEY] = [*spec.meta.get(DEPENDENCIES_KEY, ()), *declared]
    if plan.inputs:
        spec.meta["io.inputs"] = [*spec.meta.get("io.inputs", ()), *plan.inputs]
    # What a route with ``dependencies=False`` leaves out (``with_inherited``).
    steps, inputs = spec.meta.get(DEPENDENCY_PARTS_KEY, ((), ()))
    spec.meta[DEPENDENCY_PARTS_KEY] = ((*steps, run_dependencies), (*inputs, *plan.inputs))


def dependencies_option(route: Route, value: bool) -> None:
    """``@group.route(path, dependencies=False)``: the route does not run the
    dependencies declared on its route groups and app (``dependencies=[...]``,
    ``add_dependencies``), nor documents what they read. ``True`` is the
    default. A view that needs a provider asks for it in its signature."""
    from .endpoints import NO_DEPENDENCIES_KEY

    if not isinstance(value, bool):
        raise TypeError("dependencies= on a route takes False (skip the dependencies of its route "
                        "groups and app) or True; for a dependency of this route alone, ask for it "
                        f"in the view's signature (name=Depends(provider)); got {value!r}")
    route.spec.meta[NO_DEPENDENCIES_KEY] = not value
