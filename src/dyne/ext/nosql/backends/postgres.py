"""A document store on PostgreSQL ``jsonb``, with real transactions.

Each collection is a table ``(_seq, _id jsonb PRIMARY KEY, doc jsonb)`` in
the schema named by ``DATABASE`` (default ``public``), created on first use.
Filters, sorts and pipelines are compiled by ``jsonb_sql`` into SQL whose
every value is a bind parameter. Configuration (``NOSQL_DATABASE``)::

    {"BACKEND": PostgresJsonBackend,           # or "postgres"
     "DATABASE_URI": "postgresql://user@host/dbname",
     "DATABASE": "documents",                   # the schema; created if missing
     "TABLE_PREFIX": "doc_"}                    # optional, in front of table names
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional

from .base import (
    AsyncNoSqlBackendBase,
    DeleteResult,
    DuplicateKeyError,
    InsertManyResult,
    InsertOneResult,
    InvalidQuery,
    NoSqlError,
    UpdateResult,
    nosql_settings,
)
from .jsonb_sql import (
    SqlBuilder,
    check_document,
    check_identifier,
    compile_filter,
    compile_pipeline,
    compile_projection,
    compile_sort,
    table_identifier,
)
from .updates import apply_update, new_object_id, upsert_seed

if TYPE_CHECKING:
    import asyncpg

    from dyne.app import App

__all__ = ["PostgresCollection", "PostgresJsonBackend", "PostgresSession"]


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class PostgresSession:
    """One connection in one transaction. Pass it as ``session=`` to scope
    operations to the transaction; ``commit()`` or ``rollback()`` ends it.
    Operations on one session must not run concurrently (one connection)."""

    def __init__(self, backend: PostgresJsonBackend, connection: asyncpg.Connection) -> None:
        self.backend = backend
        self.connection: asyncpg.Connection | None = connection
        self._transaction = connection.transaction()

    async def _begin(self) -> None:
        await self._transaction.start()

    @property
    def active(self) -> bool:
        return self.connection is not None

    async def commit(self) -> None:
        await self._finish(commit=True)

    async def rollback(self) -> None:
        await self._finish(commit=False)

    async def _finish(self, commit: bool) -> None:
        connection = self.connection
        if connection is None:
            return
        self.connection = None
        try:
            if commit:
                await self._transaction.commit()
            else:
                await self._transaction.rollback()
        finally:
            await self.backend._release(connection)

    async def __aenter__(self) -> PostgresSession:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self._finish(commit=exc_type is None)


class PostgresCollection:
    """A collection handle: the backend's methods with the collection given."""

    def __init__(self, backend: PostgresJsonBackend, name: str) -> None:
        table_identifier(backend.table_prefix, name)
        self.backend = backend
        self.name = name

    def __getattr__(self, method: str) -> Any:
        if method not in ("find_one", "find_many", "insert_one", "insert_many", "update_one",
                          "delete_one", "aggregate", "count_documents"):
            raise AttributeError(method)
        bound = getattr(self.backend, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return bound(self.name, *args, **kwargs)

        return call

    def __repr__(self) -> str:
        return f"<PostgresCollection {self.name!r}>"


class PostgresJsonBackend(AsyncNoSqlBackendBase):
    """MongoDB-style documents in PostgreSQL (see the module docs)."""

    def __init__(self, uri: str, schema: str = "public", table_prefix: str = "",
                 pool_options: Mapping[str, Any] | None = None) -> None:
        self.uri = uri.replace("postgresql+asyncpg://", "postgresql://")
        self.schema = schema
        self.schema_sql = check_identifier(schema, "schema name (DATABASE)")
        self.table_prefix = table_prefix
        self.pool_options = dict(pool_options or {})
        self._pool: asyncpg.Pool | None = None
        self._tables: set[str] = set()
        self._ddl: asyncpg.Connection | None = None
        self._ddl_lock = asyncio.Lock()

    @classmethod
    def configure_from_app(cls, app: App, variable_prefix: str) -> PostgresJsonBackend:
        settings = nosql_settings(app, variable_prefix)
        uri = settings.get("DATABASE_URI")
        if not uri:
            raise NoSqlError(f"{variable_prefix}NOSQL_DATABASE needs a DATABASE_URI "
                             "(postgresql://user@host/dbname)")
        return cls(uri, schema=settings.get("DATABASE") or "public",
                   table_prefix=settings.get("TABLE_PREFIX") or "",
                   pool_options=settings.get("POOL_OPTIONS"))

    # -- connection ---------------------------------------------------------------------

    async def connect(self) -> None:
        if self._pool is not None:
            return
        try:
            import asyncpg
        except ModuleNotFoundError as exc:
            raise ImportError('PostgresJsonBackend needs asyncpg: pip install "dyne[nosql]"') from exc

        async def init(connection: asyncpg.Connection) -> None:
            await connection.set_type_codec("jsonb", encoder=_dumps, decoder=json.loads,
                                            schema="pg_catalog")

        options = {"min_size": 1, "max_size": 10, **self.pool_options}
        self._pool = await asyncpg.create_pool(self.uri, init=init, **options)
        async with self._pool.acquire() as connection:
            await self._create_schema(connection)

    async def _create_schema(self, connection: asyncpg.Connection) -> None:
        import asyncpg

        try:
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema_sql}")
        except asyncpg.UniqueViolationError:  # created concurrently
            pass

    async def disconnect(self) -> None:
        pool, self._pool = self._pool, None
        ddl, self._ddl = self._ddl, None
        self._tables.clear()
        if ddl is not None:
            await ddl.close()
        if pool is not None:
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise NoSqlError("The PostgreSQL document backend is not connected (did the app start?)")
        return self._pool

    async def _release(self, connection: asyncpg.Connection) -> None:
        if self._pool is not None:
            await self._pool.release(connection)

    def database_handle(self) -> PostgresJsonBackend:
        """This backend; ``handle["users"]`` is the ``users`` collection."""
        return self

    def __getitem__(self, name: str) -> PostgresCollection:
        return self.get_collection(name)

    def get_collection(self, name: str) -> PostgresCollection:
        return PostgresCollection(self, name)

    # -- transactions --------------------------------------------------------------------

    def supports_transactions(self) -> bool:
        return True

    async def start_session(self) -> PostgresSession:
        connection = await self.pool.acquire()
        session = PostgresSession(self, connection)
        try:
            await session._begin()
        except BaseException:
            await self._release(connection)
            raise
        return session

    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None,
                               **kwargs: Any) -> Any:
        """Run ``await fn(*args, session=session, **kwargs)`` in a transaction:
        committed when it returns, rolled back when it raises. A given session
        (from ``start_session``) is used and ended; otherwise one is made."""
        if session is None:
            session = await self.start_session()
        try:
            result = await fn(*args, session=session, **kwargs)
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return result

    # -- plumbing ------------------------------------------------------------------------

    def _connection(self, session: Any) -> asyncpg.Connection | None:
        if session is None:
            return None
        if not isinstance(session, PostgresSession):
            raise NoSqlError(f"session= must be a session of this backend, not {session!r}")
        if session.connection is None:
            raise NoSqlError("This session has ended (committed or rolled back)")
        return session.connection

    async def _table(self, collection: str) -> str:
        """The qualified table of ``collection``, created if needed.

        Tables are created on a connection of their own, outside any session's
        transaction: a table created inside a transaction would lock the
        catalog until it ends (and vanish if it rolls back)."""
        table = f"{self.schema_sql}.{table_identifier(self.table_prefix, collection)}"
        if table in self._tables:
            return table
        import asyncpg

        statement = (f"CREATE TABLE IF NOT EXISTS {table} (_seq bigint GENERATED ALWAYS AS IDENTITY, "
                     "_id jsonb PRIMARY KEY, doc jsonb NOT NULL)")
        async with self._ddl_lock:
            if table in self._tables:
                return table
            if self._ddl is None or self._ddl.is_closed():
                self._ddl = await asyncpg.connect(self.uri, timeout=10)
            try:
                await self._ddl.execute(statement)
            except (asyncpg.UniqueViolationError, asyncpg.DuplicateTableError,
                    asyncpg.DuplicateObjectError):
                pass  # created concurrently by another process
            self._tables.add(table)
        return table

    async def _fetch(self, session: Any, sql: str, params: list[Any]) -> list[Any]:
        connection = self._connection(session)
        if connection is not None:
            return await self._run(connection.fetch, sql, params)
        async with self.pool.acquire() as own:
            return await self._run(own.fetch, sql, params)

    @staticmethod
    async def _run(method: Callable[..., Any], sql: str, params: list[Any]) -> Any:
        import asyncpg

        try:
            return await method(sql, *params)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateKeyError(f"A document with this _id already exists ({exc.detail})") from exc
        except (asyncpg.UntranslatableCharacterError, asyncpg.InvalidTextRepresentationError,
                asyncpg.CharacterNotInRepertoireError) as exc:
            raise InvalidQuery(f"The database refused a value: {exc}") from exc

    # -- queries ---------------------------------------------------------------------------

    async def find_one(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                       session: Any = None, **kwargs: Any) -> Any:
        found = await self.find_many(collection, filter, session=session, limit=1, **kwargs)
        return found[0] if found else None

    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                        session: Any = None, limit: Optional[int] = None, skip: Optional[int] = None,  # noqa: UP045
                        sort: Optional[Iterable[tuple[str, int]]] = None,  # noqa: UP045
                        projection: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        """Matching documents, in ``sort`` order (insertion order otherwise).
        ``limit`` 0 or ``None`` means no limit, as in PyMongo."""
        _no_extra(kwargs)
        table = await self._table(collection)
        builder = SqlBuilder()
        where = compile_filter(builder, filter, "doc", id_column="_id")
        order = ", ".join([*compile_sort(builder, sort), "_seq"])
        selected = compile_projection(builder, projection)
        sql = f"SELECT {selected} AS doc FROM {table} WHERE {where} ORDER BY {order}"
        if limit:
            sql += f" LIMIT {builder.param(_count(limit, 'limit'), 'bigint')}"
        if skip:
            sql += f" OFFSET {builder.param(_count(skip, 'skip'), 'bigint')}"
        rows = await self._fetch(session, sql, builder.params)
        return [row["doc"] for row in rows]

    async def count_documents(self, collection: str, filter: Mapping[str, Any] | None = None, *,
                              session: Any = None) -> int:
        table = await self._table(collection)
        builder = SqlBuilder()
        where = compile_filter(builder, filter, "doc", id_column="_id")
        rows = await self._fetch(session, f"SELECT count(*) AS n FROM {table} WHERE {where}",
                                 builder.params)
        return int(rows[0]["n"])

    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]], *,
                        session: Any = None, **kwargs: Any) -> list[Any]:
        _no_extra(kwargs)
        table = await self._table(collection)
        builder = SqlBuilder()
        sql = compile_pipeline(builder, table, pipeline)
        rows = await self._fetch(session, sql, builder.params)
        return [row["doc"] for row in rows]

    # -- writes ----------------------------------------------------------------------------

    def _prepare(self, doc: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        if not isinstance(doc, Mapping):
            raise InvalidQuery(f"A document is a mapping, not {type(doc).__name__}")
        document = dict(doc)
        if "_id" not in document:
            document = {"_id": new_object_id(), **document}
        if document["_id"] is None or isinstance(document["_id"], list | tuple):
            raise InvalidQuery("_id cannot be null or an array")
        check_document(document)
        return document["_id"], document

    async def insert_one(self, collection: str, doc: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> InsertOneResult:
        """Store ``doc`` (a copy; an ``_id`` is generated when absent)."""
        _no_extra(kwargs)
        identifier, document = self._prepare(doc)
        table = await self._table(collection)
        await self._fetch(session, f"INSERT INTO {table} (_id, doc) VALUES ($1::jsonb, $2::jsonb)",
                          [identifier, document])
        return InsertOneResult(identifier)

    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], *,
                          session: Any = None, **kwargs: Any) -> InsertManyResult:
        """Store all of ``docs``, or none of them (one transaction)."""
        _no_extra(kwargs)
        prepared = [self._prepare(doc) for doc in docs]
        if not prepared:
            return InsertManyResult([])
        table = await self._table(collection)
        sql = f"INSERT INTO {table} (_id, doc) VALUES ($1::jsonb, $2::jsonb)"
        connection = self._connection(session)
        if connection is not None:
            async with connection.transaction():
                await self._run(connection.executemany, sql, [prepared])  # type: ignore[list-item]
        else:
            async with self.pool.acquire() as own, own.transaction():
                await self._run(own.executemany, sql, [prepared])  # type: ignore[list-item]
        return InsertManyResult([identifier for identifier, _ in prepared])

    async def update_one(self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any], *,
                         upsert: bool = False, session: Any = None, **kwargs: Any) -> UpdateResult:
        """Apply ``update`` to the first matching document (in insertion order);
        with ``upsert=True`` insert one built from the filter's equalities when
        none matches."""
        _no_extra(kwargs)
        apply_update({}, update)  # refuse a malformed update before touching the database
        connection = self._connection(session)
        if connection is not None:
            async with connection.transaction():
                return await self._update_one(connection, collection, filter, update, upsert)
        async with self.pool.acquire() as own, own.transaction():
            return await self._update_one(own, collection, filter, update, upsert)

    async def _update_one(self, connection: asyncpg.Connection, collection: str,
                          filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool) -> UpdateResult:
        table = await self._table(collection)
        builder = SqlBuilder()
        where = compile_filter(builder, filter, "doc", id_column="_id")
        rows = await self._run(connection.fetch, f"SELECT _seq, doc FROM {table} WHERE {where} "
                                                 "ORDER BY _seq LIMIT 1 FOR UPDATE", builder.params)
        if not rows:
            if not upsert:
                return UpdateResult(0, 0)
            identifier, document = self._prepare(apply_update(upsert_seed(filter), update))
            await self._run(connection.fetch, f"INSERT INTO {table} (_id, doc) VALUES ($1::jsonb, $2::jsonb)",
                            [identifier, document])
            return UpdateResult(0, 0, identifier)
        before = rows[0]["doc"]
        after = apply_update(before, update)
        if after == before:
            return UpdateResult(1, 0)
        await self._run(connection.fetch, f"UPDATE {table} SET doc = $1::jsonb WHERE _seq = $2",
                        [after, rows[0]["_seq"]])
        return UpdateResult(1, 1)

    async def delete_one(self, collection: str, filter: Mapping[str, Any], *, session: Any = None,
                         **kwargs: Any) -> DeleteResult:
        """Delete the first matching document (in insertion order)."""
        _no_extra(kwargs)
        table = await self._table(collection)
        builder = SqlBuilder()
        where = compile_filter(builder, filter, "doc", id_column="_id")
        rows = await self._fetch(
            session, f"DELETE FROM {table} WHERE _seq = (SELECT _seq FROM {table} WHERE {where} "
                     "ORDER BY _seq LIMIT 1 FOR UPDATE) RETURNING _seq", builder.params)
        return DeleteResult(len(rows))

    async def drop_collection(self, collection: str, *, session: Any = None) -> None:
        """Drop the collection's table (and its documents)."""
        table = f"{self.schema_sql}.{table_identifier(self.table_prefix, collection)}"
        await self._fetch(session, f"DROP TABLE IF EXISTS {table}", [])
        self._tables.discard(table)

    async def execute_raw(self, *args: Any, session: Any = None, **kwargs: Any) -> Any:
        """Run your own SQL: ``execute_raw(sql, *params)``, returning the rows
        as dicts. ``$1``, ``$2``... are parameters; never put request data into
        the SQL text itself."""
        if not args or not isinstance(args[0], str):
            raise NoSqlError("execute_raw(sql, *params): the first argument is the SQL text")
        _no_extra(kwargs)
        rows = await self._fetch(session, args[0], list(args[1:]))
        return [dict(row) for row in rows]


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidQuery(f"{what} must be a non-negative integer")
    return value


def _no_extra(kwargs: Mapping[str, Any]) -> None:
    if kwargs:
        raise InvalidQuery(f"Unsupported option(s) for the PostgreSQL document backend: "
                           f"{', '.join(sorted(kwargs))}")
