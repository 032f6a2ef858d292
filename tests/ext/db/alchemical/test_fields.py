"""How CRUDMixin checks and converts values for columns (no database needed)."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    Uuid,
)

from dyne.ext.db.alchemical.fields import Invalid, coerce_value


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Upper(TypeDecorator):
    impl = String
    cache_ok = True


def column(kind, nullable=True, **kwargs):
    return Column("c", kind, nullable=nullable, **kwargs)


ACCEPTED = [
    (Integer, 5, 5), (Integer, "42", 42), (Integer, " -7 ", -7), (Integer, 3.0, 3),
    (Integer, decimal.Decimal("8"), 8), (BigInteger, 2**40, 2**40), (SmallInteger, -(2**15), -(2**15)),
    (Float, 1, 1.0), (Float, "2.5", 2.5), (Float, decimal.Decimal("0.1"), 0.1),
    (Numeric(10, 2), "3.10", decimal.Decimal("3.10")), (Numeric(10, 2), 2, decimal.Decimal("2")),
    (String(3), "abc", "abc"), (Text, "long " * 100, "long " * 100),
    (Boolean, True, True), (Boolean, "off", False), (Boolean, 1, True), (Boolean, "Yes", True),
    (DateTime, "2024-01-02T03:04:05", datetime.datetime(2024, 1, 2, 3, 4, 5)),
    (DateTime, "2024-01-02T03:04:05Z",
     datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)),
    (Date, "2024-01-02", datetime.date(2024, 1, 2)), (Time, "10:30", datetime.time(10, 30)),
    (Uuid, "12345678-1234-5678-1234-567812345678", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    (Enum(Color), "RED", Color.RED), (Enum(Color), "blue", Color.BLUE), (Enum(Color), Color.RED, Color.RED),
    (Enum("a", "b", name="ab"), "b", "b"),
    (JSON, {"any": ["thing"]}, {"any": ["thing"]}), (LargeBinary, b"\x00", b"\x00"),
    (Upper, 123, 123),  # custom types process their own values
]


@pytest.mark.parametrize(("kind", "value", "expected"), ACCEPTED,
                         ids=[f"{k if isinstance(k, type) else type(k)}-{v!r}"[:60] for k, v, _ in ACCEPTED])
def test_accepted_values(kind, value, expected):
    result = coerce_value(column(kind), value, "postgresql")
    assert result == expected
    assert type(result) is type(expected)


REFUSED = [
    (Integer, "abc", "Expected an integer."), (Integer, True, "Expected an integer."),
    (Integer, 2.5, "Expected an integer."), (Integer, "1" * 30, "Expected an integer."),
    (Integer, "٣", "Expected an integer."),  # a non-ASCII digit
    (Integer, 2**31, "Out of range."), (SmallInteger, 2**15, "Out of range."),
    (BigInteger, 2**63, "Out of range."), (Float, "x", "Expected a number."),
    (Float, False, "Expected a number."), (Float, [1], "Expected a number."),
    (String(3), "abcd", "At most 3 characters."), (String, 5, "Expected a string."),
    (Boolean, "maybe", "Expected true or false."), (Boolean, 2, "Expected true or false."),
    (DateTime, "yesterday", "Expected a date-time."), (Date, "2024-13-01", "Expected a date (YYYY-MM-DD)."),
    (Date, datetime.datetime(2024, 1, 1), "Expected a date (YYYY-MM-DD)."),
    (Time, 10, "Expected a time (HH:MM[:SS])."), (Uuid, "not-a-uuid", "Expected a UUID."),
    (Enum(Color), "GREEN", "Expected one of: RED, BLUE."), (Enum("a", "b", name="ab"), "c",
                                                            "Expected one of: a, b."),
    (LargeBinary, "text", "Expected bytes."),
]


@pytest.mark.parametrize(("kind", "value", "message"), REFUSED,
                         ids=[f"{k if isinstance(k, type) else type(k)}-{v!r}"[:60] for k, v, _ in REFUSED])
def test_refused_values(kind, value, message):
    with pytest.raises(Invalid) as caught:
        coerce_value(column(kind), value, "postgresql")
    assert str(caught.value) == message


def test_integer_range_follows_the_database():
    assert coerce_value(column(Integer), 2**40, "sqlite") == 2**40  # SQLite integers are 64-bit
    with pytest.raises(Invalid):
        coerce_value(column(Integer), 2**63, "sqlite")


def test_none_only_where_the_column_allows_it():
    assert coerce_value(column(String, nullable=True), None, "sqlite") is None
    assert coerce_value(Column("id", Integer, primary_key=True), None, "sqlite") is None
    with pytest.raises(Invalid, match=r"^May not be null\.$"):
        coerce_value(column(String, nullable=False), None, "sqlite")
