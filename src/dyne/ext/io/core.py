"""The part of ``@input``, ``@output``, ``@expect`` and ``@webhook`` that does not
depend on the schema library.

The decorators do not wrap views: they record a pipeline step (``@input``), an
after-step (``@output``) and metadata on the view's ``EndpointSpec``, and the
route compiles them into one handler (see ``dyne.endpoints``). Everything that
can be decided at decoration time is: the location reader, the injected
keyword, the schema's validator and the fields it reads. A request then only
reads its location and validates.

A schema library plugs in through a ``SchemaAdapter``
(``dyne.ext.io.pydantic.adapter``, ``dyne.ext.io.marshmallow.adapter``). Each
library's decorators prefer their own adapter but hand a schema of the other
library to that library's adapter, so ``@input(SomePydanticModel)`` works
whichever ``input`` was imported.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dyne.encoders import ModelKind, base_default, model_kind
from dyne.endpoints import PHASE_INPUT, PHASE_OUTPUT, Metadata, Step, get_endpoint_spec
from dyne.exceptions import HTTPException

from .files import File, is_empty_upload, is_upload

if TYPE_CHECKING:
    from dyne.request import Request
    from dyne.response import Response

__all__ = [
    "LOCATIONS",
    "ExpectMeta",
    "InputFields",
    "InputInvalid",
    "InputMeta",
    "ModelKind",
    "OutputMeta",
    "SchemaAdapter",
    "SerializationError",
    "ValidatedData",
    "WebhookMeta",
    "expect",
    "input",
    "input_error",
    "library_of",
    "model_kind",
    "output",
    "webhook",
]

F = TypeVar("F", bound=Callable[..., Any])


# -- The metadata contract (read by documentation tools such as OpenAPI) -------------------

@dataclass(frozen=True, eq=False)
class InputMeta(Metadata):
    """One ``@input``, in ``meta["io.inputs"]`` (a list, top to bottom as written)."""

    #: The schema as given (a class or an instance).
    schema: Any
    #: ``"media"``, ``"query"``, ``"headers"``, ``"cookies"``, ``"form"`` or ``"files"``;
    #: or ``"path"``: the path parameters a view's signature validates
    #: (``item_id: int``), one pydantic model whose fields are aliased to their names.
    location: str
    #: The keyword the validated value is injected as.
    key: str
    #: The library that validates ``schema``: ``"pydantic"`` or ``"marshmallow"``.
    library: str


@dataclass(frozen=True, eq=False)
class OutputMeta(Metadata):
    """The ``@output`` of an endpoint, in ``meta["io.output"]``."""

    schema: Any
    status_code: int
    #: The schema of the response headers, or ``None``.
    header: Any
    description: str | None
    library: str
    #: The library of ``header`` (``None`` without one).
    header_library: str | None


@dataclass(frozen=True, eq=False)
class ExpectMeta(Metadata):
    """One documented response of ``@expect``, in ``meta["io.expect"][status]``
    (``status``: an ``int``, ``"1XX"``-``"5XX"`` or ``"default"``)."""

    schema: Any
    description: str | None
    #: The schema's library, or the decorator's when there is no schema.
    library: str


@dataclass(frozen=True, eq=False)
class WebhookMeta(Metadata):
    """``@webhook``, in ``meta["webhook"]``."""

    name: str

#: Location names accepted by ``@input`` -> the normalized name recorded in metadata.
LOCATIONS: dict[str, str] = {
    "media": "media",
    "query": "query",
    "headers": "headers",
    "header": "headers",
    "cookies": "cookies",
    "cookie": "cookies",
    "form": "form",
    "files": "files",
}
FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
#: Locations whose value is injected as ``data`` by default (the request body).
_BODY_LOCATIONS = frozenset({"media", "form"})
#: The error key for problems with the input as a whole (not one field).
SCHEMA_ERROR_KEY = "_schema"


# -- What views receive ----------------------------------------------------------------

class ValidatedData(dict[str, Any]):
    """Validated input, injected into views: a plain ``dict`` whose keys can
    also be read as attributes (``data["title"]`` and ``data.title``).

    Nested objects are returned the same way (``data.author.name``). Keys that
    collide with ``dict`` methods (``items``, ``keys``, ``pop``...) or are not
    identifiers are read with ``data["items"]``.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"No field {name!r} in the validated data "
                                 f"(fields: {', '.join(map(str, self)) or 'none'})") from None
        if type(value) is dict:
            value = self[name] = ValidatedData(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


# -- Errors -------------------------------------------------------------------------

class InputInvalid(Exception):
    """Raised by an adapter's loader: ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def input_error(errors: dict[str, list[str]]) -> HTTPException:
    """The 400 answer to invalid input: ``{"errors": {"field": ["message", ...]}}``
    (``@input`` and signature parameters alike)."""
    return HTTPException(400, {"errors": errors})


class SerializationError(RuntimeError):
    """``resp.obj`` (or a response header) does not fit the ``@output`` schema:
    a server-side bug, answered with 500 and logged."""


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested error messages (``{"author": {"name": ["..."]}}``, list indexes as
    keys) as one level of dotted paths: ``{"author.name": ["..."]}``."""
    flat: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value):
            for inner in value:
                walk(inner, path)
        elif isinstance(value, (list, tuple)):
            flat.setdefault(path or SCHEMA_ERROR_KEY, []).extend(str(v) for v in value)
        else:
            flat.setdefault(path or SCHEMA_ERROR_KEY, []).append(str(value))

    walk(messages, prefix)
    return flat


# -- The adapter contract -------------------------------------------------------------

@dataclass(frozen=True)
class InputFields:
    """The keys a schema reads (as sent by clients: aliases, data keys) and
    which of them take several values (list fields)."""

    keys: tuple[str, ...]
    multi: frozenset[str]


Loader = Callable[[Any], Any]
Dumper = Callable[[Any], Any]
#: ``load(body: bytes) -> value`` for a JSON body, or ``MALFORMED``.
JsonLoader = Callable[[bytes], Any]


class _Malformed:
    def __repr__(self) -> str:
        return "MALFORMED"


#: What a ``JsonLoader`` returns for a body that is not JSON: the body is then
#: decoded as ``req.media()`` does, for the same 400 answer.
MALFORMED: Any = _Malformed()


class SchemaAdapter(Protocol):
    """What the core needs from a schema library."""

    library: str

    def accepts(self, schema: Any) -> bool:
        """Whether ``schema`` belongs to this library."""

    def input_fields(self, schema: Any) -> InputFields | None:
        """The keys ``schema`` reads, or ``None`` when it cannot tell."""

    def loader(self, schema: Any, location: str) -> Loader:
        """``load(raw) -> value``; raises ``InputInvalid``."""

    # Optional: ``json_loader(schema, *, dumped=True) -> JsonLoader``, which
    # validates a JSON body in one pass (``media_validation`` uses it when present).

    def dumper(self, schema: Any) -> Dumper:
        """``dump(obj) -> JSON-ready data`` for one object or a collection;
        raises ``SerializationError``. A dumper that also takes ``default``
        (``dump(obj, default)``) is given the app's fallback encoder
        (``json_encoders``) for values its library cannot encode."""


_ADAPTER_MODULES = {
    "pydantic": "dyne.ext.io.pydantic.adapter",
    "marshmallow": "dyne.ext.io.marshmallow.adapter",
    "msgspec": "dyne.ext.io.msgspec.adapter",
}
#: Which adapter validates each kind of model (``model_kind``). Dataclasses and
#: TypedDicts are left to the decorator's own library (both validate them).
_KIND_LIBRARY = {"pydantic": "pydantic", "marshmallow": "marshmallow",
                 "msgspec": "msgspec", "attrs": "msgspec"}


def _defined_in(schema: Any, library: str) -> bool:
    cls = schema if isinstance(schema, type) else type(schema)
    return any(base.__module__.split(".", 1)[0] == library for base in getattr(cls, "__mro__", ()))


def library_of(schema: Any) -> str | None:
    """The library that validates ``schema`` when it visibly belongs to one:
    ``"pydantic"``, ``"marshmallow"``, or ``"msgspec"`` (msgspec Structs and
    attrs classes, also inside a type expression such as ``list[Item]``);
    ``None`` for anything else (plain types, dataclasses, TypedDicts). The
    kind of a model is ``model_kind``'s to tell."""
    library = _KIND_LIBRARY.get(model_kind(schema) or "")
    if library is not None:
        return library
    for name in ("pydantic", "marshmallow"):  # other types of theirs (EmailStr...)
        if name in sys.modules and _defined_in(schema, name):
            return name
    if isinstance(schema, Mapping):
        if schema and all(_defined_in(field, "marshmallow") for field in schema.values()):
            return "marshmallow"
        return None
    for arg in typing.get_args(schema):  # list[Item], Item | None, dict[str, Item]...
        if arg is not schema:
            found = library_of(arg)
            if found == "msgspec":
                return found
    return None


def resolve_adapter(schema: Any, preferred: SchemaAdapter) -> SchemaAdapter:
    """The adapter for ``schema``: the other library's when the schema visibly
    belongs to it, else ``preferred``. A schema neither accepts is a
    ``TypeError`` at decoration time."""
    library = library_of(schema)
    adapter = preferred
    if library is not None and library != preferred.library:
        adapter = importlib.import_module(_ADAPTER_MODULES[library]).ADAPTER
    if not adapter.accepts(schema):
        raise TypeError(f"{schema!r} is not a schema dyne can use with {preferred.library}: give a "
                        f"pydantic model (or type), a marshmallow Schema class or instance, "
                        f"a msgspec Struct or an attrs class")
    return adapter


# -- Reading locations ------------------------------------------------------------------

Reader = Callable[["Request"], Awaitable[Any]]


def _query_reader(fields: InputFields | None) -> Reader:
    multi = fields.multi if fields is not None else frozenset()

    async def read_query(req: Request) -> Any:
        params = req.params
        if not multi:
            return params.to_dict()
        return {key: params.getlist(key) if key in multi else params[key] for key in params}

    return read_query


def _header_reader(fields: InputFields | None) -> Reader:
    if fields is None:
        async def read_all_headers(req: Request) -> Any:
            return dict(req.headers.items())

        return read_all_headers
    # Header names are case-insensitive, and a field named ``x_api_key`` also
    # reads ``X-API-Key`` (as FastAPI does). Lookups are precomputed.
    lookup: dict[str, str] = {}
    for key in fields.keys:
        lookup.setdefault(key.lower(), key)
    for key in fields.keys:
        lookup.setdefault(key.lower().replace("_", "-"), key)
    multi = fields.multi
    pairs = tuple(lookup.items())

    async def read_headers(req: Request) -> Any:
        headers = req.headers
        found: dict[str, Any] = {}
        for wire, key in pairs:
            if key not in found and wire in headers:
                found[key] = headers.getlist(wire) if key in multi else headers[wire]
        return found

    return read_headers


def _cookie_reader(fields: InputFields | None) -> Reader:
    keys = fields.keys if fields is not None else None

    async def read_cookies(req: Request) -> Any:
        cookies = req.cookies
        if keys is None:
            return dict(cookies)
        return {key: cookies[key] for key in keys if key in cookies}

    return read_cookies


async def read_form(req: Request, fields: InputFields | None, files_only: bool = False) -> dict[str, Any]:
    """The form as a dict: uploads as ``File``s (left on disk), repeated keys
    as lists for list fields (else the last value). Empty file inputs are left
    out, and so are uploads the schema does not declare (another ``@input``
    may take them); undeclared text fields are the schema's to judge."""
    form = await req.form()
    multi = fields.multi if fields is not None else frozenset()
    known = frozenset(fields.keys) if fields is not None else None
    found: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            if files_only:
                continue
            item: Any = value
        elif is_upload(value):
            if is_empty_upload(value) or (known is not None and key not in known):
                continue
            item = File.from_upload(value)
        else:  # pragma: no cover - FormData holds only str and UploadFile
            item = value
        if key in multi:
            found.setdefault(key, []).append(item)
        else:
            found[key] = item
    return found


def _form_reader(fields: InputFields | None, files_only: bool) -> Reader:
    async def read_form_location(req: Request) -> Any:
        return await read_form(req, fields, files_only)

    return read_form_location


def _media_reader(fields: InputFields | None) -> Reader:
    async def read_media(req: Request) -> Any:
        content_type = req.raw_header(b"content-type")
        # JSON, the common case, goes straight to the decoder.
        if (content_type is not None and not content_type.startswith(b"application/json")
                and req.mimetype in FORM_MIMETYPES):
            return await read_form(req, fields)
        return await req.media()

    return read_media


def media_validation(adapter: Any, schema: Any, fields: InputFields | None, load: Loader, *,
                     dumped: bool = True) -> Reader:
    """``await read(req) -> value``: the body read and validated by ``load``
    (``InputInvalid`` when invalid). A JSON body is validated in one pass,
    without decoding it first, when ``adapter`` can (``json_loader``)."""
    read = _media_reader(fields)
    make_json_loader = getattr(adapter, "json_loader", None)
    if make_json_loader is None:
        async def read_validated(req: Request) -> Any:
            return load(await read(req))

        return read_validated

    load_json: JsonLoader = make_json_loader(schema, dumped=dumped)

    async def read_validated_json(req: Request) -> Any:
        body = await req._json_source()
        if body is not None:
            value = load_json(body)
            if value is not MALFORMED:
                return value
        return load(await read(req))

    return read_validated_json


def location_reader(location: str, fields: InputFields | None) -> Reader:
    """``await reader(req)``: the raw data of ``location`` (normalized name)."""
    if location == "media":
        return _media_reader(fields)
    if location == "query":
        return _query_reader(fields)
    if location == "headers":
        return _header_reader(fields)
    if location == "cookies":
        return _cookie_reader(fields)
    return _form_reader(fields, files_only=location == "files")


def normalize_location(location: str) -> str:
    if not isinstance(location, str) or location.lower() not in LOCATIONS:
        known = ", ".join(repr(name) for name in LOCATIONS)
        raise ValueError(f"Unknown input location {location!r}; use one of {known}")
    return LOCATIONS[location.lower()]


# -- Decorator helpers ----------------------------------------------------------------

def _view_spec(view: Any, decorator: str) -> Any:
    if isinstance(view, type):
        raise TypeError(f"{decorator} decorates view functions and the on_<method> handlers of "
                        f"class-based views, not the class {view.__name__}")
    if not callable(view):
        raise TypeError(f"{decorator} must decorate a view function, got {view!r}")
    return get_endpoint_spec(view)


def _check_accepts_keyword(view: Callable[..., Any], key: str, decorator: str) -> None:
    """Fail at decoration, not on the first request, when the view cannot take
    the keyword argument ``@input`` injects."""
    try:
        parameters = inspect.signature(view).parameters.values()
    except (TypeError, ValueError):
        return
    kinds = inspect.Parameter
    if any(p.kind is kinds.VAR_KEYWORD for p in parameters):
        return
    if any(p.name == key and p.kind is not kinds.POSITIONAL_ONLY for p in parameters):
        return
    name = getattr(view, "__qualname__", repr(view))
    raise TypeError(f"View {name} does not accept the keyword argument {key!r} that {decorator} "
                    f"injects; declare it, e.g. def {getattr(view, '__name__', 'view')}"
                    f"(req, resp, *, {key})")


def _describe(schema: Any) -> str:
    return getattr(schema, "__name__", None) or type(schema).__name__


# -- @input ------------------------------------------------------------------------------

def input(adapter: SchemaAdapter, schema: Any, location: str = "media",
          key: str | None = None) -> Callable[[F], F]:
    """Validate one part of the request with ``schema`` and inject the result.

    ``location``: ``"media"`` (the body, by Content-Type: JSON, YAML,
    MessagePack, or a form), ``"query"``, ``"headers"``/``"header"``,
    ``"cookies"``/``"cookie"``, ``"form"`` or ``"files"``. The view receives
    the validated data as the keyword argument ``key``: by default ``data``
    for the body (``media`` and ``form``) and the location's name otherwise
    (``query``, ``headers``, ``header``...). Invalid input is a 400
    ``{"errors": {"field": ["message", ...]}}``.
    """
    normalized = normalize_location(location)
    if key is None:
        key = "data" if normalized in _BODY_LOCATIONS else location.lower()
    elif not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"@input key must be a valid Python identifier, got {key!r}")
    schema_adapter = resolve_adapter(schema, adapter)
    fields = schema_adapter.input_fields(schema)
    load = schema_adapter.loader(schema, normalized)
    injected = key
    description = f"@input({_describe(schema)}, location={location!r})"
    validate_input: Step
    if normalized == "media":
        # The body: read and validated in one step (JSON in one pass where the library can).
        read_validated = media_validation(schema_adapter, schema, fields, load)

        async def validate_body(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            try:
                value = await read_validated(req)
            except InputInvalid as invalid:
                raise input_error(invalid.errors) from None
            kwargs[injected] = ValidatedData(value) if type(value) is dict else value

        validate_input = validate_body
    else:
        read = location_reader(normalized, fields)

        async def validate_location(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            raw = await read(req)
            try:
                value = load(raw)
            except InputInvalid as invalid:
                raise input_error(invalid.errors) from None
            kwargs[injected] = ValidatedData(value) if type(value) is dict else value

        validate_input = validate_location

    def decorator(view: F) -> F:
        spec = _view_spec(view, "@input")
        _check_accepts_keyword(view, injected, description)
        inputs: list[InputMeta] = spec.meta.setdefault("io.inputs", [])
        if any(existing.key == injected for existing in inputs):
            raise ValueError(f"Two @input decorators on {getattr(view, '__qualname__', view)} "
                             f"inject {injected!r}; give one of them another key=")
        # Decorators apply bottom-up; the list reads top to bottom, as written.
        inputs.insert(0, InputMeta(schema=schema, location=normalized, key=injected,
                                   library=schema_adapter.library))
        spec.add_step(validate_input, PHASE_INPUT)
        return view

    return decorator


# -- @output -----------------------------------------------------------------------------

def _check_status(status_code: Any, decorator: str) -> int:
    if isinstance(status_code, bool) or not isinstance(status_code, int) or not 100 <= status_code <= 599:
        raise ValueError(f"{decorator} needs an HTTP status code (100-599), got {status_code!r}")
    return status_code


def output(adapter: SchemaAdapter, schema: Any, status_code: int = 200, header: Any = None,
           description: str | None = None) -> Callable[[F], F]:
    """Serialize ``resp.obj`` with ``schema`` into ``resp.media`` after the view.

    ``resp.obj`` may be one object (a dict, a model, an ORM row, any object with
    the attributes), or a collection (a list, a query result). The response
    gets ``status_code`` unless the view set another status itself. When
    ``resp.obj`` is ``None`` nothing is serialized; a response the view left
    entirely empty becomes ``204 No Content``. ``header`` is a schema the
    response headers must satisfy (checked after the view); ``description``
    documents the response.
    """
    status = _check_status(status_code, "@output")
    if description is not None and not isinstance(description, str):
        raise TypeError(f"@output description must be a string, got {description!r}")
    schema_adapter = resolve_adapter(schema, adapter)
    dump = schema_adapter.dumper(schema)
    check_headers: Callable[[Mapping[str, str]], None] | None = None
    header_library = None
    if header is not None:
        header_adapter = resolve_adapter(header, adapter)
        header_library = header_adapter.library
        check_headers = _header_checker(header_adapter, header)

    takes_default = _takes_default(dump)
    dump_with_default: Callable[..., Any] = dump

    async def serialize_output(req: Request, resp: Response) -> None:
        obj = resp.obj
        if obj is not None:
            if takes_default:
                encoders = getattr(req.app, "encoders", None)
                resp.media = dump_with_default(
                    obj, encoders.default if encoders is not None else base_default)
            else:
                resp.media = dump(obj)
            if status != 200 and resp._status in (None, 200):
                resp._status = status
        elif not resp.is_set:
            resp.status_code = 204
        if check_headers is not None:
            check_headers(resp.headers)

    def decorator(view: F) -> F:
        spec = _view_spec(view, "@output")
        if "io.output" in spec.meta:
            raise ValueError(f"{getattr(view, '__qualname__', view)} already has an @output; "
                             "document other responses with @expect")
        spec.meta["io.output"] = OutputMeta(
            schema=schema, status_code=status, header=header, description=description,
            library=schema_adapter.library, header_library=header_library)
        spec.add_after(serialize_output, PHASE_OUTPUT)
        return view

    return decorator


def _takes_default(dump: Dumper) -> bool:
    """Whether a dumper takes ``default`` (the app's encoder for types its
    library does not know); dyne's adapters do, a third party's may not."""
    try:
        return "default" in inspect.signature(dump).parameters
    except (TypeError, ValueError):
        return False


def _header_checker(adapter: SchemaAdapter, schema: Any) -> Callable[[Mapping[str, str]], None]:
    """Validate response headers against ``schema`` (case-insensitively, known
    fields only). A mismatch is a server bug: ``SerializationError``."""
    fields = adapter.input_fields(schema)
    load = adapter.loader(schema, "headers")
    keys = fields.keys if fields is not None else ()
    name = _describe(schema)

    def check(headers: Mapping[str, str]) -> None:
        lower = {str(k).lower(): v for k, v in headers.items()}
        found: dict[str, Any] = {}
        for key in keys:
            for wire in (key.lower(), key.lower().replace("_", "-")):
                if wire in lower and key not in found:
                    found[key] = lower[wire]
        try:
            load(found if fields is not None else lower)
        except InputInvalid as invalid:
            raise SerializationError(f"Response headers do not match {name}: {invalid.errors}") from None

    return check


# -- @expect -------------------------------------------------------------------------------

def _status_key(status: Any) -> int | str:
    if isinstance(status, str):
        text = status.strip().upper()
        if text == "DEFAULT":
            return "default"
        if len(text) == 3 and text[0] in "12345" and text[1:] == "XX":
            return text
        if text.isdigit():
            status = int(text)
    return _check_status(status, "@expect")


def expect(adapter: SchemaAdapter, responses: Mapping[Any, Any]) -> Callable[[F], F]:
    """Document other responses the endpoint may give (documentation only).

    ``responses`` maps a status code to a description (``401: "Unauthorized"``),
    a schema (``403: ErrorSchema``) or both (``404: (ErrorSchema, "Not found")``).
    """
    if not isinstance(responses, Mapping) or not responses:
        raise TypeError("@expect needs a non-empty dict {status_code: description, schema or "
                        "(schema, description)}")
    normalized: dict[int | str, ExpectMeta] = {}
    for status, value in responses.items():
        code = _status_key(status)
        schema: Any = None
        text: str | None = None
        if isinstance(value, str):
            text = value
        elif isinstance(value, tuple):
            if len(value) != 2 or not (value[1] is None or isinstance(value[1], str)):
                raise TypeError(f"@expect {code}: a tuple must be (schema, description), got {value!r}")
            schema, text = value
        elif value is not None:
            schema = value
        library = adapter.library if schema is None else resolve_adapter(schema, adapter).library
        normalized[code] = ExpectMeta(schema=schema, description=text, library=library)

    def decorator(view: F) -> F:
        spec = _view_spec(view, "@expect")
        documented = spec.meta.setdefault("io.expect", {})
        # An @expect written higher up (applied later) wins for the same status.
        documented.update(normalized)
        return view

    return decorator


# -- @webhook -------------------------------------------------------------------------------

def webhook(view: F | None = None, *, name: str | None = None) -> Any:
    """Mark the endpoint as a webhook receiver (documentation only): ``@webhook``
    names it after the function, ``@webhook(name="...")`` explicitly."""
    if view is not None and not callable(view):
        raise TypeError("Use @webhook or @webhook(name=\"...\"); a name is passed as name=")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(f"@webhook name must be a non-empty string, got {name!r}")

    def decorator(target: F) -> F:
        spec = _view_spec(target, "@webhook")
        spec.meta["webhook"] = WebhookMeta(name=name or target.__name__)
        return target

    if view is not None:
        return decorator(view)
    return decorator


# -- Collections ----------------------------------------------------------------------------

def is_collection(obj: Any) -> bool:
    """Whether ``resp.obj`` is several objects (a list, a query result...)
    rather than one (a dict, a model, an ORM row, a named tuple or row)."""
    if isinstance(obj, (str, bytes, bytearray, Mapping)):
        return False
    if isinstance(obj, (list, set, frozenset)):
        return True
    if hasattr(obj, "_fields") or hasattr(obj, "_mapping"):  # named tuples, database rows
        return False
    if isinstance(obj, tuple):
        return True
    return isinstance(obj, Iterable) and not isinstance(obj, File)


def as_list(obj: Any) -> list[Any]:
    return obj if isinstance(obj, list) else list(obj)
