"""MongoDB through PyMongo's asyncio API (``AsyncMongoClient``; Motor is
deprecated upstream). Configuration (``NOSQL_DATABASE``)::

    {"BACKEND": MongoBackend,                  # or "mongo"
     "DATABASE_URI": "mongodb://localhost:27017",
     "DATABASE": "app"}                        # default: the URI's database

Transactions need a replica set or a sharded cluster (MongoDB's rule); set
``"TRANSACTIONS": False`` for a standalone server, and ``session`` is
``None`` in ``@managed_database`` views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional

from .base import AsyncNoSqlBackendBase, DuplicateKeyError, NoSqlError, nosql_settings

if TYPE_CHECKING:
    from dyne.app import App

__all__ = ["MongoBackend"]


class MongoBackend(AsyncNoSqlBackendBase):
    """The ``AsyncNoSqlBackendBase`` methods on a PyMongo ``AsyncMongoClient``;
    results are PyMongo's (``inserted_id``, ``matched_count``...)."""

    def __init__(self, uri: str, database: str | None = None, transactions: bool = True,
                 client_options: Mapping[str, Any] | None = None) -> None:
        self.uri = uri
        self.database_name = database
        self.transactions = transactions
        self.client_options = dict(client_options or {})
        self.client: Any = None
        self._db: Any = None

    @classmethod
    def configure_from_app(cls, app: App, variable_prefix: str) -> MongoBackend:
        settings = nosql_settings(app, variable_prefix)
        uri = settings.get("DATABASE_URI")
        if not uri:
            raise NoSqlError(f"{variable_prefix}NOSQL_DATABASE needs a DATABASE_URI (mongodb://...)")
        transactions = settings.get("TRANSACTIONS", True)
        if isinstance(transactions, str):
            transactions = transactions.strip().lower() not in ("0", "false", "no", "off")
        return cls(uri, settings.get("DATABASE"), bool(transactions), settings.get("CLIENT_OPTIONS"))

    async def connect(self) -> None:
        if self.client is not None:
            return
        try:
            from pymongo import AsyncMongoClient
        except ModuleNotFoundError as exc:
            raise ImportError('MongoBackend needs PyMongo: pip install "dyne[nosql]"') from exc
        self.client = AsyncMongoClient(self.uri, **self.client_options)
        await self.client.aconnect()
        self._db = (self.client[self.database_name] if self.database_name
                    else self.client.get_default_database())

    async def disconnect(self) -> None:
        client, self.client, self._db = self.client, None, None
        if client is not None:
            await client.close()

    def database_handle(self) -> Any:
        if self._db is None:
            raise NoSqlError("MongoBackend is not connected (did the app start?)")
        return self._db

    def get_collection(self, name: str) -> Any:
        return self.database_handle()[name]

    def supports_transactions(self) -> bool:
        return self.transactions

    async def start_session(self) -> Any:
        if not self.transactions:
            return None
        if self.client is None:
            raise NoSqlError("MongoBackend is not connected (did the app start?)")
        return self.client.start_session()

    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None,
                               **kwargs: Any) -> Any:
        """Run ``await fn(*args, session=session, **kwargs)`` in a transaction
        (committed on return, aborted on an exception); the session is ended."""
        if not self.transactions:
            return await fn(*args, session=None, **kwargs)
        own = session if session is not None else await self.start_session()
        try:
            async with await own.start_transaction():
                return await fn(*args, session=own, **kwargs)
        finally:
            await own.end_session()

    async def find_one(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                       session: Any = None, **kwargs: Any) -> Any:
        return await self.get_collection(collection).find_one(filter or {}, session=session, **kwargs)

    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                        session: Any = None, limit: Optional[int] = None, skip: Optional[int] = None,  # noqa: UP045
                        sort: Optional[Iterable[tuple[str, int]]] = None,  # noqa: UP045
                        **kwargs: Any) -> list[Any]:
        cursor = self.get_collection(collection).find(filter or {}, session=session, **kwargs)
        if sort:
            cursor = cursor.sort(list(sort.items()) if isinstance(sort, Mapping) else list(sort))
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list()

    async def insert_one(self, collection: str, doc: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> Any:
        # PyMongo writes the new _id into the document it is given: give it a copy.
        return await self._write(self.get_collection(collection).insert_one(
            dict(doc), session=session, **kwargs))

    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], *,
                          session: Any = None, **kwargs: Any) -> Any:
        return await self._write(self.get_collection(collection).insert_many(
            [dict(doc) for doc in docs], session=session, **kwargs))

    async def update_one(self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any], *,
                         upsert: bool = False, session: Any = None, **kwargs: Any) -> Any:
        return await self._write(self.get_collection(collection).update_one(
            filter, update, upsert=upsert, session=session, **kwargs))

    async def delete_one(self, collection: str, filter: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> Any:
        return await self.get_collection(collection).delete_one(filter, session=session, **kwargs)

    async def count_documents(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                              session: Any = None) -> int:
        return int(await self.get_collection(collection).count_documents(filter or {}, session=session))

    async def drop_collection(self, collection: str, *, session: Any = None) -> None:
        await self.database_handle().drop_collection(collection, session=session)

    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]], *,
                        session: Any = None, **kwargs: Any) -> list[Any]:
        cursor = await self.get_collection(collection).aggregate(list(pipeline), session=session, **kwargs)
        return await cursor.to_list()

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """``database.command(*args, **kwargs)``, e.g. ``execute_raw("ping")``."""
        return await self.database_handle().command(*args, **kwargs)

    @staticmethod
    async def _write(operation: Any) -> Any:
        from pymongo.errors import BulkWriteError
        from pymongo.errors import DuplicateKeyError as MongoDuplicateKeyError

        try:
            return await operation
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"A document with this _id already exists: {exc}") from exc
        except BulkWriteError as exc:
            if any(error.get("code") == 11000 for error in exc.details.get("writeErrors", [])):
                raise DuplicateKeyError(f"A document with this _id already exists: {exc}") from exc
            raise
