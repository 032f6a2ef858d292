"""What dyne knows about model classes, and how it encodes values JSON does not know.

``model_kind`` is the one place that tells a pydantic model from a msgspec
``Struct``, an attrs class, a dataclass, a ``TypedDict`` or a marshmallow
schema (``dyne.ext.io.core`` re-exports it). It imports none of those
libraries: a class can only come from a library that is already imported.

``make_default`` builds the fallback an app's body encoders
(``dyne.formats.Encoders``, ``app.encoders``) share for objects orjson does
not encode itself: ``App(json_encoders={Money: str})`` puts the app's own
encoders, by type (looked up along the class's MRO), in front of dyne's
built-in fallback (decimals as strings, sets as lists, models as objects).
It is built once per app: encoding a body does not create a function.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal

__all__ = ["DefaultEncoder", "ModelKind", "base_default", "make_default", "model_kind"]

#: The kinds of model classes dyne accepts wherever it takes a model.
ModelKind = Literal["pydantic", "msgspec", "attrs", "dataclass", "typeddict", "marshmallow"]
#: ``default(obj) -> a value orjson can encode``; raises ``TypeError`` for unknown types.
DefaultEncoder = Callable[[Any], Any]


def model_kind(obj: Any) -> ModelKind | None:
    """The kind of model ``obj`` is (a class or an instance of one):

    * ``"pydantic"``: a ``pydantic.BaseModel``;
    * ``"msgspec"``: a ``msgspec.Struct``;
    * ``"attrs"``: an ``@attrs.define`` / ``@attr.s`` class;
    * ``"dataclass"``: a standard-library (or pydantic) dataclass;
    * ``"typeddict"``: a ``TypedDict`` class (classes only: its instances are dicts);
    * ``"marshmallow"``: a marshmallow ``Schema`` class or instance;

    else ``None`` (a plain type, a type expression such as ``list[Book]``,
    a value). Checked in that order, without importing any library.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    if hasattr(cls, "__struct_fields__") and hasattr(cls, "__struct_config__"):
        return "msgspec"
    if hasattr(cls, "model_fields") and callable(getattr(cls, "model_dump", None)):
        return "pydantic"
    if hasattr(cls, "__attrs_attrs__"):
        return "attrs"
    if hasattr(cls, "__dataclass_fields__"):
        return "dataclass"
    if isinstance(obj, type) and typing.is_typeddict(obj):
        return "typeddict"
    if any(base.__name__ == "Schema" and base.__module__ == "marshmallow.schema"
           for base in getattr(cls, "__mro__", ())):
        return "marshmallow"
    return None


#: Kept as they are by ``msgspec.to_builtins``, so orjson writes them as it
#: writes them everywhere else.
_BUILTIN_TYPES: tuple[type, ...] | None = None


def _msgspec_builtin_types() -> tuple[type, ...]:
    global _BUILTIN_TYPES
    if _BUILTIN_TYPES is None:
        import datetime
        import decimal
        import uuid

        _BUILTIN_TYPES = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
                          uuid.UUID, decimal.Decimal, bytes, bytearray, memoryview)
    return _BUILTIN_TYPES


def model_fields_dict(obj: Any, kind: str | None, default: DefaultEncoder) -> Any:
    """One level of a msgspec Struct or attrs instance as plain data (nested
    values are encoded by the caller); ``None`` for other kinds."""
    if kind == "attrs":
        # In declaration order (msgspec writes slotted attrs classes sorted).
        return {field.name: getattr(obj, field.name) for field in type(obj).__attrs_attrs__}
    if kind == "msgspec":
        import msgspec

        # Field renames and omitted defaults are msgspec's to apply.
        return msgspec.to_builtins(obj, builtin_types=_msgspec_builtin_types(), enc_hook=default)
    return None


def _unknown(obj: Any) -> TypeError:
    name = type(obj).__name__
    return TypeError(f"Object of type {name} is not JSON serializable; register an encoder for it: "
                     f"App(json_encoders={{{name}: str}}) (or another function returning "
                     "JSON-ready data)")


def _fallback(obj: Any, default: DefaultEncoder) -> Any:
    from decimal import Decimal

    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    kind = model_kind(obj)
    if kind == "pydantic":
        return obj.model_dump(mode="json")
    if kind == "msgspec" or kind == "attrs":
        return model_fields_dict(obj, kind, default)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise _unknown(obj)


def base_default(obj: Any) -> Any:
    """Fallback for objects orjson does not know (it handles dataclasses,
    datetimes, UUIDs, enums and numpy arrays itself): decimals as strings,
    sets as lists, mappings, pydantic models, msgspec Structs and attrs
    instances as objects, bytes as text. Anything else is a ``TypeError``
    naming the type."""
    return _fallback(obj, base_default)


def make_default(json_encoders: Mapping[type, Callable[[Any], Any]] | None) -> DefaultEncoder:
    """The fallback of an app: its ``json_encoders`` first (by the object's
    class, then its bases), then ``base_default``. Checked here, once."""
    if not json_encoders:
        return base_default
    if not isinstance(json_encoders, Mapping):
        raise TypeError(f"json_encoders must be a dict {{type: function}}, got {json_encoders!r}")
    table: dict[type, Callable[[Any], Any]] = {}
    for cls, encoder in json_encoders.items():
        if not isinstance(cls, type):
            raise TypeError(f"json_encoders keys must be classes, got {cls!r}")
        if not callable(encoder):
            raise TypeError(f"json_encoders[{cls.__name__}] must be a function, got {encoder!r}")
        table[cls] = encoder
    resolved: dict[type, Callable[[Any], Any] | None] = {}

    def default(obj: Any) -> Any:
        cls = type(obj)
        try:
            encoder = resolved[cls]
        except KeyError:
            encoder = next((table[base] for base in cls.__mro__ if base in table), None)
            if len(resolved) < 1024:  # bounded: classes made at run time must not grow it forever
                resolved[cls] = encoder
        if encoder is not None:
            return encoder(obj)
        return _fallback(obj, default)

    return default
