"""The msgspec side of ``dyne.ext.io``: msgspec ``Struct``s and attrs classes
(msgspec validates both, and dataclasses and TypedDicts too), with errors in
dyne's shape.

Input is converted with ``msgspec.convert(raw, type, strict=False)``, so
strings from query strings, headers and forms become numbers and booleans as
the annotations say. The view receives what msgspec builds: a ``Struct`` or
attrs instance (a ``TypedDict`` gives a dict). msgspec stops at the first
problem; its message is reported under the field's dotted path
(``"items.2.price"``), problems with the input as a whole under
``"_schema"``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from dyne.encoders import model_kind

from ..core import (
    SCHEMA_ERROR_KEY,
    Dumper,
    InputFields,
    InputInvalid,
    Loader,
    SerializationError,
    as_list,
    is_collection,
)

__all__ = ["ADAPTER", "MsgspecAdapter", "format_error", "model_class"]

_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`$")
_MULTI_TYPES = (msgspec.inspect.ListType, msgspec.inspect.SetType,
                msgspec.inspect.FrozenSetType, msgspec.inspect.VarTupleType)


def format_error(exc: msgspec.ValidationError) -> dict[str, list[str]]:
    """``{"dotted.path": ["message"]}`` from msgspec's ``"message - at `$.a[0]`"``
    (``a.0``; a dict key, which msgspec does not name, is ``*``). A missing or
    unknown field is reported under its own path."""
    text = str(exc)
    match = _AT.match(text)
    message, path = (match["message"], match["path"]) if match else (text, "")
    # msgspec writes a dict key as ``[...]``: reported as ``*``.
    parts = [named or ("*" if index == "..." else index) for named, index in _SEGMENT.findall(path)]
    missing = _MISSING.match(message)
    unknown = _UNKNOWN.match(message)
    if missing:
        parts.append(missing["field"])
        message = "Field required"
    elif unknown:
        parts.append(unknown["field"])
        message = "Unknown field"
    return {".".join(parts) or SCHEMA_ERROR_KEY: [message]}


def model_class(schema: Any) -> Any:
    """A Struct or attrs instance given as a schema stands for its class."""
    if not isinstance(schema, type) and model_kind(schema) in ("msgspec", "attrs"):
        return type(schema)
    return schema


def _is_multi(info: Any) -> bool:
    if isinstance(info, _MULTI_TYPES):
        return True
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_is_multi(option) for option in info.types)
    return False


def _mentions_attrs(target: Any, depth: int = 0) -> bool:
    """Whether values of ``target`` may hold attrs instances (an attrs class,
    or one among a type expression's arguments or a model's field types)."""
    if depth > 8:
        return False
    if model_kind(target) == "attrs":
        return True
    if model_kind(target) == "msgspec":
        hints = getattr(target, "__annotations__", {})
        return any(_mentions_attrs(hint, depth + 1) for hint in hints.values()
                   if not isinstance(hint, str))
    return any(_mentions_attrs(arg, depth + 1) for arg in typing.get_args(target))


def _attrs_as_dicts(value: Any) -> Any:
    """attrs instances (at any depth) as dicts in declaration order: msgspec
    writes the fields of slotted attrs classes sorted by name."""
    kind = model_kind(value)
    if kind == "attrs":
        return {field.name: _attrs_as_dicts(getattr(value, field.name))
                for field in type(value).__attrs_attrs__}
    if isinstance(value, (list, tuple)):
        return [_attrs_as_dicts(item) for item in value]
    if isinstance(value, dict):
        return {key: _attrs_as_dicts(item) for key, item in value.items()}
    return value


class MsgspecAdapter:
    library = "msgspec"

    def __init__(self) -> None:
        self._infos: dict[Any, Any] = {}

    def type_info(self, schema: Any) -> Any:
        """``msgspec.inspect.type_info`` of the schema, computed once."""
        target = model_class(schema)
        try:
            return self._infos[target]
        except KeyError:
            pass
        except TypeError:  # unhashable: not cached
            return msgspec.inspect.type_info(target)
        info = self._infos[target] = msgspec.inspect.type_info(target)
        return info

    def accepts(self, schema: Any) -> bool:
        try:
            info = self.type_info(schema)
        except (TypeError, ValueError):
            return False
        return not isinstance(info, msgspec.inspect.CustomType)

    def input_fields(self, schema: Any) -> InputFields | None:
        info = self.type_info(schema)
        fields = getattr(info, "fields", None)
        if fields is None:
            return None
        keys = tuple(field.encode_name for field in fields)
        multi = frozenset(field.encode_name for field in fields if _is_multi(field.type))
        return InputFields(keys, multi)

    def loader(self, schema: Any, location: str) -> Loader:
        target = model_class(schema)
        convert = msgspec.convert
        invalid = msgspec.ValidationError

        def load(raw: Any) -> Any:
            try:
                return convert(raw, type=target, strict=False)
            except invalid as exc:
                raise InputInvalid(format_error(exc)) from None

        return load

    def dumper(self, schema: Any) -> Dumper:
        target = model_class(schema)
        name = getattr(target, "__name__", repr(target))
        convert = msgspec.convert
        to_builtins = msgspec.to_builtins
        one = target if isinstance(target, type) and model_kind(target) is not None else None
        many: Any = list[target] if one is not None else None  # type: ignore[valid-type]
        attrs_inside = _mentions_attrs(target)

        def dump(obj: Any, default: Callable[[Any], Any] | None = None) -> Any:
            try:
                if one is not None and isinstance(obj, one):
                    value = obj
                elif many is not None and not isinstance(obj, Mapping) and is_collection(obj):
                    value = convert(as_list(obj), type=many, strict=False, from_attributes=True)
                else:
                    if one is None and not isinstance(obj, (list, Mapping)) and is_collection(obj):
                        obj = as_list(obj)  # a query result or generator for list[Item]
                    value = convert(obj, type=target, strict=False, from_attributes=True)
            except msgspec.ValidationError as exc:
                raise SerializationError(f"resp.obj does not match {name}: {format_error(exc)}") from None
            return to_builtins(_attrs_as_dicts(value) if attrs_inside else value, enc_hook=default)

        return dump


ADAPTER = MsgspecAdapter()
