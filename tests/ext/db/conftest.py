"""Fixtures for the database tests: every test that takes ``database_url``
runs twice, against SQLite (a file in the test's temporary directory) and
against the real PostgreSQL server.

PostgreSQL: ``DYNE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) is the server's admin
connection. The session creates its own database ``dyne_test_<random>`` there
and drops it at the end; after each test the ``public`` schema is emptied.
Without a server the PostgreSQL half skips with the reason (or fails under
``DYNE_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dyne
from tests.conftest import service_unavailable

ADMIN_URL = os.environ.get("DYNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONFIG_KEYS = ("ALCHEMICAL_DATABASE_URL", "ALCHEMICAL_BINDS", "ALCHEMICAL_ENGINE_OPTIONS",
               "ALCHEMICAL_AUTOCOMMIT")


def with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def _execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"),
                                       timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def postgres_execute(url: str, *statements: str) -> None:
    """Run SQL statements with a short-lived admin connection (in a thread of
    its own when this one runs an event loop: Playwright's sync API does)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_execute(url, *statements))
        return
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _execute(url, *statements)).result()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[tuple[str | None, str]]:
    """``(url, "")`` of this session's own PostgreSQL database, or
    ``(None, reason)`` when the server cannot be reached."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        yield None, 'asyncpg is not installed (pip install "dyne[sqlalchemy]")'
        return
    name = f"dyne_test_{secrets.token_hex(6)}"
    try:
        postgres_execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    except Exception as exc:
        yield None, f"cannot create a database through {ADMIN_URL}: {type(exc).__name__}: {exc}"
        return
    try:
        yield with_database(ADMIN_URL, name), ""
    finally:
        postgres_execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_postgres_schema(url: str) -> None:
    """Empty the ``public`` schema; connections a test left behind are ended."""
    reset = ("SET lock_timeout = '3s'", "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    try:
        postgres_execute(url, *reset)
    except Exception:
        database = url.rpartition("/")[2]
        postgres_execute(ADMIN_URL, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        postgres_execute(url, *reset)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any,
                 postgres_database: tuple[str | None, str]) -> Iterator[str]:
    """A database URL, as a user would write it (sync driver names)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url, reason = postgres_database
    if url is None:
        service_unavailable("PostgreSQL", reason)
    try:
        yield url  # type: ignore[misc]
    finally:
        reset_postgres_schema(url)  # type: ignore[arg-type]


@pytest.fixture
def postgres_url(postgres_database: tuple[str | None, str]) -> Iterator[str]:
    """The PostgreSQL test database's URL (PostgreSQL only, unlike ``database_url``)."""
    url, reason = postgres_database
    if url is None:
        service_unavailable("PostgreSQL", reason)
    try:
        yield url  # type: ignore[misc]
    finally:
        reset_postgres_schema(url)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_database_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in CONFIG_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., tuple[dyne.App, Any]]]:
    """``app, db = make_app(**config)``: an app with ``Alchemical(app)`` on the
    test database (``ALCHEMICAL_*`` config keys as keyword arguments). Its test
    client is closed after the test (which disposes the engines)."""
    from dyne.ext.db.alchemical import Alchemical

    made: list[dyne.App] = []

    def make(**config: Any) -> tuple[dyne.App, Any]:
        app = dyne.App()
        app.config["ALCHEMICAL_DATABASE_URL"] = database_url
        for key, value in config.items():
            app.config[key] = value
        db = Alchemical(app)

        @app.on_event("startup")
        async def create_tables() -> None:
            await db.create_all()

        made.append(app)
        return app, db

    yield make
    for app in made:
        if app._client is not None:
            app._client.close()
