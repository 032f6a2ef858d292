"""The marshmallow side of ``dyne.ext.io``: schema instances built once, error
messages flattened to dyne's shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from ..core import (
    Dumper,
    InputFields,
    InputInvalid,
    Loader,
    SerializationError,
    as_list,
    flatten_errors,
    is_collection,
)

__all__ = ["ADAPTER", "MarshmallowAdapter"]

#: Locations where clients (browsers, proxies) send more than the schema
#: declares: unknown keys are ignored there unless the schema's ``Meta``
#: says otherwise (as webargs does).
_LENIENT_LOCATIONS = frozenset({"query", "headers", "cookies", "files"})
_MULTI_FIELDS: tuple[type, ...] = (fields.List, fields.Tuple)


def _is_schema_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Schema)


class MarshmallowAdapter:
    library = "marshmallow"

    def __init__(self) -> None:
        self._instances: dict[int, tuple[Any, Schema]] = {}

    def accepts(self, schema: Any) -> bool:
        return (isinstance(schema, Schema) or _is_schema_class(schema)
                or (isinstance(schema, Mapping) and bool(schema)
                    and all(isinstance(field, fields.Field) for field in schema.values())))

    def instance(self, schema: Any) -> Schema:
        """A schema instance for ``schema``: the instance given, or one made
        from a class or a dict of fields (kept, so it is made once)."""
        if isinstance(schema, Schema):
            return schema
        cached = self._instances.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        made = schema() if _is_schema_class(schema) else Schema.from_dict(dict(schema))()
        self._instances[id(schema)] = (schema, made)
        return made

    def input_fields(self, schema: Any) -> InputFields | None:
        instance = self.instance(schema)
        keys: list[str] = []
        multi: set[str] = set()
        for name, field in instance.load_fields.items():
            key = field.data_key or name
            keys.append(key)
            if isinstance(field, _MULTI_FIELDS):
                multi.add(key)
        return InputFields(tuple(keys), frozenset(multi))

    def loader(self, schema: Any, location: str) -> Loader:
        instance = self.instance(schema)
        unknown: Any = None
        declared = hasattr(type(instance).Meta, "unknown") or instance.unknown != instance.opts.unknown
        if location in _LENIENT_LOCATIONS and not declared:
            unknown = EXCLUDE
        load = instance.load

        def load_input(raw: Any) -> Any:
            try:
                return load(raw, unknown=unknown)
            except ValidationError as exc:
                raise InputInvalid(flatten_errors(exc.messages)) from None

        return load_input

    def dumper(self, schema: Any) -> Dumper:
        instance = self.instance(schema)
        dump = instance.dump
        name = type(instance).__name__

        def dump_output(obj: Any) -> Any:
            many = instance.many or is_collection(obj)
            if many and not is_collection(obj):
                raise SerializationError(f"{name}(many=True) needs a list of objects in resp.obj, "
                                         f"got {type(obj).__name__}")
            try:
                return dump(as_list(obj) if many else obj, many=many)
            except ValidationError as exc:
                raise SerializationError(f"resp.obj does not match {name}: "
                                         f"{flatten_errors(exc.messages)}") from None
            except Exception as exc:
                raise SerializationError(f"Could not serialize resp.obj with {name}: {exc!r}") from exc

        return dump_output


ADAPTER = MarshmallowAdapter()
