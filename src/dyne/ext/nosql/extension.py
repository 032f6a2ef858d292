"""``NoSqlDatabase``: the extension object (PyJolt's surface, dyne's protocol)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from dyne.concurrency import is_async_callable
from dyne.exceptions import HTTPException
from dyne.extensions import Extension

from .backends.base import AsyncNoSqlBackendBase, DuplicateKeyError, InvalidQuery, NoSqlError, nosql_settings

if TYPE_CHECKING:
    from dyne.app import App

__all__ = ["BACKEND_ALIASES", "NoSqlDatabase"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

#: Short names accepted as ``BACKEND``.
BACKEND_ALIASES = {
    "mongo": "dyne.ext.nosql.backends.mongo:MongoBackend",
    "mongodb": "dyne.ext.nosql.backends.mongo:MongoBackend",
    "postgres": "dyne.ext.nosql.backends.postgres:PostgresJsonBackend",
    "postgresql": "dyne.ext.nosql.backends.postgres:PostgresJsonBackend",
}


def resolve_backend(value: Any) -> type[AsyncNoSqlBackendBase]:
    """A backend class from ``BACKEND``: the class, ``"module:Class"`` or an alias."""
    if isinstance(value, str):
        target = BACKEND_ALIASES.get(value.lower(), value)
        module_name, _, attribute = target.partition(":")
        if not attribute:
            raise NoSqlError(f"BACKEND {value!r}: give a class, 'module:Class' or one of "
                             f"{', '.join(sorted(BACKEND_ALIASES))}")
        value = getattr(importlib.import_module(module_name), attribute)
    if not (isinstance(value, type) and issubclass(value, AsyncNoSqlBackendBase)):
        raise NoSqlError(f"BACKEND must be an AsyncNoSqlBackendBase subclass, not {value!r}")
    return value


async def _duplicate_key(req: Any, resp: Any, exc: Exception) -> None:
    raise HTTPException(409, detail=str(exc))


async def _invalid_query(req: Any, resp: Any, exc: Exception) -> None:
    raise HTTPException(400, detail=str(exc))


class NoSqlDatabase(Extension):
    """A document database configured from ``NOSQL_DATABASE`` (or
    ``{variable_prefix}NOSQL_DATABASE``): ``BACKEND``, ``DATABASE_URI``,
    ``DATABASE``, ``DB_INJECT_NAME`` (default ``"db"``), ``SESSION_NAME``
    (default ``"session"``). Connected at startup, disconnected at shutdown.
    Its ``DuplicateKeyError`` becomes a 409 and ``InvalidQuery`` a 400."""

    name = "nosql"

    def __init__(self, app: App | None = None, *, variable_prefix: str = "") -> None:
        self._backend: AsyncNoSqlBackendBase | None = None
        self._names = ("db", "session")
        super().__init__(app, variable_prefix=variable_prefix,
                         configs_name=f"{variable_prefix}NOSQL_DATABASE")

    def setup(self, app: App) -> None:
        handlers = getattr(app, "_exception_handlers", None)
        for error, handler in ((DuplicateKeyError, _duplicate_key), (InvalidQuery, _invalid_query)):
            if not handlers or error not in handlers:
                app.error_handler(error)(handler)

    # -- settings -----------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return nosql_settings(self.require_app(), self.variable_prefix)

    @property
    def db_name(self) -> str | None:
        """The ``DATABASE`` setting."""
        return self.settings().get("DATABASE")

    @property
    def db_inject_name(self) -> str:
        return str(self.settings().get("DB_INJECT_NAME") or "db")

    @property
    def session_name(self) -> str:
        return str(self.settings().get("SESSION_NAME") or "session")

    # -- lifecycle ----------------------------------------------------------------------

    async def on_startup(self) -> None:
        await self.connect()

    async def on_shutdown(self) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        """Make the backend from the config and connect it (done at startup)."""
        if self._backend is not None:
            return
        app = self.require_app()
        settings = self.settings()
        if "BACKEND" not in settings:
            raise NoSqlError(f"{self.variable_prefix}NOSQL_DATABASE needs a BACKEND")
        backend_class = resolve_backend(settings["BACKEND"])
        backend = backend_class.configure_from_app(app, self.variable_prefix)
        await backend.connect()
        # Read once here rather than on every managed call.
        self._names = (str(settings.get("DB_INJECT_NAME") or "db"),
                       str(settings.get("SESSION_NAME") or "session"))
        self._backend = backend

    async def disconnect(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.disconnect()

    @property
    def backend(self) -> AsyncNoSqlBackendBase:
        if not self._backend:
            raise RuntimeError("Backend not connected. Was init_app/connect called?")
        return self._backend

    # -- the document API ----------------------------------------------------------------

    def database_handle(self) -> Any:
        return self.backend.database_handle()

    def get_collection(self, name: str) -> Any:
        return self.backend.get_collection(name)

    async def find_one(self, collection: str, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return await self.backend.find_one(collection, filter or {}, **kwargs)

    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None,
                        **kwargs: Any) -> list[Any]:
        """Matching documents; ``limit=``, ``skip=``, ``sort=[(path, 1 | -1)]``."""
        return await self.backend.find_many(collection, filter, **kwargs)

    async def insert_one(self, collection: str, doc: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.insert_one(collection, doc, **kwargs)

    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], **kwargs: Any) -> Any:
        return await self.backend.insert_many(collection, docs, **kwargs)

    async def update_one(self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any],
                         **kwargs: Any) -> Any:
        """Update the first match; ``upsert=True`` inserts when nothing matches."""
        return await self.backend.update_one(collection, filter, update, **kwargs)

    async def delete_one(self, collection: str, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.delete_one(collection, filter, **kwargs)

    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]],
                        **kwargs: Any) -> list[Any]:
        return await self.backend.aggregate(collection, pipeline, **kwargs)

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """
        Escape hatch for backend-specific commands (a MongoDB command, or SQL
        with ``$n`` parameters for the PostgreSQL backend).
        """
        return await self.backend.execute_raw(*args, **kwargs)

    # -- managed transactions --------------------------------------------------------------

    def managed_database(self, func: F) -> F:
        """Run an async view (or any async function) in a transaction, with
        this extension injected as ``db`` and the transaction's session as
        ``session`` (``None`` when the backend has none). Pass the session to
        every call; an exception rolls the whole transaction back."""
        if not is_async_callable(func):
            raise TypeError(f"@managed_database needs an async function, not {func!r}")

        @functools.wraps(func)
        async def run_managed(*args: Any, **kwargs: Any) -> Any:
            backend = self.backend
            inject_name, session_name = self._names
            kwargs[inject_name] = self
            if not backend.supports_transactions():
                kwargs[session_name] = None
                return await func(*args, **kwargs)

            async def call(*call_args: Any, session: Any = None, **call_kwargs: Any) -> Any:
                call_kwargs[session_name] = session
                return await func(*call_args, **call_kwargs)

            session = await backend.start_session()
            return await backend.with_transaction(call, *args, session=session, **kwargs)

        return run_managed  # type: ignore[return-value]
