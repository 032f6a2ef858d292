"""RedisStore: one limit shared by several apps (workers), decided atomically
on a real Redis server; failing open or closed when Redis is down or stuck."""

import asyncio
import logging
import time

import httpx
import pytest

import dyne
from dyne.ext.ratelimit import MemoryStore, RateLimiter
from dyne.ext.ratelimit.redis import RedisStore


def limited_app(store, requests=10, period=60):
    app = dyne.App()
    RateLimiter(requests=requests, period=period, store=store).install(app)

    @app.route("/")
    async def index(req, resp):
        resp.text = "ok"

    return app


async def burst(apps, count):
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
               for app in apps]
    try:
        return await asyncio.gather(*(clients[i % len(clients)].get("/") for i in range(count)))
    finally:
        for client in clients:
            await client.aclose()


async def test_two_workers_share_one_limit_exactly(redis_url, redis_prefix):
    # This checks that the decision is atomic, not what a timeout does (tested below): on
    # a busy machine, 40 first calls (each opening a connection) can take longer than the
    # default 0.5 s, and a timed-out decision fails open, admitting the request.
    apps = [limited_app(RedisStore(redis_url, key_prefix=redis_prefix, timeout=60))
            for _ in range(2)]
    responses = await burst(apps, 40)
    assert all("x-ratelimit-limit" in r.headers for r in responses)  # every one decided by Redis
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 10
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in ok) == list(range(10))
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)


async def test_memory_stores_would_over_admit():
    """What the shared store fixes: a per-process store admits the limit per worker."""
    apps = [limited_app(MemoryStore()) for _ in range(2)]
    responses = await burst(apps, 40)
    assert sum(r.status_code == 200 for r in responses) == 20


async def test_redis_results_match_the_memory_store(redis_url, redis_prefix):
    store, memory = RedisStore(redis_url, key_prefix=redis_prefix), MemoryStore()
    for _ in range(4):
        shared, local = await store.hit("k", 3, 30), await memory.hit("k", 3, 30)
        assert (shared.allowed, shared.remaining, shared.limit) == (local.allowed, local.remaining,
                                                                     local.limit)
        assert shared.reset_after == pytest.approx(local.reset_after, abs=0.5)
        assert shared.retry_after == pytest.approx(local.retry_after, abs=0.5)
    assert (await store.hit("other", 3, 30)).remaining == 2
    await store.reset("k")
    assert (await store.hit("k", 3, 30)).remaining == 2
    await store.reset()
    assert (await store.hit("other", 3, 30)).remaining == 2
    await store.close()


async def test_allowance_comes_back_and_keys_expire(redis_url, redis_prefix):
    store = RedisStore(redis_url, key_prefix=redis_prefix)
    assert (await store.hit("k", 2, 0.4)).allowed
    assert (await store.hit("k", 2, 0.4)).allowed
    assert not (await store.hit("k", 2, 0.4)).allowed
    await asyncio.sleep(0.25)
    assert (await store.hit("k", 2, 0.4)).allowed
    await asyncio.sleep(0.5)
    assert await store.client.get(redis_prefix + "k") is None  # the key expired
    await store.close()


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
def test_fails_open_by_default_and_closed_when_asked(port_fixture, request, caplog):
    port = request.getfixturevalue(port_fixture)
    url = f"redis://127.0.0.1:{port}/0"
    open_app = limited_app(RedisStore(url, timeout=0.3), requests=1)
    closed_app = limited_app(RedisStore(url, timeout=0.3, fail_open=False), requests=1)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="dyne.ratelimit"):
        for _ in range(2):
            answer = open_app.client.get("/")
            assert answer.status_code == 200 and "x-ratelimit-limit" not in answer.headers
        refused = closed_app.client.get("/")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert time.monotonic() - started < 3
    assert "let through" in caplog.text and "refused" in caplog.text
