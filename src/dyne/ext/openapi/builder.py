"""The OpenAPI document, built from the application's routes and the metadata
decorators left on them (see "The IO metadata contract" and the auth
metadata in ``docs/architecture.md``).

Two steps:

1. ``collect(app)`` walks the route table and returns one ``Draft`` per
   documented operation: its path and method, the view, and the metadata
   merged from the route, the view (a class-based view's class and its
   ``on_request`` included) and the method. Drafts are cheap and comparable:
   the extension rebuilds the document only when they (or its options)
   changed.
2. ``build(drafts, options)`` turns them into the document: all schemas are
   resolved at once (``SchemaRegistry``), then every operation is written.

Which operations a route gets:

* a route with ``methods=``: those methods (``HEAD`` only when ``GET`` is not
  there, as dyne answers ``HEAD`` with the ``GET`` view);
* a class-based view: one operation per ``on_<method>`` handler;
* a route that answers every method (no ``methods=``, or a class with only
  ``on_request``): ``POST`` when it declares a request body (``@input`` of
  the body, ``request_model=``), else ``GET``, unless another route on the
  same path already documents that method.

Tags come from ``@doc(tags=...)``, else from the innermost named route group
the route belongs to.

Skipped: websocket routes, routes registered with ``include_in_schema=False``
(the docs pages and asset routes of dyne's extensions, GraphQL views, the
single-page-app index of ``add_route(path, static=True)``), and views marked
``@doc(hidden=True)``.
Mounted applications and static files are not routes of the router.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dyne.endpoints import PUBLIC_KEY, EndpointSpec, route_operations
from dyne.exceptions import status_phrase
from dyne.routing import (
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    Route,
    StringConvertor,
    UUIDConvertor,
)

from .schemas import SchemaRegistry

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dyne.app import App
    from dyne.ext.auth.roles import AuthMeta
    from dyne.ext.io.core import ExpectMeta, InputMeta, OutputMeta, WebhookMeta

__all__ = ["DocumentOptions", "Draft", "build", "collect", "openapi_path", "split_docstring"]

logger = logging.getLogger("dyne.openapi")

#: Operation order within a path item, as the OpenAPI specification lists them.
METHOD_ORDER = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BODY_LOCATIONS = frozenset({"media", "form", "files"})
_BODYLESS = frozenset({"get", "head", "options"})
_PARAM = re.compile(r"{([^{}:]*)(?::[^{}]*)?}")
#: Content types of a JSON-like body (dyne decodes each of them; see dyne.formats).
JSON_TYPES = ("application/json", "application/x-yaml")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MULTIPART = "multipart/form-data"

#: ``{"errors": {"field": ["message", ...]}}``: what ``@input`` answers with a 400.
INPUT_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "InputValidationError",
    "description": "The input did not validate: messages per field (dotted paths for nested "
                   "fields, `_schema` for the input as a whole).",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["errors"],
}
#: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``: ``request_model=``'s 422.
REQUEST_MODEL_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "RequestModelValidationError",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                 {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        },
    },
    "required": ["detail"],
}

PROBLEM = "application/problem+json"
#: What ``App(problem_details=True)`` sends for an error (``dyne.error_handlers.problem_document``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ProblemDetails",
    "description": "An RFC 9457 problem document. Extension members (the members of a dict "
                   "given as an error's detail) may follow.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type.",
                 "default": "about:blank"},
        "title": {"type": "string", "description": "The status' reason phrase, unless set."},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong this time."},
        "instance": {"type": "string", "description": "A URI reference to this occurrence."},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}
#: The 400 of ``@input`` as a problem document: the messages per field in ``errors``.
VALIDATION_PROBLEM_NAME = "ValidationProblemDetails"
#: ``request_model=``'s 422 as a problem document: FastAPI-style details in ``detail``.
REQUEST_MODEL_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "RequestModelValidationProblemDetails",
    "properties": {
        "type": PROBLEM_SCHEMA["properties"]["type"],
        "title": {"type": "string"},
        "status": {"type": "integer", "enum": [422]},
        "detail": REQUEST_MODEL_ERRORS_SCHEMA["properties"]["detail"],
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}
TEXT = {"text/plain": {"schema": {"type": "string"}}}


# -- Collecting ----------------------------------------------------------------------------

@dataclass
class Draft:
    """One operation to document."""

    path: str
    method: str
    route: Route
    view: Any
    meta: dict[str, Any]
    #: The base of the operationId: the route's name, with the method when
    #: the route documents several.
    name: str
    doc: str | None
    #: Each auth entry's security schemes and requirements, as the backend
    #: reports them now (so a reconfigured backend changes the draft).
    security: tuple[Any, ...] = ()

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Draft) and self.route is other.route and self.view is other.view
                and (self.path, self.method, self.name, self.doc, self.security)
                == (other.path, other.method, other.name, other.doc, other.security)
                and _same(self.meta, other.meta))

    __hash__ = None  # type: ignore[assignment]


def _same(a: Any, b: Any) -> bool:
    """Equal metadata: containers by value, everything else (schemas,
    backends) by identity, so that a schema object never needs an ``==``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, (str, int, float, bool, type(None))):
        return type(a) is type(b) and a == b
    return a is b


class Meta:
    """Typed reads of an operation's merged metadata: the records of
    ``dyne.ext.io`` (``InputMeta``...) and ``dyne.ext.auth`` (``AuthMeta``),
    the route options' models, and ``@doc``'s values."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def inputs(self) -> Sequence[InputMeta]:
        return self.raw.get("io.inputs", ())  # type: ignore[no-any-return]

    @property
    def output(self) -> OutputMeta | None:
        return self.raw.get("io.output")

    @property
    def expect(self) -> Mapping[int | str, ExpectMeta]:
        return self.raw.get("io.expect", {})  # type: ignore[no-any-return]

    @property
    def webhook(self) -> WebhookMeta | None:
        return self.raw.get("webhook")

    @property
    def auth(self) -> Sequence[AuthMeta]:
        return self.raw.get("auth", ())  # type: ignore[no-any-return]

    @property
    def request_model(self) -> Any:
        return self.raw.get("io.request_model")

    @property
    def response_model(self) -> Any:
        return self.raw.get("io.response_model")

    @property
    def openapi(self) -> dict[str, Any]:
        """``@doc(...)``'s values."""
        return self.raw.get("openapi", {})  # type: ignore[no-any-return]


def openapi_path(path: str) -> str:
    """``/books/{id:int}`` -> ``/books/{id}``."""
    return _PARAM.sub(lambda found: "{" + found.group(1) + "}", path)


def merge_doc(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> dict[str, Any]:
    """Two ``@doc`` records (a class's and its method's, or stacked ones):
    inner values win; ``extra`` fields and ``response_examples`` statuses add up."""
    merged = {**outer, **inner}
    for key in ("extra", "response_examples"):
        if key in outer and key in inner:
            merged[key] = {**outer[key], **inner[key]}
    return merged


def merge_meta(specs: Iterable[EndpointSpec | None]) -> dict[str, Any]:
    """The metadata of several specs, outer (route, class) to inner (method):
    lists (``io.inputs``, ``auth``) add up, ``io.expect`` and ``openapi``
    merge (inner wins), anything else is replaced by the inner value."""
    merged: dict[str, Any] = {}
    for spec in specs:
        if spec is None:
            continue
        for key, value in spec.meta.items():
            if isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            elif isinstance(value, dict) and key == "openapi":
                merged[key] = merge_doc(merged.get(key, {}), value)
            elif isinstance(value, dict) and key == "io.expect":
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    return merged


def _declares_body(meta: Meta) -> bool:
    return (meta.request_model is not None
            or any(i.location in _BODY_LOCATIONS for i in meta.inputs))


def _security_snapshot(meta: Meta) -> tuple[Any, ...]:
    snapshot = []
    for entry in meta.auth:
        backend = entry.backend
        schemes = backend.security_schemes() if hasattr(backend, "security_schemes") else {}
        requirements = (backend.security_requirements() if hasattr(backend, "security_requirements")
                        else [{name: []} for name in schemes])
        snapshot.append((schemes, requirements))
    return tuple(snapshot)


def _route_operations(route: Route) -> list[tuple[str | None, Any, dict[str, Any]]]:
    """``(method or None for "any", view, merged meta)`` for each handler of a route."""
    return [(None if op.method is None else op.method.lower(), op.view, merge_meta(op.specs))
            for op in route_operations(route)]


def collect(app: App) -> list[Draft]:
    """One ``Draft`` per operation the document will hold, in route order."""
    per_path: dict[str, list[tuple[Route, str | None, Any, dict[str, Any]]]] = {}
    for route in app.router.routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        for method, view, meta in _route_operations(route):
            if Meta(meta).openapi.get("hidden"):
                continue
            per_path.setdefault(openapi_path(route.path), []).append((route, method, view, meta))

    drafts: list[Draft] = []
    seen_templates: dict[str, str] = {}
    for path, handlers in per_path.items():
        # Two routes whose paths differ only in parameter names (or types)
        # are the same OpenAPI path: the first one is documented.
        shape = _PARAM.sub("{}", path)
        if seen_templates.setdefault(shape, path) != path:
            logger.warning("OpenAPI: %s is the same path as %s for OpenAPI; it is not documented",
                           path, seen_templates[shape])
            continue
        claimed = {method for _, method, _, _ in handlers if method is not None}
        resolved: list[tuple[Route, str, Any, dict[str, Any]]] = []
        for route, method, view, meta in handlers:
            if method is None:
                method = "post" if _declares_body(Meta(meta)) else "get"
                if method in claimed:
                    continue
                claimed.add(method)
            resolved.append((route, method, view, meta))
        per_route = {id(route): sum(1 for r, *_ in resolved if r is route) for route, *_ in resolved}
        for route, method, view, meta in resolved:
            name = route.name
            if route.is_class or route.is_view_object or per_route[id(route)] > 1:
                name = f"{name}_{method}"
            drafts.append(Draft(path=path, method=method, route=route, view=view, meta=meta, name=name,
                                doc=inspect.getdoc(view), security=_security_snapshot(Meta(meta))))
    drafts.sort(key=lambda d: (list(per_path).index(d.path), METHOD_ORDER.index(d.method)))
    return drafts


# -- Building ------------------------------------------------------------------------------

@dataclass
class DocumentOptions:
    """What the document says besides the operations."""

    openapi: str
    info: dict[str, Any]
    servers: list[dict[str, Any]] | None = None
    tags: list[dict[str, Any]] = field(default_factory=list)
    external_docs: dict[str, Any] | None = None
    #: Schemas registered by name (``api.add_schema``): ``(name, schema)`` pairs.
    schemas: tuple[tuple[str, Any], ...] = ()
    #: The app answers errors with RFC 9457 problem documents (``App(problem_details=True)``).
    problem_details: bool = False
    #: Error statuses the app answers with handlers of its own (``app.error_handler``),
    #: whose bodies dyne cannot know; ``None``: every status (a handler for a base
    #: class of ``HTTPException``).
    handled_errors: frozenset[int] | None = frozenset()


def split_docstring(doc: str | None) -> tuple[str | None, str | None]:
    """``(summary, description)`` of a docstring: the first line is the summary;
    the rest, and whatever follows a line ``---``, is the description."""
    if not doc:
        return None, None
    lines = inspect.cleandoc(doc).splitlines()
    before, after = lines, []
    for index, line in enumerate(lines):
        if line.strip() == "---":
            before, after = lines[:index], lines[index + 1:]
            break
    while before and not before[0].strip():
        before.pop(0)
    summary = before[0].strip() if before else None
    rest = "\n".join(before[1:]).strip()
    tail = "\n".join(after).strip()
    description = "\n\n".join(part for part in (rest, tail) if part) or None
    return summary, description


def _humanize(name: str) -> str:
    return " ".join(word.capitalize() for word in re.split(r"[_\s]+", name) if word) or name


def path_parameter_schema(convertor: Any) -> dict[str, Any]:
    """The schema of a typed path parameter (``{id:int}``...)."""
    if isinstance(convertor, IntegerConvertor):
        return {"type": "integer", "format": "int64", "minimum": 0, "maximum": 9223372036854775807}
    if isinstance(convertor, FloatConvertor):
        return {"type": "number", "minimum": 0}
    if isinstance(convertor, UUIDConvertor):
        return {"type": "string", "format": "uuid"}
    if isinstance(convertor, PathConvertor):
        return {"type": "string"}
    if type(convertor) is StringConvertor:
        return {"type": "string", "minLength": 1}
    return {"type": "string", "pattern": f"^(?:{convertor.regex})$"}


#: Keywords of a validated path parameter's schema that narrow a typed convertor's.
_NARROWING = ("minLength", "maxLength", "pattern", "multipleOf", "enum", "const")


def _validated_path_schema(convertor: Any, converted: dict[str, Any],
                           declared: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema of a path parameter that the view's signature also validates
    (``item_id: int``, ``Path(ge=1)``): what is validated, which is the
    annotation's schema under a plain ``{name}``; under a typed convertor
    (``{id:int}``), the convertor's schema narrowed by the annotation's
    constraints of the same type (a value must pass both). Also whether the
    validation can refuse a value the convertor matched (a 400)."""
    declared.pop("title", None)
    if not declared:  # Path() without a type: any string the route matched
        return converted, False
    if type(convertor) is StringConvertor:
        if declared.get("type") == "string":
            declared["minLength"] = max(1, declared.get("minLength", 1))
        return declared, declared != converted
    if declared.get("type") != converted.get("type"):
        return converted, True  # another type than the convertor's: it may refuse some
    schema = dict(converted)
    for lower in ("minimum", "exclusiveMinimum"):
        if lower in declared:
            schema[lower] = max(declared[lower], schema.get(lower, declared[lower]))
    for upper in ("maximum", "exclusiveMaximum"):
        if upper in declared:
            schema[upper] = min(declared[upper], schema.get(upper, declared[upper]))
    # Of an inclusive and an exclusive bound, keep the stricter.
    for inclusive, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if inclusive in schema and exclusive in schema:
            stricter = (schema[exclusive] >= schema[inclusive] if inclusive == "minimum"
                        else schema[exclusive] <= schema[inclusive])
            del schema[inclusive if stricter else exclusive]
    schema.update({key: declared[key] for key in _NARROWING if key in declared})
    return schema, schema != converted


def _status_description(status: int | str) -> str:
    if isinstance(status, int):
        return status_phrase(status)
    if status == "default":
        return "Default response"
    return {"1XX": "Informational", "2XX": "Success", "3XX": "Redirection",
            "4XX": "Client error", "5XX": "Server error"}.get(status, "Response")


def _roles_sentence(alternatives: list[list[str]]) -> str:
    if len(alternatives) == 1 and len(alternatives[0]) == 1:
        return f"Requires the role `{alternatives[0][0]}`."
    parts = [" and ".join(f"`{role}`" for role in group) for group in alternatives]
    if len(alternatives) == 1:
        return f"Requires the roles {parts[0]}."
    wrapped = [f"({part})" if len(group) > 1 else part
               for part, group in zip(parts, alternatives, strict=True)]
    return f"Requires one of the roles {', '.join(wrapped[:-1])} or {wrapped[-1]}."


@dataclass(frozen=True)
class _ErrorContent:
    """The ``content`` of the error responses dyne documents by itself."""

    #: ``invalid_input(has_body)``: the 400 of ``@input``.
    invalid_input: Callable[[bool], dict[str, Any]]
    #: Any other error (malformed body, 401, 403, 404, 415).
    general: Callable[[], dict[str, Any]]
    #: The 422 of ``request_model=``.
    request_model: Callable[[], dict[str, Any]]


class _Builder:
    def __init__(self, drafts: list[Draft], options: DocumentOptions) -> None:
        self.drafts = drafts
        self.options = options
        self.version = options.openapi
        self.registry = SchemaRegistry(self.version)
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self.operation_ids: dict[str, Draft] = {}

    # -- schemas -----------------------------------------------------------------------

    def _uses(self, meta: Meta, method: str) -> Iterable[tuple[Any, str, str]]:
        for item in meta.inputs:
            yield item.schema, item.library, "validation"
        output = meta.output
        if output is not None:
            yield output.schema, output.library, "serialization"
            if output.header is not None:
                yield output.header, output.header_library or output.library, "validation"
        for entry in meta.expect.values():
            if entry.schema is not None:
                yield entry.schema, entry.library, "serialization"
        if meta.request_model is not None and method not in _BODYLESS:
            yield meta.request_model, "pydantic", "validation"
        if meta.response_model is not None:
            yield meta.response_model, "pydantic", "serialization"

    def build(self) -> dict[str, Any]:
        from dyne.ext.io.core import library_of

        for draft in self.drafts:
            for schema, library, mode in self._uses(Meta(draft.meta), draft.method):
                self.registry.add(schema, library, mode)
        named_uses: list[tuple[str, Any, str]] = []
        for name, schema in self.options.schemas:
            found = library_of(schema)
            if found is not None:
                named_uses.append((name, schema, found))
                self.registry.add(schema, found, "serialization")
        self.registry.resolve()
        named = {name: self.registry.schema(schema, library, "serialization")
                 for name, schema, library in named_uses}

        paths: dict[str, dict[str, Any]] = {}
        webhooks: dict[str, dict[str, Any]] = {}
        tags: list[dict[str, Any]] = [dict(tag) for tag in self.options.tags]
        for draft in self.drafts:
            operation = self.operation(draft)
            paths.setdefault(draft.path, {})[draft.method] = operation
            for tag in operation.get("tags", ()):
                if not any(existing["name"] == tag for existing in tags):
                    tags.append({"name": tag})
            if "webhook" in draft.meta:
                self._add_webhook(webhooks, draft, operation)

        document: dict[str, Any] = {"openapi": self.version, "info": self.options.info}
        if self.options.servers:
            document["servers"] = self.options.servers
        if tags:
            document["tags"] = tags
        if self.options.external_docs:
            document["externalDocs"] = self.options.external_docs
        document["paths"] = paths
        if webhooks:
            document["webhooks" if self.version.startswith("3.1") else "x-webhooks"] = webhooks
        if self.security_schemes:
            document["components"] = {"securitySchemes": self.security_schemes}
        self.registry.finish(document, named)
        if "components" in document:
            # Schemas first, as most documents order them.
            document["components"] = dict(sorted(document["components"].items(),
                                                 key=lambda item: item[0] != "schemas"))
        return document

    def _add_webhook(self, webhooks: dict[str, dict[str, Any]], draft: Draft,
                     operation: dict[str, Any]) -> None:
        webhook = Meta(draft.meta).webhook
        assert webhook is not None
        name = webhook.name
        hook = copy.deepcopy(operation)
        hook["operationId"] = f"{operation['operationId']}_webhook"
        parameters = [p for p in hook.get("parameters", ()) if p.get("in") != "path"]
        if parameters:
            hook["parameters"] = parameters
        else:
            hook.pop("parameters", None)
        final = name
        for number in itertools.count(2):
            if draft.method not in webhooks.get(final, {}):
                break
            final = f"{name}_{number}"
        if final != name:
            logger.warning("OpenAPI: two webhooks named %r answer %s; the second is documented as %r",
                           name, draft.method.upper(), final)
        webhooks.setdefault(final, {})[draft.method] = hook

    # -- operations --------------------------------------------------------------------

    def operation(self, draft: Draft) -> dict[str, Any]:
        extra = Meta(draft.meta).openapi
        summary, description = split_docstring(draft.doc)
        if summary is None:
            route = draft.route
            if route.is_class or route.is_view_object:
                summary = f"{draft.method.capitalize()} {_humanize(route.name)}"
            else:
                summary = _humanize(draft.name)
        summary = extra.get("summary", summary)
        description = extra.get("description", description)

        operation: dict[str, Any] = {}
        tags = extra.get("tags")
        if tags is None:
            # A route of a named group (``app.group("/v1", name="books")``) is
            # tagged with the innermost group's name.
            names = [group.name for group in getattr(draft.route, "groups", ()) if group.name]
            tags = names[-1:]
        if tags:
            operation["tags"] = list(tags)
        operation["summary"] = summary
        security, alternatives = self._security(draft)
        if alternatives:
            roles_text = _roles_sentence(alternatives)
            description = f"{description}\n\n{roles_text}" if description else roles_text
        if description:
            operation["description"] = description
        operation["operationId"] = self._operation_id(draft, extra.get("operation_id"))
        parameters, path_may_fail = self._parameters(draft)
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body(draft)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self._responses(draft, has_path_params=bool(draft.route.param_names),
                                                 has_body=body is not None, secured=bool(security),
                                                 roles=bool(alternatives), path_may_fail=path_may_fail)
        if security is not None:
            operation["security"] = security
        if alternatives:
            operation["x-roles"] = alternatives
        if extra.get("deprecated"):
            operation["deprecated"] = True
        self._examples(draft, operation, extra)
        for key, value in (extra.get("extra") or {}).items():
            operation[key] = copy.deepcopy(value)
        return operation

    def _examples(self, draft: Draft, operation: dict[str, Any], extra: Mapping[str, Any]) -> None:
        """``@doc(examples=..., response_examples=...)``: on every media type of
        the request body, and of each response named."""
        where = f"{draft.method.upper()} {draft.path}"
        examples = extra.get("examples")
        if examples:
            body = operation.get("requestBody")
            if body is None:
                raise ValueError(f"@doc(examples=...) on {where}: the operation has no request body "
                                 "(declare it with @input or request_model=)")
            for media in body["content"].values():
                media["examples"] = copy.deepcopy(examples)
        for status, entries in (extra.get("response_examples") or {}).items():
            response = operation["responses"].get(status)
            if response is None or not response.get("content"):
                raise ValueError(f"@doc(response_examples=...) on {where}: no response {status} with a "
                                 "body is documented (declare it with @output or @expect)")
            for media in response["content"].values():
                media["examples"] = copy.deepcopy(entries)

    def _operation_id(self, draft: Draft, explicit: str | None) -> str:
        if explicit is not None:
            other = self.operation_ids.get(explicit)
            if other is not None:
                raise ValueError(f"operation_id {explicit!r} of {draft.method.upper()} {draft.path} is "
                                 f"already used by {other.method.upper()} {other.path}")
            self.operation_ids[explicit] = draft
            return explicit
        base = draft.name
        candidate = base
        number = 2
        while candidate in self.operation_ids or any(
                Meta(d.meta).openapi.get("operation_id") == candidate for d in self.drafts):
            candidate = f"{base}_{number}"
            number += 1
        self.operation_ids[candidate] = draft
        return candidate

    # -- parameters --------------------------------------------------------------------

    def _parameters(self, draft: Draft) -> tuple[list[dict[str, Any]], bool]:
        """The operation's parameters, and whether the view's validation of its
        path parameters can refuse a value the route matched (a 400)."""
        parameters: list[dict[str, Any]] = []
        path_may_fail = False
        convertors = draft.route.template.convertors
        validated: dict[str, Any] = {}  # what the view's signature validates, by name
        for item in Meta(draft.meta).inputs:
            if item.location == "path":
                fields = self.registry.object_fields(item.schema, item.library)
                if fields is not None:
                    validated.update(fields[0])
        for name in draft.route.param_names:
            parameter: dict[str, Any] = {"name": name, "in": "path", "required": True}
            schema = path_parameter_schema(convertors[name])
            declared = validated.get(name)
            if declared is not None:
                if "description" in declared:
                    parameter["description"] = declared.pop("description")
                schema, may_fail = _validated_path_schema(convertors[name], schema, declared)
                path_may_fail = path_may_fail or may_fail
            parameter["schema"] = schema
            parameters.append(parameter)
        for item in Meta(draft.meta).inputs:
            location = {"query": "query", "headers": "header", "cookies": "cookie"}.get(item.location)
            if location is None:
                continue
            fields = self.registry.object_fields(item.schema, item.library)
            if fields is None:
                if location == "query":
                    parameters.append({"name": item.key, "in": "query", "style": "form",
                                       "explode": True,
                                       "schema": self.registry.schema(item.schema, item.library)})
                continue
            properties, required = fields
            for prop, schema in properties.items():
                if schema.get("readOnly"):
                    continue
                wire = prop.replace("_", "-") if location == "header" else prop
                if any(p["name"].lower() == wire.lower() and p["in"] == location for p in parameters):
                    continue
                parameter = {"name": wire, "in": location}
                if "description" in schema:
                    parameter["description"] = schema.pop("description")
                parameter["required"] = prop in required
                if schema.get("deprecated"):
                    parameter["deprecated"] = True
                parameter["schema"] = schema
                parameters.append(parameter)
        return parameters, path_may_fail

    # -- request bodies ----------------------------------------------------------------

    def _is_flat(self, schema: dict[str, Any], depth: int = 0) -> bool:
        """Whether a property can travel in a form: a scalar, or a list of scalars."""
        schema = self.registry.deref(schema)
        if depth > 4:
            return False
        options = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
        if options:
            return all(self._is_flat(option, depth + 1) for option in options)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "object" in kinds or "properties" in schema:
            return False
        if "array" in kinds:
            items = self.registry.deref(schema.get("items", {}))
            return items.get("type") not in ("array", "object") and "properties" not in items
        return True

    def _has_binary(self, schema: dict[str, Any]) -> bool:
        schema = self.registry.deref(schema)
        if schema.get("format") == "binary":
            return True
        for option in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
            if self._has_binary(option):
                return True
        items = schema.get("items")
        return isinstance(items, dict) and self._has_binary(items)

    def _request_body(self, draft: Draft) -> dict[str, Any] | None:
        meta = Meta(draft.meta)
        inputs = [i for i in meta.inputs if i.location in _BODY_LOCATIONS]
        parts: list[tuple[dict[str, Any], str, Any, str]] = [
            (self.registry.schema(i.schema, i.library), i.location, i.schema, i.library)
            for i in inputs]
        if meta.request_model is not None and draft.method not in _BODYLESS:
            model = meta.request_model
            parts.append((self.registry.schema(model, "pydantic"), "media", model, "pydantic"))
        if not parts:
            return None
        schema = parts[0][0] if len(parts) == 1 else {"allOf": [part[0] for part in parts]}
        locations = {part[1] for part in parts}
        binary = False
        flat = True  # every part an object whose properties fit in a form
        required = False
        for _, location, original, library in parts:
            fields = self.registry.object_fields(original, library)
            if fields is None:
                flat = False
            else:
                properties, names = fields
                binary = binary or any(self._has_binary(p) for p in properties.values())
                flat = flat and all(self._is_flat(p) for p in properties.values())
                required = required or bool(names)
            if location == "media":
                required = True
        types: tuple[str, ...]
        if binary or "files" in locations:
            types = (MULTIPART,)
        elif "form" in locations:
            types = FORM_TYPES
        else:
            types = JSON_TYPES + (FORM_TYPES if flat else ())
        return {"required": required,
                "content": {media: {"schema": copy.deepcopy(schema)} for media in types}}

    # -- responses ---------------------------------------------------------------------

    def _json(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {"application/json": {"schema": schema}}

    def _responses(self, draft: Draft, *, has_path_params: bool, has_body: bool, secured: bool,
                   roles: bool, path_may_fail: bool = False) -> dict[str, Any]:
        meta = Meta(draft.meta)
        responses: dict[str, dict[str, Any]] = {}
        output = meta.output
        if output is not None:
            status = output.status_code
            response: dict[str, Any] = {"description": output.description or status_phrase(status)}
            if status not in (204, 304):
                response["content"] = self._json(
                    self.registry.schema(output.schema, output.library, "serialization"))
            if output.header is not None:
                headers = self._headers(output.header, output.header_library or output.library)
                if headers:
                    response["headers"] = headers
            responses[str(status)] = response
        elif meta.response_model is not None:
            responses["200"] = {"description": "OK", "content": self._json(
                self.registry.schema(meta.response_model, "pydantic", "serialization"))}

        for code, entry in meta.expect.items():
            key = str(code)
            response = responses.get(key, {})
            response = {**response, "description": entry.description or response.get(
                "description") or _status_description(code)}
            if entry.schema is not None:
                response["content"] = self._json(
                    self.registry.schema(entry.schema, entry.library, "serialization"))
            responses[key] = response

        declared_success = any(key[0] in "123" or key == "default" for key in responses)
        if not declared_success:
            responses["200"] = {"description": "Successful response"}

        handled = self.options.handled_errors

        def framework(status: str, description: str, content: dict[str, Any] | None = None,
                      headers: dict[str, Any] | None = None) -> None:
            response = responses.get(status)
            if response is None:
                response = responses[status] = {"description": description}
            if handled is None or int(status) in handled:
                content = None  # the app's own error handler writes this body
            if content and "content" not in response:
                response["content"] = content
            if headers:
                response.setdefault("headers", {}).update(
                    {k: v for k, v in headers.items() if k not in response.get("headers", {})})

        inputs = meta.inputs
        errors = self._problem_errors() if self.options.problem_details else self._plain_errors()
        if path_may_fail or any(item.location != "path" for item in inputs):
            framework("400", "Invalid input", errors.invalid_input(has_body))
        elif has_body:
            framework("400", "Malformed request body", errors.general())
        if meta.request_model is not None and draft.method not in _BODYLESS:
            framework("422", "Validation error", errors.request_model())
        if has_body and (any(i.location == "media" for i in inputs) or meta.request_model is not None):
            framework("415", "Unsupported Media Type", errors.general())
        if secured:
            framework("401", "Unauthorized", errors.general(), headers={"WWW-Authenticate": {
                "description": "The authentication scheme(s) to use", "schema": {"type": "string"}}})
        if roles:
            framework("403", "Forbidden", errors.general())
        if has_path_params:
            framework("404", "Not Found", errors.general())
        return dict(sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])))

    def _plain_errors(self) -> _ErrorContent:
        """Error bodies as dyne sends them by default: the messages of ``@input``
        as JSON, ``request_model=``'s details as JSON, other errors as text."""
        registry = self.registry

        def invalid_input(has_body: bool) -> dict[str, Any]:
            content = self._json(registry.add_component("InputValidationError", INPUT_ERRORS_SCHEMA))
            if has_body:  # a body that cannot be decoded is a message
                content.update(copy.deepcopy(TEXT))
            return content

        return _ErrorContent(
            invalid_input=invalid_input,
            general=lambda: copy.deepcopy(TEXT),
            request_model=lambda: self._json(registry.add_component(
                "RequestModelValidationError", REQUEST_MODEL_ERRORS_SCHEMA)))

    def _problem_errors(self) -> _ErrorContent:
        """Error bodies with ``problem_details=True``: RFC 9457 documents, the
        field messages of ``@input`` in their ``errors`` member."""
        registry = self.registry

        def problem() -> dict[str, Any]:
            return registry.add_component("ProblemDetails", PROBLEM_SCHEMA)

        def validation_problem() -> dict[str, Any]:
            return registry.add_component(VALIDATION_PROBLEM_NAME, {
                "title": VALIDATION_PROBLEM_NAME,
                "description": "The input did not validate: messages per field in `errors` "
                               "(dotted paths for nested fields, `_schema` for the input as a whole).",
                "allOf": [problem(), {
                    "type": "object",
                    "properties": {"errors": INPUT_ERRORS_SCHEMA["properties"]["errors"]},
                    "required": ["errors"],
                }],
            })

        def invalid_input(has_body: bool) -> dict[str, Any]:
            # A body that cannot be decoded is a problem with a detail, not field errors.
            schema = {"anyOf": [validation_problem(), problem()]} if has_body else validation_problem()
            return {PROBLEM: {"schema": schema}}

        return _ErrorContent(
            invalid_input=invalid_input,
            general=lambda: {PROBLEM: {"schema": problem()}},
            request_model=lambda: {PROBLEM: {"schema": registry.add_component(
                "RequestModelValidationProblemDetails", REQUEST_MODEL_PROBLEM_SCHEMA)}})

    def _headers(self, schema: Any, library: str) -> dict[str, Any]:
        fields = self.registry.object_fields(schema, library)
        if fields is None:
            return {}
        properties, required = fields
        headers = {}
        for name, prop in properties.items():
            header: dict[str, Any] = {}
            if "description" in prop:
                header["description"] = prop.pop("description")
            if name in required:
                header["required"] = True
            header["schema"] = prop
            headers[name.replace("_", "-")] = header
        return headers

    # -- security ----------------------------------------------------------------------

    def _security(self, draft: Draft) -> tuple[list[dict[str, list[str]]] | None, list[list[str]]]:
        """The operation's security requirements (``None`` when it has no
        auth) and the role alternatives it needs (empty without roles)."""
        entries = Meta(draft.meta).auth
        if not entries:
            # ``@public`` in a protected group or app: say so explicitly.
            return ([] if draft.meta.get(PUBLIC_KEY) else None), []
        combined: list[dict[str, list[str]]] = [{}]
        role_alternatives: list[list[str]] | None = None
        for entry, (schemes, requirements) in zip(entries, draft.security, strict=True):
            names = self._register_schemes(schemes)
            options = [{names.get(name, name): list(scopes) for name, scopes in requirement.items()}
                       for requirement in requirements]
            if options and entry.optional:
                options.append({})  # optional auth: no credentials is an alternative too
            if options:
                combined = [{**left, **right} for left in combined for right in options]
            roles = entry.roles
            if roles:
                if role_alternatives is None:
                    role_alternatives = [sorted(set(group)) for group in roles]
                else:
                    role_alternatives = [sorted(set(a) | set(b)) for a in role_alternatives for b in roles]
        optional = any(entry.optional for entry in entries)
        security: list[dict[str, list[str]]] | None = []
        assert security is not None
        for requirement in combined:
            if (requirement or optional) and requirement not in security:
                security.append(requirement)
        return security or None, role_alternatives or []

    def _register_schemes(self, schemes: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Add a backend's security schemes to the components; the name each
        got (a number is added when another scheme has the name)."""
        names = {}
        for name, scheme in schemes.items():
            final = name
            number = 2
            while final in self.security_schemes and self.security_schemes[final] != scheme:
                final = f"{name}{number}"
                number += 1
            self.security_schemes[final] = dict(scheme)
            names[name] = final
        return names


def build(drafts: list[Draft], options: DocumentOptions) -> dict[str, Any]:
    """The OpenAPI document (a dict of JSON values) for ``drafts``."""
    return _Builder(drafts, options).build()
