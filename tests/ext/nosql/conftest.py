"""Fixtures for the document-database tests.

``store`` is a connected backend, once per backend available:

* ``postgres``: the ``jsonb`` backend on the real PostgreSQL server
  (``DYNE_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``),
  in a schema ``dyne_nosql_<random>`` made for this test run and dropped at
  its end; each test gets its own table prefix.
* ``mongo``: MongoDB at ``DYNE_MONGODB_URL``. No MongoDB server can be
  installed on the project's machines, so without that variable these tests
  are left out at collection, and the run prints why (``NOT RUN: ...``), even
  under ``DYNE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.conftest import leave_out, service_unavailable

POSTGRES_URL = os.environ.get("DYNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MONGODB_URL = os.environ.get("DYNE_MONGODB_URL", "")
MONGO_SKIP = ("MongoDB contract tests: DYNE_MONGODB_URL is not set (no MongoDB server can "
              "be installed here; set it to mongodb://... to run them)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MONGODB_URL:
        return

    def uses_mongo(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        return (callspec is not None and callspec.params.get("store") == "mongo"
                and "tests/ext/nosql" in str(item.path).replace("\\", "/"))

    leave_out(config, items, uses_mongo, MONGO_SKIP)


async def _admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def nosql_schema() -> Iterator[tuple[str | None, str]]:
    """``(schema, "")`` for this run on the PostgreSQL server, or ``(None, reason)``."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        yield None, 'asyncpg is not installed (pip install "dyne[nosql]")'
        return
    schema = f"dyne_nosql_{secrets.token_hex(5)}"
    try:
        asyncio.run(_admin(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        yield None, f"cannot reach {POSTGRES_URL}: {type(exc).__name__}: {exc}"
        return
    try:
        yield schema, ""
    finally:
        asyncio.run(_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def postgres_settings(nosql_schema: tuple[str | None, str]) -> dict[str, Any]:
    """``NOSQL_DATABASE`` settings for the jsonb backend, with a fresh table prefix."""
    schema, reason = nosql_schema
    if schema is None:
        service_unavailable("PostgreSQL", reason)
    return {"BACKEND": "postgres", "DATABASE_URI": POSTGRES_URL, "DATABASE": schema,
            "TABLE_PREFIX": f"t{secrets.token_hex(4)}_"}


@pytest.fixture(params=["postgres", "mongo"])
async def store(request: pytest.FixtureRequest, nosql_schema: tuple[str | None, str]) -> AsyncIterator[Any]:
    """A connected backend; its collections are dropped after the test."""
    if request.param == "postgres":
        from dyne.ext.nosql.backends import PostgresJsonBackend

        schema, reason = nosql_schema
        if schema is None:
            service_unavailable("PostgreSQL", reason)
        backend: Any = PostgresJsonBackend(POSTGRES_URL, schema=schema,
                                           table_prefix=f"t{secrets.token_hex(4)}_")
    else:
        assert MONGODB_URL, "left out at collection without DYNE_MONGODB_URL"
        from dyne.ext.nosql.backends import MongoBackend

        backend = MongoBackend(MONGODB_URL, database=f"dyne_test_{secrets.token_hex(4)}",
                               transactions=os.environ.get("DYNE_MONGODB_TRANSACTIONS", "1") == "1")
    await backend.connect()
    try:
        yield backend
    finally:
        if request.param == "postgres":
            rows = await backend.execute_raw(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND starts_with(tablename, $2)",
                backend.schema, backend.table_prefix)
            for row in rows:
                await backend.drop_collection(row["tablename"][len(backend.table_prefix):])
        else:
            await backend.client.drop_database(backend.database_name)
        await backend.disconnect()
