"""Fixtures for the AI interface tests: a scripted OpenAI-compatible server
on a free loopback port, driven through the real ``openai`` client."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from tests.conftest import leave_out, serve_in_thread

from .scripted_server import ScriptedOpenAI

POSTGRES_URL = os.environ.get("DYNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pgvector_missing() -> str:
    """Why the PostgreSQL server cannot run pgvector (``""`` when it can, or when
    the server is unreachable: then the test itself reports the missing server)."""
    try:
        import asyncpg
    except ImportError:
        return ""

    async def probe() -> str:
        try:
            connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
        except Exception:
            return ""
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
            return ""
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            await connection.close()

    return asyncio.run(probe())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def is_pgvector(item: pytest.Item) -> bool:
        return item.name.startswith("test_pgvector") and "tests/ext/ai" in str(item.path)

    if not any(is_pgvector(item) for item in items):
        return
    reason = _pgvector_missing()
    if reason:
        leave_out(config, items, is_pgvector,
                  "pgvector store: CREATE EXTENSION vector fails on this PostgreSQL server "
                  f"(Debian's packages here have no pgvector; {reason.splitlines()[0]})")


@pytest.fixture
def openai_server() -> Iterator[tuple[ScriptedOpenAI, str]]:
    """``(script, base_url)``: queue replies on ``script``, point the client at ``base_url``."""
    script = ScriptedOpenAI()
    with serve_in_thread(script.app, timeout_graceful_shutdown=2) as url:
        yield script, f"{url}/v1"


@pytest.fixture
def ai_config(openai_server):
    _, base_url = openai_server
    return {"API_KEY": "test-key", "API_BASE_URL": base_url, "MODEL": "scripted-model",
            "TEMPERATURE": 0.2, "TIMEOUT": 5, "TOOL_CHOICE": True}
