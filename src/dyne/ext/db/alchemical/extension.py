"""``Alchemical``: SQLAlchemy (async) for a dyne application.

``Alchemical(app)`` (or ``Alchemical()`` then ``init_app(app)``) registers
itself as ``app.extensions["db"]`` and ``app.state.db``, provides
``await req.db``, and hooks into the app's lifecycle:

* start-up: reads the configuration and creates the engines and the session
  factory, once (a missing ``ALCHEMICAL_DATABASE_URL`` fails here, clearly);
* each request: nothing, until ``await req.db`` creates the request's session;
  every later ``await req.db`` returns the same one;
* end of each request (``teardown_request``, before the response is sent):
  commit if ``ALCHEMICAL_AUTOCOMMIT`` is on and nothing failed, then close,
  which rolls back anything uncommitted and returns the connection;
* shutdown: the engines' pools are disposed.

The configuration is read on first need rather than in ``__init__``, so
``Alchemical(app)`` may come before or after ``app.config.from_object(...)``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from alchemical.aio import Alchemical as _AlchemicalBase
from alchemical.core import Alchemical as _SyncAlchemical
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from dyne.extensions import Extension
from dyne.request import Request

from .errors import add_error_handlers, data_errors_as_data_error
from .model import Model
from .pagination import Pagination, paginate
from .pool import ping_after_idle
from .scope import SCOPE_KEY, SessionScope
from .session import RoutingSession
from .transaction import decode_body_early, read_only_wrapper, transactional

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Engine

    from dyne.app import App
    from dyne.response import Response

__all__ = ["Alchemical"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

#: Sync driver URLs and the async drivers used instead.
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
}

#: Default ``ping_after_idle``: pooled connections idle this long (seconds) are pinged before use.
PING_AFTER_IDLE = 1.0

#: Default ``early_decode_limit``: structured bodies up to 1 MiB are decoded before the view.
EARLY_DECODE_LIMIT = 1024 * 1024


class Alchemical(_AlchemicalBase, Extension):  # type: ignore[misc]
    """The database extension.

    :param app: the application; or call ``init_app(app)`` later.
    :param url: the database URL, instead of ``ALCHEMICAL_DATABASE_URL``.
    :param binds: ``{name: url}`` of more databases, instead of
        ``ALCHEMICAL_BINDS``; a model chooses one with ``__bind_key__``.
    :param engine_options: keyword arguments for ``create_async_engine``
        (``pool_size``, ``echo``...), instead of ``ALCHEMICAL_ENGINE_OPTIONS``;
        may be a callable ``options(bind_key)``.
    :param autocommit: commit each request's session at its end when nothing
        failed, instead of ``ALCHEMICAL_AUTOCOMMIT`` (default: off).
    :param session_options: keyword arguments for the session factory
        (``expire_on_commit`` is ``False`` unless given: objects stay readable
        after a commit, which async code needs).
    :param model_class: a declarative base to use instead of ``Model``.
    :param naming_convention: constraint naming convention for the metadata.
    :param map_errors: answer database errors caused by the request's data
        with 4xx instead of 500 (see ``docs/database.md``): ``IntegrityError``
        -> 409, ``DataError`` -> 400, ``FieldError`` -> 400.
    :param retry_after: the ``Retry-After`` (seconds) of the 503 that answers
        a request when the database is lost or unreachable (``map_errors``).
    :param ping_after_idle: a pooled connection that has been idle for at
        least this many seconds is pinged before use and replaced if the
        server dropped it (default 1.0); connections used more recently are
        handed out without a round trip. ``0`` pings every connection
        (SQLAlchemy's ``pool_pre_ping``), ``None`` none. A ``pool_pre_ping``
        in the engine options takes precedence.
    :param early_decode_limit: request bodies in JSON, YAML, MessagePack or an
        urlencoded form, no larger than this many bytes (``Content-Length``),
        are decoded before the view runs, so that ``data = req.media()``
        works without ``await``, as Dyne's database examples write it. A
        malformed body is then a 400. ``None`` turns this off (inside
        ``@db.transaction`` the body is decoded whatever its size).

    URLs may name sync drivers (``sqlite:///app.db``,
    ``postgresql://user@host/db``): the async driver (aiosqlite, asyncpg) is
    used instead.
    """

    prefix_map = ASYNC_DRIVERS
    #: ``app.extensions["db"]``.
    name = "db"

    def __init__(self, app: App | None = None, *, url: Any = None,
                 binds: dict[str, Any] | None = None, engine_options: Any = None,
                 autocommit: bool | None = None, session_options: dict[str, Any] | None = None,
                 model_class: type | None = None, naming_convention: dict[str, str] | None = None,
                 map_errors: bool = True, early_decode_limit: int | None = EARLY_DECODE_LIMIT,
                 retry_after: int = 5, ping_after_idle: float | None = PING_AFTER_IDLE) -> None:
        _AlchemicalBase.__init__(self, session_options=session_options, model_class=model_class,
                                 naming_convention=naming_convention)
        # Extension.__init__, which the base class does not chain to:
        self.app: App | None = None
        self.variable_prefix = ""
        self.map_errors = map_errors
        self.retry_after = int(retry_after)
        self.early_decode_limit = early_decode_limit
        self.ping_after_idle = ping_after_idle
        self._given = {"url": url, "binds": binds, "engine_options": engine_options,
                       "autocommit": autocommit}
        self._autocommit = False
        self._configured = False
        self._sync: Any = None
        #: Whether ``@db.read_only`` runs a request's reads without a transaction
        #: (the default database is PostgreSQL); known once the engines exist.
        self.autocommit_reads = False
        self._autocommit_engines: dict[Any, Any] = {}
        self._read_only_engines: dict[Any, Any] = {}
        #: The engine of each mapper's bind, as ``RoutingSession.get_bind`` finds it.
        self._mapper_engines: dict[Any, Any] = {}
        self.session_class: Any = None
        self._config_lock = threading.Lock()
        if app is not None:
            self.init_app(app)

    def _get_declarative_base(self, model_class: type | None) -> type:
        return Model if model_class is None else super()._get_declarative_base(model_class)

    # -- application ------------------------------------------------------------------

    def init_app(self, app: App) -> None:
        """Register with ``app``: ``app.extensions["db"]``, ``app.state.db``,
        ``req.db``, start-up/shutdown/teardown hooks and error mapping."""
        if self.app is not None and self.app is not app:
            raise RuntimeError("This Alchemical instance already belongs to another app; "
                               "create one Alchemical per app")
        super().init_app(app)

    def register(self, app: App) -> bool:
        existing = app.extensions.get("db")
        if existing is not None and existing is not self:
            raise RuntimeError(f"This app already has a database extension: {existing!r}. "
                               "One Alchemical per app; use ALCHEMICAL_BINDS for more databases.")
        return super().register(app)

    def setup(self, app: App) -> None:
        app.state.db = self
        app.add_request_property("db", self.request_session)
        app.teardown_request(self._teardown)
        if self.map_errors:
            add_error_handlers(app, self.retry_after)
        if self.early_decode_limit:
            app.add_route_hook(self._decode_small_body)

    async def on_startup(self) -> None:
        """Read the configuration and create the engines and session factory."""
        await self._startup()

    async def on_shutdown(self) -> None:
        await self.dispose()

    async def _startup(self) -> None:
        self._configure()
        self.get_engine()
        self.Session  # noqa: B018 - the session factory, made once here

    async def _decode_small_body(self, req: Request, resp: Response, route: Any) -> None:
        """Decode a small structured body before the view (matched routes
        only, and only in a format the route accepts, within its limits)."""
        if req.scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return
        length = req.raw_header(b"content-length")
        limit = self.early_decode_limit
        if length is not None and length.isdigit() and limit and 0 < int(length) <= limit:
            await decode_body_early(req, route, int(length))

    async def _teardown(self, req: Request, resp: Response, error: BaseException | None) -> None:
        scope = req.scope.get(SCOPE_KEY)
        if scope is not None and scope.db is self:
            await scope.finish(error)

    # -- configuration ----------------------------------------------------------------

    def _configure(self) -> None:
        """Read the configuration (once): explicit arguments first, then the
        app's config. Raises ``RuntimeError("Missing required config:
        ALCHEMICAL_DATABASE_URL")`` without a URL."""
        if self._configured:
            return
        with self._config_lock:
            if self._configured:
                return
            given = self._given
            config = self.app.config if self.app is not None else None
            url = given["url"]
            if url is None:
                if config is None:
                    raise RuntimeError("Alchemical needs a database URL: Alchemical(app) with "
                                       "ALCHEMICAL_DATABASE_URL in app.config, or Alchemical(url=...)")
                url = config.require("ALCHEMICAL_DATABASE_URL")
            url = _url_string(url, "ALCHEMICAL_DATABASE_URL")
            binds = given["binds"]
            if binds is None and config is not None:
                binds = config.get("ALCHEMICAL_BINDS", cast=dict)
            binds = {str(key): _url_string(value, f"ALCHEMICAL_BINDS[{key!r}]")
                     for key, value in (binds or {}).items()}
            options = given["engine_options"]
            if options is None and config is not None:
                raw = config.get("ALCHEMICAL_ENGINE_OPTIONS")
                options = raw if callable(raw) else config.get("ALCHEMICAL_ENGINE_OPTIONS", cast=dict)
            autocommit = given["autocommit"]
            if autocommit is None:
                autocommit = (config.get("ALCHEMICAL_AUTOCOMMIT", default=False, cast=bool)
                              if config is not None else False)
            self.initialize(url=url, binds=binds or None, engine_options=options or {})
            self._autocommit = bool(autocommit)
            self._configured = True

    @property
    def autocommit(self) -> bool:
        """Whether request sessions are committed at the end of the request."""
        self._configure()
        return self._autocommit

    # -- engines ------------------------------------------------------------------------

    def _fix_url(self, url: str) -> str:
        return str(super()._fix_url(url))

    def _create_engine(self, url: str, *args: Any, **kwargs: Any) -> AsyncEngine:
        try:
            return create_async_engine(url, *args, **kwargs)
        except ModuleNotFoundError as exc:
            raise ImportError(f"The database URL {_hide_password(url)} needs the {exc.name!r} "
                              f"driver, which is not installed (pip install {exc.name})") from exc

    def engine_arguments(self, bind: str | None = None) -> tuple[str, dict[str, Any]]:
        """The (async) URL and engine options of the default database or of a
        bind (used to make separate engines, e.g. for migrations)."""
        self._configure()
        url = self.url if bind is None else (self.binds or {}).get(bind)
        if url is None:
            raise KeyError(f"No bind {bind!r} in ALCHEMICAL_BINDS")
        options = self.engine_options(bind) if callable(self.engine_options) else self.engine_options
        options = dict(options or {})
        if "pool_pre_ping" not in options and self.ping_after_idle is not None \
                and self.ping_after_idle <= 0:
            options["pool_pre_ping"] = True
        return self._fix_url(url), options

    def _create_engines(self) -> None:
        self._configure()
        for metadata in self.metadatas.values():
            metadata.naming_convention = self.naming_convention
        engines: dict[str | None, AsyncEngine] = {}
        for bind in [None, *(self.binds or {})]:
            url, options = self.engine_arguments(bind)
            engine = engines[bind] = self._create_engine(url, **options)
            event.listen(engine.sync_engine, "handle_error", data_errors_as_data_error)
            if "pool_pre_ping" not in options and self.ping_after_idle is not None:
                # A pooled connection the server dropped (restart, failover,
                # idle timeout) is replaced before use instead of failing a
                # request; one used within the last moments is not pinged.
                ping_after_idle(engine.sync_engine, self.ping_after_idle)
        # Statements are routed by RoutingSession.get_bind, not a table list.
        self.table_binds: dict[Any, Any] = {}
        # PostgreSQL reads need no transaction: @db.read_only runs a request's
        # reads on autocommit connections of the same pools, which saves the
        # BEGIN and ROLLBACK round trips (other databases gain nothing).
        postgres = [engine.sync_engine for engine in engines.values()
                    if engine.dialect.name == "postgresql"]
        self._autocommit_engines = {
            engine: _sibling_engine(engine, isolation_level="AUTOCOMMIT") for engine in postgres}
        # Sessions that never write begin PostgreSQL transactions READ ONLY
        # (BEGIN READ ONLY: no extra round trip).
        self._read_only_engines = {
            engine: _sibling_engine(engine, postgresql_readonly=True) for engine in postgres}
        self.autocommit_reads = engines[None].dialect.name == "postgresql"
        self._mapper_engines = {}
        self.engines = engines

    def autocommit_engine(self, engine: Engine) -> Engine:
        """The engine whose connections (from ``engine``'s pool) run without a
        transaction: the same engine when its database gains nothing from it."""
        return self._autocommit_engines.get(engine, engine)

    def read_only_engine(self, engine: Engine) -> Engine:
        """The engine whose connections (from ``engine``'s pool) begin read-only
        transactions: the same engine when its database has none (SQLite)."""
        return self._read_only_engines.get(engine, engine)

    def get_engine(self, bind: str | None = None) -> AsyncEngine | None:
        """The engine of the default database, or of a bind (``None`` for an
        unknown bind). Engines are created once, on first use."""
        self._configure()
        if self.engines is None:
            with self.lock:
                if self.engines is None:
                    self._create_engines()
        return self.engines.get(bind)  # type: ignore[no-any-return]

    def engine_for_metadata(self, metadata: MetaData | None) -> AsyncEngine:
        """The engine for the tables of ``metadata`` (a bind's, or the default)."""
        if metadata is not None:
            for key, candidate in self.metadatas.items():
                if candidate is metadata and key is not None:
                    engine = self.get_engine(key)
                    if engine is None:
                        raise RuntimeError(f"Models with __bind_key__ = {key!r} need that database: "
                                           f"add {key!r} to ALCHEMICAL_BINDS")
                    return engine
        engine = self.get_engine()
        assert engine is not None
        return engine

    async def dispose(self) -> None:
        """Close the engines' pooled connections (done at shutdown). The engines
        stay usable and reconnect on next use."""
        for engine in list((self.engines or {}).values()):
            await engine.dispose()

    # -- schema ---------------------------------------------------------------------------

    def _metadatas_with_engines(self) -> list[tuple[MetaData, AsyncEngine]]:
        pairs = []
        for key, metadata in list(self.metadatas.items()):
            if key is not None and not metadata.tables:
                continue
            pairs.append((metadata, self.engine_for_metadata(metadata)))
        return pairs

    async def create_all(self) -> None:
        """Create the tables of every model that do not exist yet, in each
        model's database. Existing tables are left as they are (use migrations
        to change them)."""
        for metadata, engine in self._metadatas_with_engines():
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)

    async def drop_all(self) -> None:
        """Drop the tables of every model. Destructive."""
        for metadata, engine in self._metadatas_with_engines():
            async with engine.begin() as connection:
                await connection.run_sync(metadata.drop_all)

    async def run_sync(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``f(sync_db, ...)`` with a synchronous Alchemical sharing these
        engines (Alchemical's API)."""
        from sqlalchemy.util.concurrency import greenlet_spawn

        if self._sync is None:
            self.get_engine()
            sync = _SyncAlchemical(url=self.url, binds=self.binds, model_class=self.Model,
                                   naming_convention=self.naming_convention)
            sync.engines = {bind: engine.sync_engine for bind, engine in self.engines.items()}
            sync.table_binds = {
                table: self.engines[key].sync_engine
                for key, metadata in self.metadatas.items() if key in self.engines and key is not None
                for table in metadata.tables.values()}
            self._sync = sync
        return await greenlet_spawn(f, self._sync, *args, **kwargs)

    # -- sessions ---------------------------------------------------------------------------

    @property
    def Session(self) -> async_sessionmaker[AsyncSession]:
        """The session factory: ``async with db.Session() as session``. Made once."""
        if self.session_class is None:
            engine = self.get_engine()
            routing = type("Session", (RoutingSession,), {"_dyne_db": self})
            options: dict[str, Any] = {"expire_on_commit": False}
            options.update(self.session_options)
            self.session_class = async_sessionmaker(bind=engine, sync_session_class=routing, **options)
        return self.session_class  # type: ignore[no-any-return]

    async def request_session(self, connection: Any) -> AsyncSession:
        """The session of a request (what ``await req.db`` returns): created on
        the first call, the same one afterwards, closed when the request ends.

        ``connection`` is a dyne ``Request``, or — under ``AlchemicalMiddleware``
        — a websocket or an ASGI scope."""
        scope = connection if isinstance(connection, dict) else getattr(connection, "scope", None)
        if not isinstance(scope, dict):
            raise TypeError(f"request_session() needs a request, a websocket or an ASGI scope, "
                            f"got {connection!r}")
        holder = scope.get(SCOPE_KEY)
        if holder is None:
            app = connection.app if isinstance(connection, Request) else scope.get("app")
            if scope.get("type") != "http" or getattr(app, "extensions", {}).get("db") is not self:
                raise RuntimeError("No request-scoped database session here: `await req.db` works in "
                                   "the HTTP requests of the app given to Alchemical(app); for websockets "
                                   "and mounted ASGI apps add AlchemicalMiddleware(app, db=db), or use "
                                   "`async with db.session() as session:`.")
            holder = scope[SCOPE_KEY] = SessionScope(self, autocommit=self.autocommit)
        elif holder.db is not self:
            raise RuntimeError("This request's session belongs to another Alchemical instance")
        return holder.open()

    @asynccontextmanager
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session of its own for the block, for work outside a request (a
        background task, a script), made the active one so ``CRUDMixin`` uses
        it. Nothing is committed unless you commit; it is closed at the end.
        ``read_only=True`` refuses writes (and, on PostgreSQL, begins its
        transactions ``READ ONLY``)."""
        scope = SessionScope(self, read_only=read_only)
        session = scope.open()
        error: BaseException | None = None
        try:
            yield session
        except BaseException as exc:
            error = exc
            raise
        finally:
            await scope.finish(error)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A session of its own with a transaction: committed at the end of the
        block, rolled back if it raises; active for ``CRUDMixin``."""
        async with self.session() as session, session.begin():
            yield session

    # -- decorators ----------------------------------------------------------------------------

    def transaction(self, func: F | None = None) -> Any:
        """Run an async function in a transaction: ``@db.transaction``.

        The session is the request's (``req`` is found among the arguments,
        positional or keyword; it is opened lazily), else the active one, else
        a session of its own for the call. The transaction is committed when
        the function returns and rolled back when it raises. Inside another
        ``@db.transaction`` (or a ``session.begin()`` block) it joins that
        transaction: no commit, no rollback of its own.

        For a request whose body is JSON, YAML, MessagePack or an urlencoded
        form (or empty), the body is decoded before the function runs, so
        ``data = req.media()`` works without ``await`` (a malformed body is a
        400). Multipart bodies are left to ``@input`` or the view.
        """
        if func is None:
            return self.transaction
        return transactional(self, func)

    def read_only(self, func: F | None = None) -> Any:
        """Run an async function with a session that refuses writes:
        ``@db.read_only``. Flushing new, changed or deleted objects, and ORM
        ``insert``/``update``/``delete`` statements, raise ``ReadOnlyError``
        while it runs. The session is found like ``@db.transaction`` finds
        it; without a request or an active session, the call gets a session of
        its own, which PostgreSQL also runs as a ``READ ONLY`` transaction."""
        if func is None:
            return self.read_only
        return read_only_wrapper(self, func)

    def managed_session(self, func: Callable[..., Any] | None = None, *,
                        session_name: str = "session") -> Any:
        """Inject a session of the call's own as the keyword argument
        ``session`` (``session_name=`` names it otherwise):
        ``@db.managed_session``, PyJolt's decorator. It is committed when the
        function returns, rolled back when it raises, and always closed.

        Works on ``(req, resp)`` views, async or plain ``def`` (which receive a
        synchronous ``Session``), and on methods ``(self, req, ...)``. While
        the call runs it is the active session (``CRUDMixin``,
        ``Model.query()``); a session the caller passes by keyword is used
        as it is, neither committed nor closed. A function without a
        ``session`` parameter (or ``**kwargs``) is a ``TypeError`` here.
        """
        from .managed import session_decorator

        return session_decorator(self, func, read_only=False, session_name=session_name)

    def readonly_session(self, func: Callable[..., Any] | None = None, *,
                         session_name: str = "session") -> Any:
        """Like ``managed_session``, with a session that refuses writes:
        flushing (or committing) new, changed or deleted objects and ORM
        ``insert``/``update``/``delete`` statements raise ``ReadOnlyError``;
        on PostgreSQL its transactions are begun ``READ ONLY``, so raw SQL
        cannot write either. Nothing is committed; it is always closed."""
        from .managed import session_decorator

        return session_decorator(self, func, read_only=True, session_name=session_name)

    # -- queries ----------------------------------------------------------------------------------

    async def paginate(self, statement: Any, *, page: int | None = None, per_page: int | None = None,
                       max_per_page: int | None = 100, request: Request | None = None,
                       session: AsyncSession | None = None) -> Pagination[Any]:
        """One page of ``statement`` (a ``select()`` or a model class) as a
        ``Pagination``: ``items, total, page, pages, per_page, has_next,
        has_prev``. With ``request=req``, ``?page=`` and ``?per_page=`` are read
        from it (invalid values are a 400). Runs on ``session``, else the
        request's, else the active session."""
        if session is None:
            if request is not None:
                session = await self.request_session(request)
            else:
                from .scope import current_session

                session = current_session()
        return await paginate(session, statement, page=page, per_page=per_page,
                              max_per_page=max_per_page, request=request)

    def __repr__(self) -> str:
        url = _hide_password(self.url) if self.url else "(not configured yet)"
        return f"<Alchemical {url}>"


# -- helpers -----------------------------------------------------------------------------------


def _sibling_engine(engine: Engine, **connection_options: Any) -> Engine:
    """An engine on ``engine``'s pool and dialect whose connections get
    ``connection_options`` (an isolation level...), set on each connection
    it hands out. ``engine.execution_options(...)`` would do the same through
    an ``engine_connect`` listener, and an engine with listeners runs its
    event checks on every statement; this one has none of its own (the
    pool's and the dialect's, ``handle_error`` included, are shared)."""
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine as SyncEngine

    class SiblingEngine(SyncEngine):
        def connect(self) -> Connection:
            return super().connect().execution_options(**connection_options)

    sibling = SiblingEngine(engine.pool, engine.dialect, engine.url, echo=engine.echo,
                            hide_parameters=engine.hide_parameters,
                            execution_options=engine.get_execution_options())
    sibling._compiled_cache = engine._compiled_cache  # the same statements, compiled once
    return sibling


def _url_string(value: Any, key: str) -> str:
    if hasattr(value, "render_as_string"):  # a sqlalchemy.engine.URL
        value = value.render_as_string(hide_password=False)
    if not isinstance(value, str) or not value.strip():
        raise RuntimeError(f"{key} must be a database URL such as sqlite:///app.db, got {value!r}")
    return value.strip()


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(invalid URL)"
