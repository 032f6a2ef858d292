"""MongoDB update operators applied to a document in Python (``$set``,
``$unset``, ``$inc``, ``$push``), for backends that store whole documents.

The backend locks the row, applies the update here and writes the document
back, inside one transaction; so the semantics are plain Python, easy to read
and the same everywhere.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from .base import InvalidQuery, UnsupportedOperator
from .jsonb_sql import check_document, parse_path

__all__ = ["UPDATE_OPERATORS", "apply_update", "new_object_id", "upsert_seed"]

UPDATE_OPERATORS = ("$set", "$unset", "$inc", "$push")


def new_object_id() -> str:
    """A fresh ``_id``: 24 hex digits, like a MongoDB ObjectId's string."""
    return secrets.token_hex(12)


def apply_update(document: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with ``update`` applied."""
    if not isinstance(update, Mapping) or not update:
        raise InvalidQuery("An update is a non-empty document of operators, e.g. {'$set': {...}}")
    result = copy.deepcopy(dict(document))
    touched: set[str] = set()
    for operator, fields in update.items():
        if not isinstance(operator, str) or not operator.startswith("$"):
            raise InvalidQuery(f"Update keys must be operators ({', '.join(UPDATE_OPERATORS)}); "
                               f"got {operator!r} (replacing a whole document is not update_one's job)")
        if operator not in UPDATE_OPERATORS:
            raise UnsupportedOperator(f"Unsupported update operator {operator!r} "
                                      f"(supported: {', '.join(UPDATE_OPERATORS)})")
        if not isinstance(fields, Mapping) or not fields:
            raise InvalidQuery(f"{operator} needs a non-empty document of fields")
        for path, value in fields.items():
            segments = parse_path(path)
            if segments[0] == "_id":
                raise InvalidQuery("The _id of a document cannot be updated")
            if path in touched or any(other.startswith(path + ".") or path.startswith(other + ".")
                                      for other in touched):
                raise InvalidQuery(f"Conflicting updates of {path!r}")
            touched.add(path)
            _apply(result, operator, segments, value)
    check_document(result)
    return result


def _apply(document: dict[str, Any], operator: str, segments: list[str], value: Any) -> None:
    if operator == "$unset":
        parent = _parent(document, segments, create=False)
        if isinstance(parent, dict):
            parent.pop(segments[-1], None)
        elif isinstance(parent, list) and _index(parent, segments[-1]) is not None:
            parent[_index(parent, segments[-1])] = None  # type: ignore[index]
        return
    parent = _parent(document, segments, create=True)
    key = segments[-1]
    missing = object()
    current = _get(parent, key, missing)
    if operator == "$set":
        check_document(value)
        _put(parent, key, copy.deepcopy(value))
    elif operator == "$inc":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidQuery(f"$inc needs a number for {'.'.join(segments)!r}")
        if current is missing:
            _put(parent, key, value)
        elif isinstance(current, bool) or not isinstance(current, int | float):
            raise InvalidQuery(f"Cannot $inc {'.'.join(segments)!r}: it holds a non-number")
        else:
            _put(parent, key, current + value)
    else:  # $push
        items = [value]
        if isinstance(value, Mapping) and "$each" in value:
            if len(value) != 1 or not isinstance(value["$each"], list | tuple):
                raise UnsupportedOperator("$push supports only the $each modifier, with a list")
            items = list(value["$each"])
        check_document(items)
        if current is missing:
            _put(parent, key, copy.deepcopy(items))
        elif not isinstance(current, list):
            raise InvalidQuery(f"Cannot $push to {'.'.join(segments)!r}: it is not an array")
        else:
            current.extend(copy.deepcopy(items))


def _index(array: list[Any], segment: str) -> int | None:
    if segment.isascii() and segment.isdigit():
        index = int(segment)
        if index < len(array):
            return index
    return None


def _get(parent: Any, key: str, default: Any) -> Any:
    if isinstance(parent, dict):
        return parent.get(key, default)
    index = _index(parent, key)
    return default if index is None else parent[index]


def _put(parent: Any, key: str, value: Any) -> None:
    if isinstance(parent, dict):
        parent[key] = value
        return
    index = _index(parent, key)
    if index is None:
        raise InvalidQuery(f"Array index {key!r} is out of range")
    parent[index] = value


def _parent(document: dict[str, Any], segments: list[str], create: bool) -> Any:
    node: Any = document
    for position, segment in enumerate(segments[:-1]):
        missing = object()
        child = _get(node, segment, missing) if isinstance(node, dict | list) else missing
        if child is missing or child is None:
            if not create:
                return None
            if not isinstance(node, dict):
                raise InvalidQuery(f"Cannot create field {'.'.join(segments[:position + 2])!r} "
                                   "inside a non-document")
            child = node[segment] = {}
        if not isinstance(child, dict | list):
            if not create:
                return None
            raise InvalidQuery(f"Cannot create field {'.'.join(segments[:position + 2])!r}: "
                               f"{'.'.join(segments[:position + 1])!r} holds a "
                               f"{type(child).__name__}")
        node = child
    return node


def upsert_seed(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """The document an upsert starts from: the filter's equality conditions
    (``{field: value}``, ``{field: {"$eq": value}}``, inside ``$and`` too)."""
    seed: dict[str, Any] = {}
    for key, condition in (filter or {}).items():
        if key == "$and" and isinstance(condition, list | tuple):
            for part in condition:
                if isinstance(part, Mapping):
                    seed.update(upsert_seed(part))
            continue
        if key.startswith("$"):
            continue
        if isinstance(condition, Mapping) and condition and all(
                isinstance(k, str) and k.startswith("$") for k in condition):
            if "$eq" not in condition:
                continue
            condition = condition["$eq"]
        segments = parse_path(key)
        parent = _parent(seed, segments, create=True)
        _put(parent, segments[-1], copy.deepcopy(condition))
    return seed
