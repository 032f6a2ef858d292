"""What a generated client needs from an OpenAPI document, read once and
language-neutral: named models (from ``components.schemas`` and from inline
objects), and operations with their parameters, body and result.

Types are small trees (``TypeRef``) that each language renders its own way.
Anything the generators cannot express precisely (a ``oneOf`` of
incompatible shapes, ``not``, an unresolvable ``$ref``) becomes ``ANY``: the
client then accepts and returns it untyped, never wrongly typed.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["ANY", "NULL", "ClientModel", "Field", "Model", "Operation", "Parameter", "TypeRef",
           "read_document"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA = re.compile(r"^application/([\w.+-]*\+)?json(;.*)?$|^\*/\*$")
FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")
#: How deep inline schemas are followed (a hostile document cannot exhaust the stack).
MAX_DEPTH = 64


@dataclass(frozen=True)
class TypeRef:
    """A type: ``kind`` is ``any``, ``str``, ``int``, ``float``, ``bool``,
    ``binary``, ``null``, ``ref`` (``name``: a model), ``list`` and ``dict``
    (``items``: one type), ``union`` (``items``: the members) or ``literal``
    (``values``)."""

    kind: str
    name: str = ""
    items: tuple[TypeRef, ...] = ()
    values: tuple[Any, ...] = ()


ANY = TypeRef("any")
NULL = TypeRef("null")


@dataclass
class Field:
    wire: str
    type: TypeRef
    required: bool
    description: str | None = None


@dataclass
class Model:
    """A named type: an object with ``fields`` (``alias is None``), or an
    alias of another type (enums, arrays, unions)."""

    name: str
    fields: list[Field] = field(default_factory=list)
    alias: TypeRef | None = None
    description: str | None = None
    #: An object that may hold other keys too (``additionalProperties``).
    open: bool = False


@dataclass
class Parameter:
    wire: str
    location: str  # path, query, header, cookie
    type: TypeRef
    required: bool
    description: str | None = None


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    summary: str | None
    description: str | None
    deprecated: bool
    parameters: list[Parameter]
    #: ``json``, ``multipart``, ``form`` or None (no body).
    body_kind: str | None
    body_type: TypeRef
    body_required: bool
    #: The success response's type: ``null`` when it has no body, ``ANY``
    #: when its body is not described.
    result: TypeRef


@dataclass
class ClientModel:
    title: str
    version: str
    models: list[Model]
    operations: list[Operation]

    def model(self, name: str) -> Model:
        return next(m for m in self.models if m.name == name)


# -- names -------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """``"getNote_by-ID"`` -> ``["get", "Note", "by", "ID"]``."""
    parts = re.split(r"[^0-9A-Za-z]+", text)
    found: list[str] = []
    for part in parts:
        found += re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+", part)
    return found


def pascal(text: str) -> str:
    name = "".join(word[:1].upper() + word[1:] for word in words(text)) or "Model"
    return name if name[0].isalpha() else f"M{name}"


def snake(text: str) -> str:
    name = "_".join(word.lower() for word in words(text)) or "value"
    return name if name[0].isalpha() or name[0] == "_" else f"_{name}"


def camel(text: str) -> str:
    name = pascal(text)
    return name[0].lower() + name[1:]


def unique(name: str, taken: set[str]) -> str:
    final, number = name, 2
    while final in taken:
        final = f"{name}{number}"
        number += 1
    taken.add(final)
    return final


def python_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)


# -- reading the document ------------------------------------------------------------------

class _Reader:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.schemas: Mapping[str, Any] = (document.get("components") or {}).get("schemas") or {}
        self.taken: set[str] = set()
        self.depth = 0
        #: component name -> model name
        self.names: dict[str, str] = {}
        self.models: dict[str, Model] = {}
        for component in self.schemas:
            self.names[component] = unique(pascal(component), self.taken)

    def deref(self, value: Any, depth: int = 0) -> Any:
        """A ``$ref`` to anything in the document (``#/components/...``) followed."""
        while isinstance(value, Mapping) and isinstance(value.get("$ref"), str) and depth < 32:
            target: Any = self.document
            pointer = value["$ref"]
            if not pointer.startswith("#/"):
                return {}
            for part in pointer[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    return {}
                target = target[part]
            value = target
            depth += 1
        return value

    # -- schemas -> types

    def type_of(self, schema: Any, context: str) -> TypeRef:
        """The type of ``schema``; inline objects become models named after ``context``.
        Schemas nested deeper than ``MAX_DEPTH`` are left loose (``ANY``)."""
        if not isinstance(schema, Mapping) or self.depth >= MAX_DEPTH:
            return ANY
        self.depth += 1
        try:
            return self._type_of(schema, context)
        finally:
            self.depth -= 1

    def _type_of(self, schema: Mapping[str, Any], context: str) -> TypeRef:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            prefix = "#/components/schemas/"
            component = ref[len(prefix):].replace("~1", "/").replace("~0", "~")
            if ref.startswith(prefix) and component in self.names:
                target = self._component(component)
                return self._nullable(TypeRef("ref", name=target), schema)
            return self.type_of(self.deref(schema), context)
        if "const" in schema:
            return self._nullable(self._literal([schema["const"]]), schema)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            values = schema["enum"]
            has_null = None in values
            literal = self._literal([v for v in values if v is not None])
            return self._union([literal, NULL]) if has_null else self._nullable(literal, schema)
        for combinator in ("oneOf", "anyOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                members = [self.type_of(option, f"{context}Option{n}" if len(options) > 1 else context)
                           for n, option in enumerate(options, 1)]
                return self._nullable(self._union(members), schema)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            if len(all_of) == 1 and not schema.get("properties"):
                return self._nullable(self.type_of(all_of[0], context), schema)
            return self._nullable(self._merged(schema, all_of, context), schema)
        kind = schema.get("type")
        kinds = list(kind) if isinstance(kind, list) else [kind] if kind else []
        nullable = "null" in kinds or bool(schema.get("nullable"))
        kinds = [k for k in kinds if k != "null"]
        if not kinds:
            if "properties" in schema or "additionalProperties" in schema:
                kinds = ["object"]
            elif "items" in schema:
                kinds = ["array"]
        types = [self._single(k, schema, context) for k in kinds] if kinds else [ANY]
        result = self._union(types)
        return self._union([result, NULL]) if nullable and result != ANY else result

    def _single(self, kind: str, schema: Mapping[str, Any], context: str) -> TypeRef:
        if kind == "string":
            return TypeRef("binary") if schema.get("format") == "binary" else TypeRef("str")
        if kind == "integer":
            return TypeRef("int")
        if kind == "number":
            return TypeRef("float")
        if kind == "boolean":
            return TypeRef("bool")
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, list):  # 3.0 tuples are arrays of any of their item types
                members = [self.type_of(item, f"{context}Item") for item in items]
                return TypeRef("list", items=(self._union(members),))
            return TypeRef("list", items=(self.type_of(items, f"{context}Item") if items else ANY,))
        if kind == "object":
            properties = schema.get("properties")
            extra = schema.get("additionalProperties")
            if isinstance(properties, Mapping) and properties:
                return TypeRef("ref", name=self._object_model(context, schema))
            if isinstance(extra, Mapping) and extra:
                return TypeRef("dict", items=(self.type_of(extra, f"{context}Value"),))
            return TypeRef("dict", items=(ANY,))
        return ANY

    def _literal(self, values: list[Any]) -> TypeRef:
        if values and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            return TypeRef("literal", values=tuple(dict.fromkeys(values)))
        if values and all(isinstance(v, bool) for v in values):
            return TypeRef("bool")
        return ANY

    def _union(self, members: list[TypeRef]) -> TypeRef:
        flat: list[TypeRef] = []
        for member in members:
            for item in (member.items if member.kind == "union" else (member,)):
                if item == ANY:
                    return ANY
                if item not in flat:
                    flat.append(item)
        if not flat:
            return ANY
        return flat[0] if len(flat) == 1 else TypeRef("union", items=tuple(flat))

    def _nullable(self, value: TypeRef, schema: Mapping[str, Any]) -> TypeRef:
        kind = schema.get("type")
        if schema.get("nullable") or (isinstance(kind, list) and "null" in kind):
            return self._union([value, NULL]) if value != ANY else ANY
        return value

    def _merged(self, schema: Mapping[str, Any], parts: list[Any], context: str) -> TypeRef:
        """``allOf``: one object with every part's properties, when every part is an object."""
        merged = self._merged_fields(schema, parts, context)
        if merged is None:
            return ANY
        if not merged:
            return TypeRef("dict", items=(ANY,))
        name = unique(pascal(context), self.taken)
        self.models[name] = Model(name=name, fields=merged, description=schema.get("description"))
        return TypeRef("ref", name=name)

    def _merged_fields(self, schema: Mapping[str, Any], parts: list[Any], context: str,
                       depth: int = 0) -> list[Field] | None:
        """The fields of ``allOf: parts`` (and ``schema``'s own properties); None
        when a part is not an object."""
        fields: dict[str, Field] = {}
        for part in [*parts, {k: v for k, v in schema.items() if k not in ("allOf", "description")}]:
            ref = part.get("$ref") if isinstance(part, Mapping) else None
            prefix = "#/components/schemas/"
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix):] in self.names:
                model = self.models[self._component(ref[len(prefix):])]
                if model.alias is not None:
                    return None
                fields.update({f.wire: replace(f) for f in model.fields})
                continue
            part = self.deref(part)
            if not isinstance(part, Mapping):
                return None
            if isinstance(part.get("allOf"), list) and depth < 8:
                nested = self._merged_fields(part, part["allOf"], context, depth + 1)
                if nested is None:
                    return None
                fields.update({f.wire: f for f in nested})
                continue
            if part.get("type") not in (None, "object") or any(k in part for k in ("oneOf", "anyOf", "enum")):
                return None
            required = set(part.get("required") or ())
            for wire, prop in (part.get("properties") or {}).items():
                fields[wire] = self._field(wire, prop, wire in required, context)
            for wire in required & set(fields):
                fields[wire].required = True
        return list(fields.values())

    def _field(self, wire: str, prop: Any, required: bool, context: str) -> Field:
        resolved = self.deref(prop)
        return Field(wire=wire, type=self.type_of(prop if isinstance(prop, Mapping) else {},
                                                  f"{context}{pascal(wire)}"),
                     required=required,
                     description=resolved.get("description") if isinstance(resolved, Mapping) else None)

    def _component(self, component: str) -> str:
        name = self.names[component]
        if name not in self.models:
            schema = self.deref(self.schemas[component])
            placeholder = Model(name=name)
            self.models[name] = placeholder  # recursion ends here
            value = self._define(name, schema)
            if value is not None:
                placeholder.alias = value
        return name

    def _define(self, name: str, schema: Any) -> TypeRef | None:
        """Fill the model ``name`` from ``schema``; an alias type when it is not an object."""
        model = self.models[name]
        if isinstance(schema, Mapping):
            model.description = schema.get("description")
        if (isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping)
                and schema.get("properties") and not schema.get("allOf")
                and not any(k in schema for k in ("oneOf", "anyOf", "enum", "const"))
                and schema.get("type") in (None, "object")):
            self._fill(model, schema)
            return None
        if isinstance(schema, Mapping) and isinstance(schema.get("allOf"), list) and schema["allOf"] \
                and not schema.get("nullable") and not any(k in schema for k in ("oneOf", "anyOf")):
            fields = self._merged_fields(schema, schema["allOf"], name)
            if fields:
                model.fields = fields
                return None
        return self.type_of(schema, name)

    def _fill(self, model: Model, schema: Mapping[str, Any]) -> None:
        required = set(schema.get("required") or ())
        for wire, prop in (schema.get("properties") or {}).items():
            model.fields.append(self._field(wire, prop, wire in required, model.name))
        extra = schema.get("additionalProperties")
        model.open = bool(extra) and extra is not False

    def _object_model(self, context: str, schema: Mapping[str, Any]) -> str:
        name = unique(pascal(context), self.taken)
        model = self.models[name] = Model(name=name, description=schema.get("description"))
        self._fill(model, schema)
        return name

    # -- operations

    def operations(self) -> Iterator[Operation]:
        taken: set[str] = set()
        for path, item in (self.document.get("paths") or {}).items():
            item = self.deref(item)
            if not isinstance(item, Mapping):
                continue
            shared = list(item.get("parameters") or ())
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                identifier = operation.get("operationId") or f"{method} {path}"
                yield self._operation(unique(str(identifier), taken), method, path, operation, shared)

    def _operation(self, identifier: str, method: str, path: str, operation: Mapping[str, Any],
                   shared: list[Any]) -> Operation:
        context = pascal(identifier)
        parameters: dict[tuple[str, str], Parameter] = {}
        for raw in [*shared, *(operation.get("parameters") or ())]:
            parameter = self.deref(raw)
            if not isinstance(parameter, Mapping) or "name" not in parameter:
                continue
            location = parameter.get("in", "query")
            if location not in ("path", "query", "header", "cookie"):
                continue
            schema = parameter.get("schema")
            content = parameter.get("content")
            if schema is None and isinstance(content, Mapping) and content:
                schema = (next(iter(content.values())) or {}).get("schema")
            parameters[(parameter["name"], location)] = Parameter(
                wire=parameter["name"], location=location,
                type=self.type_of(schema or {}, f"{context}{pascal(parameter['name'])}"),
                required=bool(parameter.get("required")) or location == "path",
                description=parameter.get("description"))
        body_kind, body_type, body_required = None, ANY, False
        body = self.deref(operation.get("requestBody"))
        if isinstance(body, Mapping) and isinstance(body.get("content"), Mapping):
            content = body["content"]
            json_media = next((m for m in content if JSON_MEDIA.match(m)), None)
            if json_media is not None:
                body_kind, media = "json", json_media
            elif "multipart/form-data" in content:
                body_kind, media = "multipart", "multipart/form-data"
            elif "application/x-www-form-urlencoded" in content:
                body_kind, media = "form", "application/x-www-form-urlencoded"
            else:
                body_kind, media = "raw", next(iter(content), "")
            if body_kind == "raw":
                body_type = TypeRef("binary")
            else:
                body_type = self.type_of((content.get(media) or {}).get("schema") or {}, f"{context}Body")
            body_required = bool(body.get("required"))
        return Operation(operation_id=identifier, method=method, path=path,
                         summary=operation.get("summary"), description=operation.get("description"),
                         deprecated=bool(operation.get("deprecated")),
                         parameters=list(parameters.values()), body_kind=body_kind,
                         body_type=body_type, body_required=body_required,
                         result=self._result(operation, context))

    def _result(self, operation: Mapping[str, Any], context: str) -> TypeRef:
        responses = operation.get("responses") or {}
        results: list[TypeRef] = []
        for status, response in responses.items():
            if not str(status).startswith("2"):
                continue
            response = self.deref(response)
            content = response.get("content") if isinstance(response, Mapping) else None
            if str(status) in ("204", "205"):
                results.append(NULL)
                continue
            if not content:
                results.append(ANY)  # a body the document does not describe
                continue
            media = next((m for m in content if JSON_MEDIA.match(m)), None)
            if media is None:
                results.append(TypeRef("str") if any(m.startswith("text/") for m in content) else ANY)
                continue
            results.append(self.type_of((content[media] or {}).get("schema") or {}, f"{context}Result"))
        if not results:
            return ANY
        return self._union(results)

    def read(self) -> ClientModel:
        for component in self.schemas:
            self._component(component)
        operations = list(self.operations())
        info = self.document.get("info") or {}
        ordered = [self.models[n] for n in self.names.values() if n in self.models]
        ordered += [m for n, m in self.models.items() if n not in set(self.names.values())]
        return ClientModel(title=str(info.get("title", "API")), version=str(info.get("version", "")),
                           models=ordered, operations=operations)


def read_document(document: Mapping[str, Any]) -> ClientModel:
    """The models and operations of an OpenAPI 3.0 or 3.1 document."""
    if not isinstance(document, Mapping) or not str(document.get("openapi", "")).startswith("3."):
        raise ValueError("Not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    return _Reader(document).read()
