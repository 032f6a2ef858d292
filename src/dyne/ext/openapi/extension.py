"""``OpenAPI(app, ...)``: serves the API's OpenAPI document and its docs UI.

The document is built from the routes when ``/schema.yml`` (or
``/schema.json``, or ``/docs``' request for it) is asked for, and kept until
the routes, their metadata or the options change: a route added later, or
an ``@expect`` changed, is in the next document served. Normal requests do
not pay anything for it.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dyne.extensions import Extension
from dyne.routing import BaseRoute, Route

from .builder import DocumentOptions, Draft, build, collect, merge_doc
from .ui import CONTENT_SECURITY_POLICY, THEMES, add_assets_route, docs_page

if TYPE_CHECKING:
    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["OpenAPI", "doc"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
#: "Not given" for keyword arguments where None means something.
_UNSET: Any = object()

DEFAULT_VERSION = "3.0.3"
_VERSIONS = re.compile(r"^3\.(0\.[0-4]|1\.[01])$")
_SHORT_VERSIONS = {"3.0": "3.0.3", "3.0.x": "3.0.3", "3.1": "3.1.0", "3.1.x": "3.1.0"}
YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
#: ``OpenAPI`` options that may also come from the app's configuration, and
#: their configuration keys.
CONFIG_KEYS = {
    "title": "OPENAPI_TITLE",
    "version": "OPENAPI_VERSION",
    "description": "OPENAPI_DESCRIPTION",
    "terms_of_service": "OPENAPI_TERMS_OF_SERVICE",
    "openapi": "OPENAPI_SPEC_VERSION",
    "theme": "OPENAPI_THEME",
}


def _handled_errors(app: Any) -> frozenset[int] | None:
    """The error statuses ``app`` answers with handlers of its own (their
    bodies are not dyne's to document); ``None`` when a handler for a base
    class of ``HTTPException`` (``Exception``...) answers them all."""
    from dyne.exceptions import HTTPException

    errors = getattr(app, "errors", None)
    if errors is None:
        return frozenset()
    if any(issubclass(HTTPException, cls) for cls in errors.exception_handlers):
        return None
    return frozenset(errors.status_handlers)


def _check_route(name: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.startswith("/")):
        raise ValueError(f"{name} must be a path starting with '/' (or None to disable it), got {value!r}")
    return value


def check_openapi_version(value: str) -> str:
    """``"3.0.x"``-style versions (``3.0.0`` to ``3.0.4``, ``"3.0"``) and
    ``3.1.0``/``3.1.1`` (``"3.1"``); anything else is a ``ValueError``."""
    text = str(value).strip()
    text = _SHORT_VERSIONS.get(text, text)
    if not _VERSIONS.match(text):
        raise ValueError(f"openapi= must be an OpenAPI 3.0.x or 3.1.x version such as '3.0.3' or "
                         f"'3.1.0', got {value!r}")
    return text


def check_theme(value: str) -> str:
    if value not in THEMES:
        raise ValueError(f"Unknown theme {value!r}; use one of {', '.join(repr(t) for t in THEMES)}")
    return value


def _object(name: str, value: Any, fields: Sequence[str]) -> dict[str, Any] | None:
    """``contact=``/``license=``: a dict of the OpenAPI object's fields, or a
    string (its ``name``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in fields and not str(key).startswith("x-")]
        if unknown:
            raise ValueError(f"{name}= has unknown field(s) {', '.join(map(repr, unknown))}; "
                             f"use {', '.join(fields)}")
        return dict(value)
    raise TypeError(f"{name}= must be a dict or a string, got {value!r}")


#: Operation fields ``@doc(extra=...)`` may set besides ``x-`` extensions (dyne
#: writes the others itself, from the decorators and ``@doc``'s own arguments).
EXTRA_FIELDS = frozenset({"externalDocs", "callbacks", "servers"})
_EXAMPLE_FIELDS = frozenset({"summary", "description", "value", "externalValue"})


def _example_objects(where: str, examples: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name": value}`` -> ``{"name": {"value": value}}``; a dict with a
    ``value`` (or ``externalValue``) and only Example Object fields is kept
    as the Example Object it is."""
    if not isinstance(examples, Mapping) or not examples:
        raise TypeError(f"@doc({where}=...) takes a non-empty dict of example name -> value, "
                        f"got {examples!r}")
    objects: dict[str, Any] = {}
    for name, value in examples.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"@doc({where}=...): example names are non-empty strings, got {name!r}")
        if (isinstance(value, Mapping) and value and set(value) <= _EXAMPLE_FIELDS
                and ("value" in value or "externalValue" in value)):
            objects[name] = dict(value)
        else:
            objects[name] = {"value": value}
    return objects


def doc(*, summary: str | None = None, description: str | None = None,
        tags: Sequence[str] | None = None, operation_id: str | None = None,
        deprecated: bool | None = None, hidden: bool = False,
        examples: Mapping[str, Any] | None = None,
        response_examples: Mapping[int | str, Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None) -> Callable[[F], F]:
    """Document an endpoint beyond what its docstring and decorators say:
    ``summary`` and ``description`` (instead of the docstring's), ``tags``,
    an explicit ``operation_id``, ``deprecated=True``, or ``hidden=True`` to
    leave it out of the document. Goes below ``@app.route``, like ``@input``;
    on a class-based view's method or on the class (for every method).

    ``examples`` are request-body examples, ``{"name": value}`` (or
    ``{"name": {"summary": ..., "value": ...}}``, an OpenAPI Example
    Object); ``response_examples`` the same per status code
    (``{200: {"name": value}}``). ``extra`` adds fields to the operation
    object: ``x-`` extensions, ``externalDocs``, ``callbacks``, ``servers``."""
    if tags is not None and (isinstance(tags, str) or not all(isinstance(t, str) for t in tags)):
        raise TypeError(f"@doc(tags=...) takes a list of tag names, got {tags!r}")
    if operation_id is not None and (not isinstance(operation_id, str) or not operation_id):
        raise ValueError(f"@doc(operation_id=...) must be a non-empty string, got {operation_id!r}")
    body_examples = _example_objects("examples", examples) if examples is not None else None
    per_status: dict[str, Any] | None = None
    if response_examples is not None:
        if not isinstance(response_examples, Mapping) or not response_examples:
            raise TypeError("@doc(response_examples=...) takes a dict of status code -> examples, "
                            f"got {response_examples!r}")
        per_status = {}
        for status, entries in response_examples.items():
            key = str(status)
            if not (key.isdigit() and 100 <= int(key) <= 599) and key not in (
                    "default", "1XX", "2XX", "3XX", "4XX", "5XX"):
                raise ValueError(f"@doc(response_examples=...): {status!r} is not a status code")
            per_status[key] = _example_objects(f"response_examples[{status!r}]", entries)
    fields: dict[str, Any] | None = None
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise TypeError(f"@doc(extra=...) takes a dict of operation fields, got {extra!r}")
        unknown = [key for key in extra
                   if not (isinstance(key, str) and key.startswith("x-")) and key not in EXTRA_FIELDS]
        if unknown:
            raise ValueError(f"@doc(extra=...) may set x- extensions and {', '.join(sorted(EXTRA_FIELDS))}; "
                             f"not {', '.join(map(repr, unknown))} (use @doc's own arguments, or the "
                             "decorators that document it)")
        fields = dict(extra)
    values: dict[str, Any] = {"summary": summary, "description": description,
                              "tags": list(tags) if tags is not None else None,
                              "operation_id": operation_id, "deprecated": deprecated,
                              "hidden": hidden or None, "examples": body_examples,
                              "response_examples": per_status, "extra": fields}
    values = {key: value for key, value in values.items() if value is not None}

    def decorator(view: F) -> F:
        from dyne.endpoints import get_endpoint_spec

        scope = getattr(view, "_dyne_scope", False) is True
        if scope:
            # On a route group or the app: what applies to every route.
            misplaced = sorted(set(values) - {"tags", "deprecated", "hidden"})
            if misplaced:
                raise TypeError(f"@doc({', '.join(misplaced)}=...) describes one operation; on a "
                                f"route group or an app only tags=, deprecated= and hidden= apply")
        elif not callable(view):
            raise TypeError(f"@doc must decorate a view, got {view!r}")
        # A class-based view's spec is the class's own, not its bases'.
        spec = get_endpoint_spec(view, scope=scope)
        assert spec is not None
        spec.meta["openapi"] = merge_doc(spec.meta.get("openapi", {}), values)
        return view

    return decorator


class OpenAPI(Extension):
    """The OpenAPI document of an application, and its documentation UI.

    ``OpenAPI(app, title="Book Store", version="1.0")`` serves:

    * ``docs_route`` (``/docs``): the interactive documentation, in the
      ``theme`` given (``"swaggerui"``, ``"redoc"``, ``"rapidoc"``,
      ``"elements"`` or ``"scalar"``);
    * ``schema_route`` (``/schema.yml``): the document in YAML;
    * ``schema_json_route`` (``/schema.json``): the document in JSON.

    Any of the routes may be ``None`` to leave it out. ``openapi`` is the
    version written: ``"3.0.3"`` by default (any ``3.0.x``), or ``"3.1.0"``.
    ``contact`` and ``license`` are OpenAPI Contact and License objects
    (dicts), or a name. ``servers`` and ``tags`` are lists of OpenAPI Server
    and Tag objects (a tag may be just its name); ``external_docs`` an
    External Documentation object.

    ``title``, ``version``, ``description``, ``terms_of_service``,
    ``openapi`` and ``theme`` not given here are read from the app's
    configuration when set there: ``OPENAPI_TITLE``, ``OPENAPI_VERSION``,
    ``OPENAPI_DESCRIPTION``, ``OPENAPI_TERMS_OF_SERVICE``,
    ``OPENAPI_SPEC_VERSION`` and ``OPENAPI_THEME``. They are attributes:
    ``api.description = "..."`` changes the next document served.

    Create it with the app, or later with ``init_app(app)``.
    """

    def __init__(self, app: App | None = None, title: str | None = None, version: str | None = None,
                 *, description: str | None = None, terms_of_service: str | None = None,
                 contact: Mapping[str, Any] | str | None = None,
                 license: Mapping[str, Any] | str | None = None, openapi: str | None = None,
                 theme: str | None = None, docs_route: str | None = "/docs",
                 schema_route: str | None = "/schema.yml", schema_json_route: str | None = "/schema.json",
                 servers: Sequence[Mapping[str, Any]] | None = None,
                 tags: Sequence[Mapping[str, Any] | str] | None = None,
                 external_docs: Mapping[str, Any] | None = None,
                 openapi_route: str | object | None = _UNSET, static_route: str | None = None,
                 plugins: Sequence[Any] | None = None) -> None:
        super().__init__()
        if openapi_route is not _UNSET:  # Dyne 2.0.5's name for schema_route
            schema_route = openapi_route  # type: ignore[assignment]
        #: Accepted for Dyne 2.0.5 code: the documentation pages' assets are
        #: served by dyne under ``/_dyne/openapi``, whatever ``static_route`` says.
        self.static_route = static_route
        #: Accepted for Dyne 2.0.5 code (apispec plugins): dyne resolves
        #: marshmallow and pydantic schemas itself.
        self.plugins = list(plugins or ())
        #: Schemas registered by name (``@api.schema("Name")``, ``api.add_schema``).
        self.schemas: dict[str, Any] = {}
        self.title = title
        self.version = version
        self.description = description
        self.terms_of_service = terms_of_service
        self.contact = _object("contact", contact, ("name", "url", "email"))
        self.license = _object("license", license, ("name", "url", "identifier"))
        self.openapi = check_openapi_version(openapi) if openapi is not None else None
        self.theme = check_theme(theme) if theme is not None else None
        self.docs_route = _check_route("docs_route", docs_route)
        self.schema_route = _check_route("schema_route", schema_route)
        self.schema_json_route = _check_route("schema_json_route", schema_json_route)
        if docs_route is not None and schema_route is None and schema_json_route is None:
            raise ValueError("docs_route needs the document: keep schema_route or schema_json_route")
        self.servers = [dict(server) for server in servers] if servers is not None else None
        if self.servers is not None and not all("url" in server for server in self.servers):
            raise ValueError("servers= takes OpenAPI Server objects: dicts with a 'url'")
        self.tags = [{"name": tag} if isinstance(tag, str) else dict(tag) for tag in (tags or ())]
        if not all(isinstance(tag.get("name"), str) for tag in self.tags):
            raise ValueError("tags= takes tag names or OpenAPI Tag objects (dicts with a 'name')")
        self.external_docs = dict(external_docs) if external_docs is not None else None
        self._lock = threading.Lock()
        self._cache: tuple[Any, dict[str, Any], dict[str, bytes]] | None = None
        if app is not None:
            self.init_app(app)

    # -- setup --------------------------------------------------------------------------

    #: ``app.extensions["openapi"]`` (the first OpenAPI of the app; an app may
    #: have several, on different routes).
    name = "openapi"

    def init_app(self, app: App) -> None:
        """Register the documentation routes on ``app``."""
        if self.app is not None:
            raise RuntimeError("This OpenAPI instance is already attached to an app")
        super().init_app(app)

    def register(self, app: App) -> bool:
        app.extensions.setdefault("openapi", self)
        return True

    def setup(self, app: App) -> None:
        from dyne.endpoints import PUBLIC_KEY

        routes: list[BaseRoute] = []
        if not any(route.name == "dyne.openapi_asset" for route in app.router.routes):
            routes.append(add_assets_route(app))
        if self.docs_route is not None:
            routes.append(app.add_route(self.docs_route, self._docs, methods=["GET"],
                                        name="dyne.openapi_docs", include_in_schema=False))
        if self.schema_route is not None:
            routes.append(app.add_route(self.schema_route, self._yaml, methods=["GET"],
                                        name="dyne.openapi_yaml", include_in_schema=False))
        if self.schema_json_route is not None:
            routes.append(app.add_route(self.schema_json_route, self._json, methods=["GET"],
                                        name="dyne.openapi_json", include_in_schema=False))
        # The documentation stays readable when the app requires auth for all
        # its routes (``authenticate(backend)(app)``), as its own routes are.
        for route in routes:
            if isinstance(route, Route):
                route.spec.meta[PUBLIC_KEY] = True
        # Fail now, not on the first request, for a bad value in the configuration.
        check_openapi_version(self._option("openapi", DEFAULT_VERSION))
        check_theme(self._option("theme", "swaggerui"))

    def _app(self) -> App:
        if self.app is None:
            raise RuntimeError("OpenAPI is not attached to an app: OpenAPI(app) or api.init_app(app)")
        return self.app

    def _option(self, name: str, default: Any) -> Any:
        value = getattr(self, name)
        if value is None and self.app is not None:
            value = self.app.config.get(CONFIG_KEYS[name])
        return default if value is None else value

    # -- named schemas (Dyne 2.0.5) -------------------------------------------------------

    def add_schema(self, name: str, schema: Any, check_existing: bool = True) -> None:
        """Document ``schema`` (a pydantic model or a marshmallow schema) as
        the component ``name``, whether a route uses it or not. Registering a
        name twice is a ``ValueError`` unless ``check_existing=False``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"add_schema() needs a component name, got {name!r}")
        if check_existing and name in self.schemas:
            raise ValueError(f"A schema named {name!r} is already registered")
        from dyne.ext.io.core import library_of

        if library_of(schema) is None:
            raise TypeError(f"add_schema() takes a pydantic model or a marshmallow schema (or a "
                            f"msgspec Struct or an attrs class), got {schema!r}")
        self.schemas[name] = schema

    def schema(self, name: str, **options: Any) -> Callable[[T], T]:
        """``@api.schema("Pet")`` above a pydantic model or marshmallow schema
        class: ``add_schema("Pet", cls)``. ``options`` go to ``add_schema``."""

        def register(schema: T) -> T:
            self.add_schema(name, schema, **options)
            return schema

        return register

    # -- the document -------------------------------------------------------------------

    def _document_options(self, root_path: str = "") -> DocumentOptions:
        app = self._app()
        info: dict[str, Any] = {"title": str(self._option("title", "API")),
                                "version": str(self._option("version", "1.0"))}
        description = self._option("description", None)
        if description:
            info["description"] = inspect.cleandoc(str(description))
        terms = self._option("terms_of_service", None)
        if terms:
            info["termsOfService"] = str(terms)
        if self.contact:
            info["contact"] = dict(self.contact)
        if self.license:
            info["license"] = dict(self.license)
        servers = self.servers
        if servers is None and root_path:
            servers = [{"url": root_path}]
        return DocumentOptions(openapi=check_openapi_version(self._option("openapi", DEFAULT_VERSION)),
                               info=info, servers=servers, tags=[dict(t) for t in self.tags],
                               external_docs=self.external_docs,
                               schemas=tuple(self.schemas.items()),
                               problem_details=bool(getattr(app, "problem_details", False)),
                               handled_errors=_handled_errors(app))

    def _current(self, root_path: str = "") -> tuple[dict[str, Any], dict[str, bytes]]:
        drafts: list[Draft] = collect(self._app())
        options = self._document_options(root_path)
        key = (drafts, options)
        with self._lock:
            cached = self._cache
            if cached is not None and cached[0] == key:
                return cached[1], cached[2]
        document = build(drafts, options)
        from dyne.formats import json_dumps, json_loads

        raw = json_dumps(document)
        document = json_loads(raw)  # plain JSON values only, as both files hold them
        encoded = {"json": raw, "yaml": _yaml(document)}
        with self._lock:
            self._cache = (key, document, encoded)
        return document, encoded

    def to_dict(self) -> dict[str, Any]:
        """The OpenAPI document, as a dict (a fresh copy)."""
        import copy

        return copy.deepcopy(self._current()[0])

    def to_yaml(self) -> str:
        """The OpenAPI document in YAML."""
        return self._current()[1]["yaml"].decode("utf-8")

    def to_json(self) -> str:
        """The OpenAPI document in JSON."""
        return self._current()[1]["json"].decode("utf-8")

    # -- the routes ---------------------------------------------------------------------

    def _serve(self, req: Request, resp: Response, kind: str, content_type: str) -> None:
        _, encoded = self._current(req.scope.get("root_path", ""))
        body = encoded[kind]
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["ETag"] = etag
        if etag in (tag.strip() for tag in req.headers.get("if-none-match", "").split(",")):
            resp.status_code = 304
            resp.content = b""
            return
        resp.content = body
        resp.mimetype = content_type

    async def _yaml(self, req: Request, resp: Response) -> None:
        from dyne.concurrency import run_sync

        await run_sync(self._serve, req, resp, "yaml", YAML_CONTENT_TYPE)

    async def _json(self, req: Request, resp: Response) -> None:
        from dyne.concurrency import run_sync

        await run_sync(self._serve, req, resp, "json", JSON_CONTENT_TYPE)

    async def _docs(self, req: Request, resp: Response) -> None:
        root_path = req.scope.get("root_path", "")
        route = self.schema_json_route or self.schema_route
        title = str(self._option("title", "API"))
        resp.html = docs_page(self._option("theme", "swaggerui"), title, f"{root_path}{route}", root_path)
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY


def _yaml(document: dict[str, Any]) -> bytes:
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    text = yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return text.encode("utf-8")
