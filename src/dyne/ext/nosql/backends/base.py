"""The backend interface of ``dyne.ext.nosql``: what a document store must
implement to plug into ``NoSqlDatabase`` (PyJolt's ``AsyncNoSqlBackendBase``,
method for method), the errors every backend raises, and the result objects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from dyne.app import App

__all__ = [
    "AsyncNoSqlBackendBase",
    "DeleteResult",
    "DuplicateKeyError",
    "InsertManyResult",
    "InsertOneResult",
    "InvalidQuery",
    "NoSqlError",
    "UnsupportedOperator",
    "UpdateResult",
    "nosql_settings",
]


class NoSqlError(Exception):
    """Base class of the errors raised by ``dyne.ext.nosql``."""


class InvalidQuery(NoSqlError, ValueError):
    """A filter, update, sort, projection or pipeline is malformed (a bad
    collection name or path, a wrong operand...). Answered with a 400 when it
    escapes a view."""


class UnsupportedOperator(InvalidQuery):
    """The backend does not implement this operator or stage. It is refused,
    never approximated."""


class DuplicateKeyError(NoSqlError):
    """A document with this ``_id`` already exists. Answered with a 409 when
    it escapes a view."""


@dataclass
class InsertOneResult:
    inserted_id: Any


@dataclass
class InsertManyResult:
    inserted_ids: list[Any] = field(default_factory=list)


@dataclass
class UpdateResult:
    matched_count: int
    modified_count: int
    upserted_id: Any = None


@dataclass
class DeleteResult:
    deleted_count: int


def nosql_settings(app: App, variable_prefix: str = "") -> dict[str, Any]:
    """The ``{variable_prefix}NOSQL_DATABASE`` section of ``app.config`` (a
    mapping, or a JSON object in the environment), with each key overridable
    by a flat ``{variable_prefix}NOSQL_DATABASE_{KEY}`` setting."""
    section_name = f"{variable_prefix}NOSQL_DATABASE"
    section = app.config.get(section_name, default=None, cast=dict) or {}
    if not isinstance(section, Mapping):
        raise NoSqlError(f"Config {section_name} must be a mapping, not {type(section).__name__}")
    settings = dict(section)
    for key in ("BACKEND", "DATABASE_URI", "DATABASE", "DB_INJECT_NAME", "SESSION_NAME", "TABLE_PREFIX"):
        missing = object()
        value = app.config.get(f"{section_name}_{key}", default=missing)
        if value is not missing:
            settings[key] = value
    return settings


class AsyncNoSqlBackendBase(ABC):
    """
    Minimal async adapter interface a backend must implement.
    """

    @classmethod
    @abstractmethod
    def configure_from_app(cls, app: App, variable_prefix: str) -> AsyncNoSqlBackendBase:
        """
        Classmethod to configure backend from app config.
        Called during NoSqlDatabase.init_app().
        """
        ...

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    def database_handle(self) -> Any:
        """
        Returns an object representing the 'database' to use inside handlers.
        For backends without a database concept, return a client/root handle.
        """
        ...

    @abstractmethod
    def supports_transactions(self) -> bool: ...

    @abstractmethod
    async def start_session(self) -> Any:
        """
        Return a session/context object usable in transactions (or None if unsupported).
        """
        ...

    @abstractmethod
    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None,
                               **kwargs: Any) -> Any:
        """
        Execute fn inside a transaction if supported; otherwise call fn directly.
        """
        ...

    @abstractmethod
    def get_collection(self, name: str) -> Any: ...

    @abstractmethod
    async def find_one(self, collection: str, filter: Mapping[str, Any], *, session: Any = None,
                       **kwargs: Any) -> Any: ...

    @abstractmethod
    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                        session: Any = None, limit: Optional[int] = None, skip: Optional[int] = None,  # noqa: UP045
                        sort: Optional[Iterable[tuple[str, int]]] = None,  # noqa: UP045
                        **kwargs: Any) -> list[Any]: ...

    @abstractmethod
    async def insert_one(self, collection: str, doc: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> Any: ...

    @abstractmethod
    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], *,
                          session: Any = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    async def update_one(self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any], *,
                         upsert: bool = False, session: Any = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    async def delete_one(self, collection: str, filter: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> Any: ...

    @abstractmethod
    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]], *,
                        session: Any = None, **kwargs: Any) -> list[Any]: ...

    @abstractmethod
    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """
        Backend escape hatch for commands that don't fit the generic surface.
        For MongoDB, this could be db.command(...), collection.bulk_write(...), etc.
        """
        ...
