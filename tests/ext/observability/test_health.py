"""Liveness and readiness, with checks against the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

import dyne
from dyne.ext.observability import Health, database_check, redis_check
from dyne.testing import AsyncTestClient
from tests.conftest import service_unavailable

POSTGRES_URL = os.environ.get("DYNE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
async def postgres_engine():
    pytest.importorskip("asyncpg")
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.connect():
            pass
    except Exception as exc:
        await engine.dispose()
        service_unavailable("PostgreSQL", f"{POSTGRES_URL}: {exc}")
    yield engine
    await engine.dispose()


@pytest.fixture
async def redis_client(redis_url):
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, socket_connect_timeout=2)
    yield client
    await client.aclose()


def test_liveness_and_empty_readiness():
    app = dyne.App()
    Health(app)
    with app.client as client:
        live = client.get("/health/live")
        ready = client.get("/health/ready")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert live.headers["cache-control"] == "no-store"
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "checks": {}})


@pytest.mark.services
async def test_readiness_with_database_and_redis(postgres_engine, redis_client):
    app = dyne.App()
    health = Health(app)
    health.add_check("database", database_check(postgres_engine))
    health.add_check("redis", redis_check(redis_client))
    async with AsyncTestClient(app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "redis": "ok"}
    assert all(check["duration_ms"] >= 0 for check in body["checks"].values())


@pytest.mark.services
async def test_one_failing_check_gives_503(postgres_engine, redis_url, closed_port):
    pytest.importorskip("redis")
    app = dyne.App()
    health = Health(app)
    health.add_check("database", database_check(postgres_engine))
    health.add_check("redis", redis_check(redis_url))          # a URL: the real server
    health.add_check("cache", redis_check(f"redis://127.0.0.1:{closed_port}/0"))  # refused
    async with AsyncTestClient(app) as client:
        response = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "fail"
    assert "ConnectionError" in body["checks"]["cache"]["error"]
    assert live.status_code == 200  # liveness does not depend on the checks


async def test_a_stuck_server_times_out(silent_port):
    pytest.importorskip("redis")
    import redis.asyncio

    stuck = redis.asyncio.Redis(host="127.0.0.1", port=silent_port, socket_timeout=30,
                                socket_connect_timeout=30)
    app = dyne.App()
    Health(app, timeout=0.5).add_check("redis", redis_check(stuck))
    try:
        async with AsyncTestClient(app) as client:
            started = time.monotonic()
            response = await client.get("/health/ready")
            elapsed = time.monotonic() - started
    finally:
        await stuck.aclose()
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["error"] == "TimeoutError: no answer within 0.5 s"
    assert elapsed < 3


@pytest.mark.services
async def test_database_check_with_the_db_extension(tmp_path):
    pytest.importorskip("aiosqlite")
    from dyne.ext.db.alchemical import Alchemical

    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.db'}"
    db = Alchemical(app)
    Health(app).add_check("database", database_check(db))
    async with AsyncTestClient(app) as client:
        response = await client.get("/health/ready")
    assert response.json()["checks"]["database"]["status"] == "ok"


async def test_checks_time_out_and_run_concurrently():
    app = dyne.App()
    health = Health(app, timeout=0.3)

    @health.check("slow")
    async def slow():
        await asyncio.sleep(30)

    @health.check("also_slow", timeout=0.2)
    def blocking():  # sync checks run in the thread pool, not on the loop
        time.sleep(0.5)

    @health.check("false")
    def answers_false():
        return False

    @health.check("fine")
    async def fine():
        return True

    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["slow"] == {"status": "fail", "error": "TimeoutError: no answer within 0.3 s",
                              "duration_ms": checks["slow"]["duration_ms"]}
    assert checks["also_slow"]["error"] == "TimeoutError: no answer within 0.2 s"
    assert checks["false"]["error"] == "RuntimeError: check returned False"
    assert checks["fine"]["status"] == "ok"
    assert elapsed < 1.5  # concurrently, each bounded by its timeout


async def test_not_ready_before_start_up_and_details_off():
    app = dyne.App()
    app.config["HEALTH_DETAILS"] = "false"
    app.config["HEALTH_READY_PATH"] = "/readyz"
    health = Health(app)

    @health.check("broken")
    async def broken():
        raise RuntimeError("password=hunter2")

    async with AsyncTestClient(app, lifespan=False) as client:
        response = await client.get("/readyz")
        assert response.status_code == 503 and response.json()["reason"] == "not started"
    async with AsyncTestClient(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert "hunter2" not in response.text and "error" not in response.json()["checks"]["broken"]


def test_checks_must_be_callable():
    health = Health(dyne.App())
    with pytest.raises(TypeError, match="must be callable"):
        health.add_check("x", "SELECT 1")
