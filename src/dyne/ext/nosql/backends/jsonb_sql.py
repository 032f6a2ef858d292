"""MongoDB-style filters, sorts, projections and pipelines compiled to
PostgreSQL over ``jsonb`` documents.

Every value and every path from a query becomes a bind parameter (``$1``,
``$2``...); the SQL text is built only from this module's constant fragments
and from table names checked by ``table_identifier``. So a filter, however
it was made, can never become SQL.

What is supported, and its meaning (the contract tests pin it down):

* paths are dotted (``"address.city"``); a segment that is a canonical
  non-negative integer (``"0"``, ``"12"``) also indexes an array. Paths do not
  fan out over arrays of documents (MongoDB's ``"items.price"`` over a list):
  such a path simply finds nothing.
* ``{path: value}`` and ``$eq``: the value equals, or the field is an array
  with an element that equals. ``None`` also matches a missing field.
  Numbers compare by value (``1 == 1.0``), never equal to booleans; documents
  compare by content (key order does not matter).
* ``$ne``, ``$nin``: the negation of ``$eq`` and ``$in``.
* ``$gt``, ``$gte``, ``$lt``, ``$lte``: against a number (numbers only) or a
  string (strings only, by code point); other operands are refused.
* ``$in`` (a list), ``$exists`` (a boolean), ``$and``, ``$or`` (non-empty lists).
* sort: ``[(path, 1 | -1), ...]``; values of different types order as in
  MongoDB (missing/null < numbers < strings < documents < arrays < booleans);
  ties keep insertion order.
* pipeline stages ``$match``, ``$group`` (``_id`` a ``"$path"``, constant or
  document of them; accumulators ``$sum``, ``$avg``, ``$min``, ``$max``,
  ``$count``), ``$sort``, ``$skip``, ``$limit``, ``$project``, ``$count``.

Anything else raises ``UnsupportedOperator``: refused, never approximated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .base import InvalidQuery, UnsupportedOperator

__all__ = [
    "MAX_DEPTH",
    "SqlBuilder",
    "check_document",
    "check_identifier",
    "compile_filter",
    "compile_pipeline",
    "compile_projection",
    "compile_sort",
    "parse_path",
]

#: How deeply ``$and``/``$or`` and documents may nest in a query.
MAX_DEPTH = 32
#: PostgreSQL accepts at most 32767 bind parameters in one statement.
MAX_PARAMETERS = 30000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COLLECTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")
_CANONICAL_INDEX = re.compile(r"(0|[1-9][0-9]*)\Z")
_NUMERIC_LOOKING = re.compile(r"\s*[+-]?[0-9]+\s*\Z")

COMPARISONS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
FIELD_OPERATORS = {"$eq", "$ne", "$in", "$nin", "$exists", *COMPARISONS}
LOGICAL_OPERATORS = {"$and", "$or"}


def check_identifier(name: Any, what: str, pattern: re.Pattern[str] = _IDENTIFIER) -> str:
    """``name`` as a double-quoted SQL identifier, if it is a plain name of at
    most 63 bytes (PostgreSQL would silently truncate a longer one)."""
    if not isinstance(name, str) or not pattern.match(name):
        raise InvalidQuery(f"Invalid {what} {name!r}: use letters, digits and underscores"
                           + (", dots and dashes" if pattern is _COLLECTION else ""))
    if len(name.encode()) > 63:
        raise InvalidQuery(f"Invalid {what} {name!r}: longer than 63 bytes")
    return '"' + name + '"'


def table_identifier(prefix: str, collection: Any) -> str:
    """The quoted table name of ``collection`` (with the backend's table prefix)."""
    if not isinstance(collection, str) or not _COLLECTION.match(collection):
        raise InvalidQuery(f"Invalid collection name {collection!r}: use letters, digits, "
                           "underscores, dots and dashes")
    return check_identifier(prefix + collection, "collection name", _COLLECTION)


def parse_path(path: Any) -> list[str]:
    """A dotted field path as its segments, refusing what could be read two
    ways: empty segments, operators, and integers written non-canonically
    (``"-1"``, ``"01"``), which PostgreSQL would read as array indexes."""
    if not isinstance(path, str) or not path:
        raise InvalidQuery(f"Invalid field path {path!r}")
    segments = path.split(".")
    for segment in segments:
        if not segment:
            raise InvalidQuery(f"Invalid field path {path!r}: empty segment")
        if segment.startswith("$"):
            raise InvalidQuery(f"Invalid field path {path!r}: a segment starts with '$'")
        if "\x00" in segment:
            raise InvalidQuery(f"Invalid field path {path!r}: NUL character")
        if _NUMERIC_LOOKING.match(segment) and not _CANONICAL_INDEX.match(segment):
            raise InvalidQuery(f"Invalid field path {path!r}: {segment!r} is not a canonical "
                               "array index (write 0, 1, 2...)")
    return segments


def check_document(value: Any, depth: int = 0) -> None:
    """Refuse values a JSON document cannot hold, with the reason."""
    if depth > MAX_DEPTH:
        raise InvalidQuery(f"Document nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidQuery(f"{value!r} cannot be stored in a JSON document")
        return
    if isinstance(value, str):
        _check_text(value)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidQuery(f"Document keys must be strings, not {type(key).__name__}")
            _check_text(key)
            check_document(item, depth + 1)
        return
    if isinstance(value, list | tuple):
        for item in value:
            check_document(item, depth + 1)
        return
    raise InvalidQuery(f"A {type(value).__name__} cannot be stored in a JSON document "
                       "(use str, int, float, bool, None, list or dict)")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise InvalidQuery("Strings in documents cannot contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery("Strings in documents must be valid Unicode (no lone surrogates)")


class SqlBuilder:
    """Collects bind parameters; ``param(value, "jsonb")`` returns ``$n::jsonb``."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def param(self, value: Any, cast: str) -> str:
        if len(self.params) >= MAX_PARAMETERS:
            raise InvalidQuery("Query too large")
        self.params.append(value)
        return f"${len(self.params)}::{cast}"

    def json(self, value: Any) -> str:
        check_document(value)
        return self.param(value, "jsonb")

    def path(self, doc: str, path: str) -> str:
        return f"({doc} #> {self.param(parse_path(path), 'text[]')})"


# -- filters --------------------------------------------------------------------------

def compile_filter(builder: SqlBuilder, filter: Mapping[str, Any] | None, doc: str = "doc",
                   id_column: str | None = None, depth: int = 0) -> str:
    """A SQL boolean expression (never NULL) for ``filter`` over the jsonb
    expression ``doc``. ``id_column``: a column holding ``doc->'_id'``, used
    for exact ``_id`` lookups."""
    if filter is None:
        return "TRUE"
    if not isinstance(filter, Mapping):
        raise InvalidQuery(f"A filter must be a document, not {type(filter).__name__}")
    if depth > MAX_DEPTH:
        raise InvalidQuery(f"Filter nested deeper than {MAX_DEPTH} levels")
    parts = []
    for key, condition in filter.items():
        if not isinstance(key, str):
            raise InvalidQuery(f"Filter keys must be strings, not {key!r}")
        if key.startswith("$"):
            parts.append(_logical(builder, key, condition, doc, id_column, depth))
        else:
            parts.append(_field(builder, key, condition, doc, id_column, depth))
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


def _logical(builder: SqlBuilder, operator: str, operands: Any, doc: str, id_column: str | None,
             depth: int) -> str:
    if operator not in LOGICAL_OPERATORS:
        raise UnsupportedOperator(f"Unsupported query operator {operator!r} (supported at the top "
                                  f"level: {', '.join(sorted(LOGICAL_OPERATORS))})")
    if not isinstance(operands, list | tuple) or not operands:
        raise InvalidQuery(f"{operator} needs a non-empty list of filters")
    joiner = " AND " if operator == "$and" else " OR "
    return "(" + joiner.join(compile_filter(builder, operand, doc, id_column, depth + 1)
                             for operand in operands) + ")"


def _is_operator_document(condition: Any) -> bool:
    if not isinstance(condition, Mapping) or not condition:
        return False
    keys = [isinstance(key, str) and key.startswith("$") for key in condition]
    if any(keys) and not all(keys):
        raise InvalidQuery(f"Cannot mix operators and fields in {dict(condition)!r}")
    return all(keys)


def _field(builder: SqlBuilder, path: str, condition: Any, doc: str, id_column: str | None,
           depth: int) -> str:
    if not _is_operator_document(condition):
        if id_column and path == "_id" and condition is not None:
            return f"({id_column} = {builder.json(condition)})"
        return _equals(builder, builder.path(doc, path), condition)
    value = builder.path(doc, path)
    parts = []
    for operator, operand in condition.items():
        if operator not in FIELD_OPERATORS:
            raise UnsupportedOperator(f"Unsupported query operator {operator!r} (supported: "
                                      f"{', '.join(sorted(FIELD_OPERATORS | LOGICAL_OPERATORS))})")
        parts.append(_operator(builder, value, operator, operand))
    return "(" + " AND ".join(parts) + ")"


def _any_value(value: str, predicate: Callable[[str], str]) -> str:
    """The value, or one of its elements when it is an array, satisfies ``predicate``."""
    return (f"COALESCE(({predicate(value)}) OR (jsonb_typeof({value}) = 'array' AND EXISTS "
            f"(SELECT 1 FROM jsonb_array_elements({value}) AS _e(v) WHERE {predicate('_e.v')})), FALSE)")


def _equals(builder: SqlBuilder, value: str, operand: Any) -> str:
    if operand is None:
        is_null = _any_value(value, lambda v: v + " = 'null'::jsonb")
        return f"({value} IS NULL OR {is_null})"
    param = builder.json(operand)
    return _any_value(value, lambda v: f"{v} = {param}")


def _operator(builder: SqlBuilder, value: str, operator: str, operand: Any) -> str:
    if operator == "$eq":
        return _equals(builder, value, operand)
    if operator == "$ne":
        return f"(NOT {_equals(builder, value, operand)})"
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list | tuple):
            raise InvalidQuery(f"{operator} needs a list")
        # One jsonb array parameter (asyncpg would read nested lists in a
        # jsonb[] parameter as array dimensions).
        param = builder.json(list(operand))
        matches = _any_value(value, lambda v: f"{v} = ANY(ARRAY(SELECT jsonb_array_elements({param})))")
        if any(item is None for item in operand):
            matches = f"({value} IS NULL OR {matches})"
        return matches if operator == "$in" else f"(NOT {matches})"
    if operator == "$exists":
        if not isinstance(operand, bool):
            raise InvalidQuery("$exists needs true or false")
        return f"({value} IS {'NOT ' if operand else ''}NULL)"
    return _comparison(builder, value, COMPARISONS[operator], operator, operand)


def _comparison(builder: SqlBuilder, value: str, sql_operator: str, operator: str, operand: Any) -> str:
    if isinstance(operand, bool) or not isinstance(operand, int | float | str):
        raise UnsupportedOperator(f"{operator} compares with a number or a string only, "
                                  f"not {type(operand).__name__}")
    if isinstance(operand, str):
        _check_text(operand)
        param = builder.param(operand, "text")
        return _any_value(value, lambda v: f"(jsonb_typeof({v}) = 'string' AND "
                                           f"({v} #>> '{{}}') COLLATE \"C\" {sql_operator} {param})")
    param = builder.json(operand)
    return _any_value(value, lambda v: f"(jsonb_typeof({v}) = 'number' AND {v} {sql_operator} {param})")


# -- sort -----------------------------------------------------------------------------

def _sort_keys(value: str) -> list[str]:
    """SQL expressions ordering jsonb values as MongoDB orders BSON types."""
    rank = (f"CASE jsonb_typeof({value}) WHEN 'number' THEN 2 WHEN 'string' THEN 3 WHEN 'object' "
            f"THEN 4 WHEN 'array' THEN 5 WHEN 'boolean' THEN 6 ELSE 1 END")
    number = f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::numeric END"
    text = f"(CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} #>> '{{}}' END) COLLATE \"C\""
    # Missing and null are one rank: the raw value only orders the rest.
    other = f"CASE WHEN jsonb_typeof({value}) IN ('object', 'array', 'boolean') THEN {value} END"
    return [rank, number, text, other]


def compile_sort(builder: SqlBuilder, sort: Iterable[tuple[str, int]] | Mapping[str, int] | None,
                 doc: str = "doc") -> list[str]:
    """``ORDER BY`` items for a MongoDB sort specification."""
    if sort is None:
        return []
    if isinstance(sort, Mapping):
        items = list(sort.items())
    elif isinstance(sort, list | tuple):
        items = list(sort)
    else:
        raise InvalidQuery("A sort is a list of (path, 1 or -1) pairs")
    order: list[str] = []
    for item in items:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise InvalidQuery(f"A sort is a list of (path, 1 or -1) pairs, not {item!r}")
        path, direction = item
        if isinstance(direction, bool) or direction not in (1, -1):
            raise InvalidQuery(f"Sort direction for {path!r} must be 1 or -1")
        value = builder.path(doc, path)
        suffix = " DESC" if direction == -1 else " ASC"
        order.extend(key + suffix for key in _sort_keys(value))
    return order


# -- projection -----------------------------------------------------------------------

def compile_projection(builder: SqlBuilder, projection: Mapping[str, Any] | None,
                       doc: str = "doc") -> str:
    """A jsonb expression for ``doc`` with a ``$project``-style projection applied."""
    if projection is None:
        return doc
    if not isinstance(projection, Mapping) or not projection:
        raise InvalidQuery("A projection is a non-empty document")
    include_id = True
    included: list[tuple[str, str]] = []
    excluded: list[str] = []
    for key, spec in projection.items():
        if not isinstance(key, str):
            raise InvalidQuery(f"Projection keys must be strings, not {key!r}")
        if key == "_id" and spec in (0, False) and not isinstance(spec, str):
            include_id = False
            continue
        if isinstance(spec, str):
            if not spec.startswith("$"):
                raise UnsupportedOperator(f"Projection of {key!r}: literal values are not supported, "
                                          "use 1, 0 or '$path'")
            _check_output_name(key)
            included.append((key, builder.path(doc, spec[1:])))
        elif isinstance(spec, bool | int) and spec in (0, 1):
            if spec:
                _check_output_name(key)
                included.append((key, builder.path(doc, key)))
            else:
                parse_path(key)
                excluded.append(key)
        else:
            raise UnsupportedOperator(f"Projection of {key!r}: use 1, 0 or '$path', not {spec!r}")
    if included and excluded:
        raise InvalidQuery("A projection cannot mix inclusion and exclusion (except _id: 0)")
    if excluded or not included:
        expression = doc
        for path in [*excluded, *([] if include_id else ["_id"])]:
            expression = f"({expression} #- {builder.param(parse_path(path), 'text[]')})"
        return expression
    if include_id and all(key != "_id" for key, _ in included):
        included.insert(0, ("_id", builder.path(doc, "_id")))
    rows = ", ".join(f"({builder.param(key, 'text')}, {value})" for key, value in included)
    return (f"(SELECT COALESCE(jsonb_object_agg(_p.k, _p.v), '{{}}'::jsonb) FROM (VALUES {rows}) "
            f"AS _p(k, v) WHERE _p.v IS NOT NULL)")


def _check_output_name(name: str) -> None:
    if not name or name.startswith("$") or "." in name or "\x00" in name:
        raise UnsupportedOperator(f"Output field {name!r}: top-level names only (no '.' or leading '$')")


# -- aggregation ----------------------------------------------------------------------

STAGES = ("$match", "$group", "$sort", "$skip", "$limit", "$project", "$count")
ACCUMULATORS = ("$sum", "$avg", "$min", "$max", "$count")


def compile_pipeline(builder: SqlBuilder, table: str, pipeline: Iterable[Mapping[str, Any]]) -> str:
    """A ``SELECT doc`` statement running ``pipeline`` over ``table``."""
    if isinstance(pipeline, Mapping | str | bytes):
        raise InvalidQuery("A pipeline is a list of stages")
    source = f"SELECT doc, _seq AS seq FROM {table}"
    for number, stage in enumerate(pipeline):
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise InvalidQuery(f"Pipeline stage {number} must be a document with one stage name")
        ((name, spec),) = stage.items()
        source = _stage(builder, f"({source}) AS s{number}", f"s{number}", name, spec)
    return f"SELECT doc FROM ({source}) AS result ORDER BY seq"


def _limit(value: Any, what: str, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise InvalidQuery(f"{what} must be a {'positive' if positive else 'non-negative'} integer")
    return value


def _stage(builder: SqlBuilder, source: str, alias: str, name: str, spec: Any) -> str:
    doc = f"{alias}.doc"
    if name == "$match":
        return f"SELECT doc, seq FROM {source} WHERE {compile_filter(builder, spec, doc)}"
    if name == "$sort":
        if not isinstance(spec, Mapping) or not spec:
            raise InvalidQuery("$sort needs a document of {path: 1 | -1}")
        order = ", ".join([*compile_sort(builder, spec, doc), f"{alias}.seq"])
        return f"SELECT doc, row_number() OVER (ORDER BY {order}) AS seq FROM {source}"
    if name == "$skip":
        count = builder.param(_limit(spec, "$skip", positive=False), "bigint")
        return f"SELECT doc, seq FROM {source} ORDER BY seq OFFSET {count}"
    if name == "$limit":
        count = builder.param(_limit(spec, "$limit", positive=True), "bigint")
        return f"SELECT doc, seq FROM {source} ORDER BY seq LIMIT {count}"
    if name == "$project":
        return f"SELECT {compile_projection(builder, spec, doc)} AS doc, seq FROM {source}"
    if name == "$count":
        if not isinstance(spec, str):
            raise InvalidQuery("$count needs the name of the output field")
        _check_output_name(spec)
        return (f"SELECT jsonb_build_object({builder.param(spec, 'text')}, count(*)) AS doc, 1 AS seq "
                f"FROM {source} HAVING count(*) > 0")
    if name == "$group":
        return _group(builder, source, alias, spec)
    raise UnsupportedOperator(f"Unsupported pipeline stage {name!r} (supported: {', '.join(STAGES)})")


def _expression(builder: SqlBuilder, doc: str, spec: Any, depth: int = 0) -> str:
    """A jsonb expression: ``"$path"`` (a missing field is NULL), a document of
    expressions, or a constant."""
    if isinstance(spec, str) and spec.startswith("$"):
        return builder.path(doc, spec[1:])
    if isinstance(spec, Mapping):
        if depth > MAX_DEPTH:
            raise InvalidQuery("Expression nested too deeply")
        if any(isinstance(key, str) and key.startswith("$") for key in spec):
            raise UnsupportedOperator(f"Expression operators are not supported: {dict(spec)!r}")
        items = []
        for key, value in spec.items():
            if not isinstance(key, str):
                raise InvalidQuery(f"Keys must be strings, not {key!r}")
            items.append(f"{builder.param(key, 'text')}, "
                         f"COALESCE({_expression(builder, doc, value, depth + 1)}, 'null'::jsonb)")
        return f"jsonb_build_object({', '.join(items)})"
    return builder.json(spec)


def _group(builder: SqlBuilder, source: str, alias: str, spec: Any) -> str:
    if not isinstance(spec, Mapping) or "_id" not in spec:
        raise InvalidQuery("$group needs an _id (use None to group everything together)")
    doc = f"{alias}.doc"
    key = f"COALESCE({_expression(builder, doc, spec['_id'])}, 'null'::jsonb)"
    fields = ["'_id', _g.k"]
    columns = [f"{alias}.seq", f"{key} AS k"]
    for index, (name, accumulator) in enumerate(spec.items()):
        if name == "_id":
            continue
        if not isinstance(name, str):
            raise InvalidQuery(f"$group field names must be strings, not {name!r}")
        _check_output_name(name)
        if not isinstance(accumulator, Mapping) or len(accumulator) != 1:
            raise InvalidQuery(f"$group field {name!r} needs one accumulator, e.g. {{'$sum': 1}}")
        ((operator, operand),) = accumulator.items()
        if isinstance(operand, str) and operand.startswith("$"):
            columns.append(f"{builder.path(doc, operand[1:])} AS a{index}")
        aggregate = _accumulate(builder, operator, operand, f"_g.a{index}")
        fields.append(f"{builder.param(name, 'text')}, {aggregate}")
    return (f"SELECT jsonb_build_object({', '.join(fields)}) AS doc, "
            f"row_number() OVER (ORDER BY min(_g.seq)) AS seq "
            f"FROM (SELECT {', '.join(columns)} FROM {source}) AS _g GROUP BY _g.k")


def _accumulate(builder: SqlBuilder, operator: str, operand: Any, value: str) -> str:
    """The aggregate of ``operand`` (a path, whose values are in the column
    ``value``, or a number) for one accumulator."""
    if operator == "$count":
        if operand not in ({}, None):
            raise InvalidQuery("$count takes an empty document: {'$count': {}}")
        return "to_jsonb(count(*))"
    if operator not in ACCUMULATORS:
        raise UnsupportedOperator(f"Unsupported accumulator {operator!r} "
                                  f"(supported: {', '.join(ACCUMULATORS)})")
    if not (isinstance(operand, str) and operand.startswith("$")):
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise UnsupportedOperator(f"{operator} takes a '$path' or a number, not {operand!r}")
        constant = builder.json(operand)
        if operator == "$sum":
            return f"to_jsonb(count(*) * ({constant})::numeric)"
        return constant
    number = f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::numeric END"
    if operator == "$sum":
        return f"to_jsonb(COALESCE(sum({number}), 0))"
    if operator == "$avg":
        return f"to_jsonb(avg({number}))"
    direction = " ASC" if operator == "$min" else " DESC"
    order = ", ".join(key + direction for key in _sort_keys(value))
    return (f"(array_agg({value} ORDER BY {order}) FILTER "
            f"(WHERE {value} IS NOT NULL AND {value} <> 'null'::jsonb))[1]")
