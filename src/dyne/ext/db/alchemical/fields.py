"""Checking and converting values for model columns.

``CRUDMixin`` passes what callers give it (often a decoded request body, or
a path parameter) through these rules before SQLAlchemy sees it, so that the
same input behaves the same on SQLite (which stores almost anything) and on
PostgreSQL (whose driver refuses a string for an integer), and so that bad
input becomes a ``FieldError`` (answered with 400) rather than a driver error:

* integers: ``int`` (not ``bool``), an integral float, or a string of digits
  (form values, path parameters); within the column's range;
* ``Float``/``Numeric``: ``int``, ``float``, ``Decimal`` or a numeric string;
* strings: ``str`` only, no longer than ``String(length)``;
* ``Boolean``: ``bool``, ``0``/``1``, or ``true/false/yes/no/on/off``;
* dates, times, date-times: the objects, or ISO 8601 strings;
* ``Uuid``: ``uuid.UUID`` or its string form;
* ``Enum``: a member, its name or its value;
* ``None`` only where the column is nullable (or a primary key, which the
  database then generates).

Other column types (``JSON``, custom types...) get values unchanged.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import types
from sqlalchemy.orm import ColumnProperty

__all__ = ["FieldError", "Invalid", "coerce_value", "model_fields"]


class FieldError(ValueError):
    """Values given for a model do not fit it: unknown names, or values of the
    wrong type. ``errors`` maps each field to its messages. Inside a request,
    ``Alchemical`` answers it with ``400`` and ``{"errors": errors}``."""

    def __init__(self, model: type, errors: dict[str, list[str]]) -> None:
        self.model = model
        self.errors = errors
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        super().__init__(f"Invalid values for {model.__name__}: {problems}")


class Invalid(Exception):
    """One value does not fit its column (the message says why)."""


#: Model class -> {attribute name: its Column, or None for settable non-column attributes}.
_FIELDS: WeakKeyDictionary[type, dict[str, Any]] = WeakKeyDictionary()

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def model_fields(model: type) -> dict[str, Any]:
    """The names a caller may set on ``model``: mapped attributes (a column
    attribute maps to its ``Column``; relationships, synonyms and composites to
    ``None``) and properties or hybrids that have a setter (``None``)."""
    fields = _FIELDS.get(model)
    if fields is None:
        import inspect

        mapper: Any = sa_inspect(model)
        fields = {}
        for prop in mapper.attrs:
            if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
                fields[prop.key] = prop.columns[0]
            else:
                fields[prop.key] = None
        for name in dir(model):
            if name.startswith("_") or name in fields:
                continue
            attribute = inspect.getattr_static(model, name, None)
            if getattr(attribute, "fset", None) is not None:  # property, hybrid_property
                fields[name] = None
        _FIELDS[model] = fields
    return fields


def _integer_limit(column_type: types.TypeEngine[Any], dialect: str) -> int:
    if dialect == "sqlite":
        return 2**63
    if isinstance(column_type, types.SmallInteger):
        return 2**15
    if isinstance(column_type, types.BigInteger):
        return 2**63
    return 2**31


def coerce_value(column: Any, value: Any, dialect: str) -> Any:
    """``value`` converted for ``column``; raises ``Invalid`` when it cannot be."""
    if value is None:
        if column.nullable or column.primary_key:
            return None
        raise Invalid("May not be null.")
    column_type = column.type
    if isinstance(column_type, types.TypeDecorator):
        return value  # the decorator processes its own values
    if isinstance(column_type, types.Integer):
        number = _to_int(value)
        limit = _integer_limit(column_type, dialect)
        if not -limit <= number < limit:
            raise Invalid("Out of range.")
        return number
    if isinstance(column_type, (types.Numeric, types.Float)):  # Float: not a Numeric in SQLAlchemy 2.1
        return _to_number(value, bool(column_type.asdecimal))
    if isinstance(column_type, types.Enum):
        return _to_enum(column_type, value)
    if isinstance(column_type, types.String):
        if not isinstance(value, str):
            raise Invalid("Expected a string.")
        if column_type.length is not None and len(value) > column_type.length:
            raise Invalid(f"At most {column_type.length} characters.")
        return value
    if isinstance(column_type, types.Boolean):
        return _to_bool(value)
    if isinstance(column_type, types.DateTime):
        return _parse(value, datetime.datetime, "a date-time")
    if isinstance(column_type, types.Date):
        if isinstance(value, datetime.datetime):
            raise Invalid("Expected a date (YYYY-MM-DD).")
        return _parse(value, datetime.date, "a date (YYYY-MM-DD)")
    if isinstance(column_type, types.Time):
        return _parse(value, datetime.time, "a time (HH:MM[:SS])")
    if isinstance(column_type, types.Uuid):
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        raise Invalid("Expected a UUID.")
    if isinstance(column_type, types.LargeBinary):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return value
        raise Invalid("Expected bytes.")
    return value


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise Invalid("Expected an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 20:
            return int(text)
    raise Invalid("Expected an integer.")


def _to_number(value: Any, as_decimal: bool) -> Any:
    if isinstance(value, bool):
        raise Invalid("Expected a number.")
    if isinstance(value, (int, float, decimal.Decimal)):
        number = value
    elif isinstance(value, str) and value.strip() and len(value) <= 100:
        try:
            number = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise Invalid("Expected a number.") from None
    else:
        raise Invalid("Expected a number.")
    if as_decimal:
        return number if isinstance(number, decimal.Decimal) else decimal.Decimal(str(number))
    return float(number)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise Invalid("Expected true or false.")


def _parse(value: Any, kind: type, description: str) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return kind.fromisoformat(value.strip())  # type: ignore[attr-defined]
        except ValueError:
            pass
    raise Invalid(f"Expected {description}.")


def _to_enum(column_type: types.Enum, value: Any) -> Any:
    enum_class = column_type.enum_class
    if enum_class is not None:
        if isinstance(value, enum_class):
            return value
        if isinstance(value, str) and value in enum_class.__members__:
            return enum_class[value]
        try:
            return enum_class(value)
        except (ValueError, TypeError):
            pass
        choices = [member.name for member in enum_class]  # type: ignore[var-annotated]
    else:
        if isinstance(value, str) and value in column_type.enums:
            return value
        if isinstance(value, enum.Enum) and value.name in column_type.enums:
            return value.name
        choices = list(column_type.enums)
    raise Invalid(f"Expected one of: {', '.join(choices)}.")
