"""Component schemas from pydantic, marshmallow and msgspec, in one namespace.

The builder first *adds* every schema it will use (``add``), then the
registry *resolves* them all at once (``resolve``), then the builder asks for
each one (``schema``, ``object_fields``). Resolving everything together is
what gives good, unique component names:

* marshmallow schemas go through apispec's ``MarshmallowPlugin`` (imported
  only when a marshmallow schema is documented). A schema class is named
  after the class without its ``Schema`` suffix, as apispec does
  (``BookSchema`` -> ``Book``); a second class of the same name from another
  module gets its module-qualified name; an instance with modifiers
  (``only=``, ``exclude=``...) gets a numbered name.
* pydantic types go through one call of ``TypeAdapter.json_schemas``, which
  names models after their class, splits a model whose input and output
  schemas differ into ``Model-Input`` and ``Model-Output``, and qualifies
  clashing names with their module. A name already taken by a marshmallow
  schema gets a number.
* msgspec Structs and attrs classes go through one call of
  ``msgspec.json.schema_components``; names already taken get a number.

Every ``$ref`` points into ``#/components/schemas``. ``finish`` converts the
schemas to the dialect of the document: JSON Schema 2020-12 for OpenAPI
3.1, the OpenAPI 3.0 schema object (``nullable``, no ``const``...) for 3.0.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["SchemaRegistry", "to_openapi_30"]

REF_PREFIX = "#/components/schemas/"
_NAME_OK = re.compile(r"[^A-Za-z0-9._-]")

logger = logging.getLogger("dyne.openapi")
_ONE_WAY_LIBRARIES = frozenset({"marshmallow", "msgspec"})


def component_name(text: str) -> str:
    """``text`` made valid as a component name (``^[A-Za-z0-9._-]+$``)."""
    return _NAME_OK.sub("_", text) or "Schema"


def _identity(schema: Any) -> Any:
    """A dict key for a schema: the schema itself when hashable, else its id
    (the registry keeps the object alive, so the id stays valid)."""
    try:
        hash(schema)
    except TypeError:
        return ("id", id(schema))
    return schema


class _Use:
    __slots__ = ("library", "mode", "schema")

    def __init__(self, schema: Any, library: str, mode: str) -> None:
        self.schema = schema
        self.library = library
        self.mode = mode


class SchemaRegistry:
    """Collects the schemas an OpenAPI document uses and resolves them into
    named components.

    ``version`` is the OpenAPI version being written (``"3.0.3"``,
    ``"3.1.0"``...).
    """

    def __init__(self, version: str) -> None:
        self.version = version
        self._uses: dict[tuple[Any, str, str], _Use] = {}
        self._resolved: dict[tuple[Any, str, str], dict[str, Any]] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self._marshmallow_names: dict[Any, str] = {}
        self._own: dict[str, str] = {}
        self._resolved_once = False

    # -- collecting ---------------------------------------------------------------------

    def _key(self, schema: Any, library: str, mode: str) -> tuple[Any, str, str]:
        # marshmallow has one schema for both directions (readOnly/writeOnly).
        # marshmallow and msgspec have one schema for both directions.
        return (_identity(schema), library, "both" if library in _ONE_WAY_LIBRARIES else mode)

    def add(self, schema: Any, library: str, mode: str = "validation") -> None:
        """Declare that ``schema`` (of ``library``: ``"pydantic"``,
        ``"marshmallow"`` or ``"msgspec"``) is used for input (``"validation"``) or output
        (``"serialization"``)."""
        if self._resolved_once:
            raise RuntimeError("SchemaRegistry.add() after resolve()")
        key = self._key(schema, library, mode)
        if key not in self._uses:
            self._uses[key] = _Use(schema, library, key[2])

    # -- resolving ----------------------------------------------------------------------

    def resolve(self) -> None:
        """Turn every added schema into a reference or an inline schema, and
        fill ``components``."""
        self._resolved_once = True
        marshmallow = [(k, u) for k, u in self._uses.items() if u.library == "marshmallow"]
        pydantic = [(k, u) for k, u in self._uses.items() if u.library == "pydantic"]
        if marshmallow:
            self._resolve_marshmallow(marshmallow)
        if pydantic:
            self._resolve_pydantic(pydantic)
        msgspec_uses = [(k, u) for k, u in self._uses.items() if u.library == "msgspec"]
        if msgspec_uses:
            self._resolve_msgspec(msgspec_uses)

    def _resolve_marshmallow(self, uses: list[tuple[tuple[Any, str, str], _Use]]) -> None:
        try:
            from apispec import APISpec
            from apispec.ext.marshmallow import MarshmallowPlugin
            from apispec.ext.marshmallow.common import make_schema_key, resolve_schema_cls
        except ImportError as exc:  # pragma: no cover - exercised with apispec hidden
            raise ImportError('Documenting marshmallow schemas needs apispec: '
                              'pip install "dyne[openapi_marshmallow]"') from exc
        from dyne.ext.io.marshmallow.adapter import ADAPTER
        from dyne.ext.io.marshmallow.fields import FileField

        taken = self.components
        names = self._marshmallow_names

        def resolver(schema: Any) -> str:
            cls: Any = resolve_schema_cls(schema)
            instance = schema if not isinstance(schema, type) else cls()
            key = make_schema_key(instance)
            if key in names:
                return names[key]
            base = cls.__name__
            if base.endswith("Schema") and len(base) > len("Schema"):
                base = base[: -len("Schema")]
            candidates = [component_name(base)]
            plain = not any(getattr(instance, attr, None) for attr in
                            ("only", "exclude", "load_only", "dump_only", "partial"))
            if plain:
                candidates.append(component_name(f"{cls.__module__}.{base}"))
            name = next((c for c in candidates if c not in taken and c not in names.values()), None)
            if name is None:
                name = _numbered(candidates[0], lambda c: c in taken or c in names.values())
            names[key] = name
            return name

        plugin = MarshmallowPlugin(schema_name_resolver=resolver)
        spec = APISpec("dyne", "1", self.version, plugins=[plugin])
        plugin.map_to_openapi_type(FileField, "string", "binary")
        converter = plugin.converter
        assert converter is not None
        for key, use in uses:
            self._resolved[key] = converter.resolve_nested_schema(ADAPTER.instance(use.schema))
        for name, schema in spec.to_dict().get("components", {}).get("schemas", {}).items():
            self.components[name] = schema

    def _resolve_pydantic(self, uses: list[tuple[tuple[Any, str, str], _Use]]) -> None:
        from pydantic import TypeAdapter

        from dyne.ext.io.pydantic.adapter import ADAPTER

        inputs: list[tuple[Any, Any, Any]] = []
        for index, (_key, use) in enumerate(uses):
            adapter = ADAPTER.type_adapter(use.schema)
            try:
                adapter.json_schema(mode=use.mode)  # type: ignore[arg-type]
            except Exception as exc:
                logger.warning("%r cannot be documented as JSON schema (%s); documented as any value",
                               use.schema, exc)
                self._resolved[uses[index][0]] = {}
                continue
            inputs.append((index, use.mode, adapter))
        if not inputs:
            return
        mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_PREFIX + "{model}")
        defs = definitions.get("$defs", {})
        renames: dict[str, str] = {}
        for name in defs:
            if name in self.components:
                renames[name] = _numbered(name, lambda c: c in self.components or c in defs
                                          or c in renames.values())
        for (index, _mode), schema in mapping.items():
            self._resolved[uses[index][0]] = _rename_refs(schema, renames)
        for name, schema in defs.items():
            self.components[renames.get(name, name)] = _rename_refs(schema, renames)

    def _resolve_msgspec(self, uses: list[tuple[tuple[Any, str, str], _Use]]) -> None:
        """msgspec Structs and attrs classes, with ``msgspec.json.schema_components``
        (components named after the classes; a name taken by another
        library's schema gets a number)."""
        import msgspec

        from dyne.ext.io.msgspec.adapter import model_class

        documented: list[tuple[tuple[Any, str, str], Any]] = []
        for key, use in uses:
            target = model_class(use.schema)
            try:
                msgspec.json.schema(target)
            except Exception as exc:
                logger.warning("%r cannot be documented as JSON schema (%s); documented as any value",
                               use.schema, exc)
                self._resolved[key] = {}
                continue
            documented.append((key, target))
        if not documented:
            return
        schemas, defs = msgspec.json.schema_components([target for _, target in documented],
                                                       ref_template=REF_PREFIX + "{name}")
        renames: dict[str, str] = {}
        for name in defs:
            if name in self.components:
                renames[name] = _numbered(name, lambda c: c in self.components or c in defs
                                          or c in renames.values())
        for (key, _target), schema in zip(documented, schemas, strict=True):
            self._resolved[key] = _rename_refs(schema, renames)
        for name, schema in defs.items():
            self.components[renames.get(name, name)] = _rename_refs(schema, renames)

    # -- reading ------------------------------------------------------------------------

    def schema(self, schema: Any, library: str, mode: str = "validation") -> dict[str, Any]:
        """The schema to put in the document for a use declared with ``add``:
        a ``$ref`` to a component, or an inline schema (a copy)."""
        return copy.deepcopy(self._resolved[self._key(schema, library, mode)])

    def deref(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` itself, or the component a ``$ref`` (possibly wrapped in
        a one-item ``allOf``) points to."""
        seen = 0
        while seen < 32:
            seen += 1
            ref = schema.get("$ref")
            if ref is None and len(schema.get("allOf", ())) == 1:
                ref = schema["allOf"][0].get("$ref")
            if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
                return schema
            schema = self.components.get(ref[len(REF_PREFIX):], {})
        return schema

    def object_fields(self, schema: Any, library: str, mode: str = "validation"
                      ) -> tuple[dict[str, Any], set[str]] | None:
        """The properties and required names of an object schema (``None``
        when the schema is not an object with properties)."""
        resolved = self.deref(self._resolved[self._key(schema, library, mode)])
        properties = resolved.get("properties")
        if not isinstance(properties, dict):
            return None
        return copy.deepcopy(properties), set(resolved.get("required", ()))

    def add_component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Add a schema of dyne's own (error bodies) under ``name``, or a
        numbered name when it is taken by another schema; returns its ``$ref``."""
        final = self._own.get(name)
        if final is None:
            final = name if name not in self.components else _numbered(name, self.components.__contains__)
            self._own[name] = final
            self.components[final] = schema
        return {"$ref": REF_PREFIX + final}

    # -- finishing ----------------------------------------------------------------------

    def finish(self, document: dict[str, Any],
               named: dict[str, dict[str, Any]] | None = None) -> None:
        """Put the components used by ``document`` (and only those) in its
        ``components.schemas``, converted to the document's dialect.
        ``named`` are schemas registered by name (``api.add_schema``): they
        are components whether used or not."""
        named = named or {}
        used = _referenced({**document, "x-named": named}, self.components)
        schemas = {name: self.components[name] for name in self.components if name in used}
        for name, schema in named.items():
            if schema.get("$ref") != REF_PREFIX + name:
                schemas.setdefault(name, schema)
        if schemas:
            document.setdefault("components", {})["schemas"] = schemas
        if not self.version.startswith("3.1"):
            convert_schemas_in(document)


def _numbered(name: str, taken: Callable[[str], bool]) -> str:
    number = 2
    while taken(f"{name}{number}"):
        number += 1
    return f"{name}{number}"


def _rename_refs(value: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                name = item[len(REF_PREFIX):]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rename_refs(item, renames)
        return out
    if isinstance(value, list):
        return [_rename_refs(item, renames) for item in value]
    return value


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                yield item[len(REF_PREFIX):]
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _referenced(document: dict[str, Any], components: dict[str, dict[str, Any]]) -> set[str]:
    """Names of the components reachable from ``document`` (outside the
    components themselves)."""
    outside = {key: value for key, value in document.items() if key != "components"}
    found: set[str] = set()
    pending = list(_refs(outside))
    for section, value in document.get("components", {}).items():
        if section != "schemas":
            pending.extend(_refs(value))
    while pending:
        name = pending.pop()
        if name in found or name not in components:
            continue
        found.add(name)
        pending.extend(_refs(components[name]))
    return found


# -- OpenAPI 3.0 schema objects -----------------------------------------------------------

#: The keywords of an OpenAPI 3.0 Schema Object (plus ``x-`` extensions).
_KEYWORDS_30 = frozenset({
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxProperties", "minProperties", "required", "enum", "type", "not", "allOf", "oneOf",
    "anyOf", "items", "properties", "additionalProperties", "description", "format",
    "default", "nullable", "discriminator", "readOnly", "writeOnly", "example",
    "externalDocs", "deprecated", "xml", "$ref",
})


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "null" or schema == {"enum": [None]})


def to_openapi_30(schema: Any) -> Any:
    """A JSON Schema (2020-12, as pydantic writes it) as an OpenAPI 3.0 Schema
    Object: ``null`` types become ``nullable``, ``const`` a one-value
    ``enum``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` the boolean
    form, ``examples`` one ``example``, tuples (``prefixItems``) an array of
    any of their item types, ``$ref`` with siblings an ``allOf``; keywords
    3.0 does not have are dropped."""
    if not isinstance(schema, dict):
        return schema
    s = dict(schema)
    nullable = bool(s.pop("nullable", False))

    kind = s.get("type")
    if isinstance(kind, list):
        types = [t for t in kind if t != "null"]
        nullable = nullable or len(types) < len(kind)
        if len(types) == 1:
            s["type"] = types[0]
        else:
            del s["type"]
            if types:
                s.setdefault("anyOf", [{"type": t} for t in types])
    elif kind == "null":
        del s["type"]
        s["enum"] = [None]
        nullable = True

    for combiner in ("anyOf", "oneOf"):
        options = s.get(combiner)
        if isinstance(options, list) and any(_is_null(option) for option in options):
            rest = [option for option in options if not _is_null(option)]
            nullable = True
            if len(rest) == 1 and not any(k in s for k in ("type", "properties", "items")):
                del s[combiner]
                only = rest[0]
                if "$ref" in only:
                    s["allOf"] = [only]
                else:
                    for key, value in only.items():
                        s.setdefault(key, value)
            else:
                s[combiner] = rest

    if "const" in s:
        s.setdefault("enum", [s["const"]])
        del s["const"]
    examples = s.pop("examples", None)
    if isinstance(examples, list) and examples and "example" not in s:
        s["example"] = examples[0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = s.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            s[limit] = value
            s[bound] = True
    prefix = s.pop("prefixItems", None)
    if isinstance(prefix, list) and "items" not in s:
        s["items"] = {"anyOf": prefix} if len(prefix) > 1 else (prefix[0] if prefix else {})
    if s.get("contentEncoding") == "base64":
        s.setdefault("format", "byte")
    if s.get("type") == "array" and "items" not in s:
        s["items"] = {}

    if "$ref" in s and len(s) > 1:
        ref = {"$ref": s.pop("$ref")}
        s["allOf"] = [ref, *s.get("allOf", [])] if "allOf" in s else [ref]

    out: dict[str, Any] = {}
    for key, value in s.items():
        if key not in _KEYWORDS_30 and not key.startswith("x-"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_openapi_30(prop) for name, prop in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_openapi_30(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [to_openapi_30(item) for item in value]
        else:
            out[key] = value
    if nullable:
        out["nullable"] = True
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def convert_schemas_in(document: dict[str, Any]) -> None:
    """Convert, in place, every Schema Object of an OpenAPI document to 3.0."""
    components = document.get("components", {})
    if "schemas" in components:
        components["schemas"] = {name: to_openapi_30(schema)
                                 for name, schema in components["schemas"].items()}
    for section in ("paths", "x-webhooks"):
        for item in document.get(section, {}).values():
            for operation in item.values():
                if isinstance(operation, dict):
                    _convert_operation(operation)


def _convert_content(content: dict[str, Any]) -> None:
    for media in content.values():
        if "schema" in media:
            media["schema"] = to_openapi_30(media["schema"])


def _convert_operation(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = to_openapi_30(parameter["schema"])
    body = operation.get("requestBody")
    if body:
        _convert_content(body.get("content", {}))
    for response in operation.get("responses", {}).values():
        _convert_content(response.get("content", {}))
        for header in response.get("headers", {}).values():
            if "schema" in header:
                header["schema"] = to_openapi_30(header["schema"])
