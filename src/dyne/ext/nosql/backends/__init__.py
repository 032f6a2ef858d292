"""Document-store backends for ``dyne.ext.nosql``.

``AsyncNoSqlBackendBase`` is the interface (implement it to plug in your own
store); ``MongoBackend`` (PyMongo) and ``PostgresJsonBackend`` (PostgreSQL
``jsonb``) are built in and imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    AsyncNoSqlBackendBase,
    DeleteResult,
    DuplicateKeyError,
    InsertManyResult,
    InsertOneResult,
    InvalidQuery,
    NoSqlError,
    UnsupportedOperator,
    UpdateResult,
    nosql_settings,
)

if TYPE_CHECKING:
    from .mongo import MongoBackend as MongoBackend
    from .postgres import PostgresJsonBackend as PostgresJsonBackend

__all__ = [
    "AsyncNoSqlBackendBase",
    "DeleteResult",
    "DuplicateKeyError",
    "InsertManyResult",
    "InsertOneResult",
    "InvalidQuery",
    "MongoBackend",
    "NoSqlError",
    "PostgresJsonBackend",
    "UnsupportedOperator",
    "UpdateResult",
    "nosql_settings",
]

_LAZY = {"MongoBackend": ".mongo", "PostgresJsonBackend": ".postgres"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
