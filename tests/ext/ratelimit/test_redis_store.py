"""RedisStore: one limit shared by several apps (workers), decided atomically
on a real Redis server; failing closed (by default) or open when Redis is down or stuck,
and not when the app's own event loop is busy."""

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
    # default 1 s, and a timed-out decision would answer 503.
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
def test_fails_closed_by_default_and_open_when_asked(port_fixture, request, caplog):
    port = request.getfixturevalue(port_fixture)
    url = f"redis://127.0.0.1:{port}/0"
    closed_app = limited_app(RedisStore(url, timeout=0.3), requests=1)
    open_app = limited_app(RedisStore(url, timeout=0.3, fail_open=True), requests=1)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="dyne.ratelimit"):
        refused = closed_app.client.get("/")
        took = time.monotonic() - started
        for _ in range(2):
            answer = open_app.client.get("/")
            assert answer.status_code == 200 and "x-ratelimit-limit" not in answer.headers
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "x-ratelimit-limit" not in refused.headers
    assert took < 2.5  # the 0.3 s timeout, not the client's own backstop or a hang
    assert time.monotonic() - started < 6
    warnings = [r.getMessage() for r in caplog.records if r.name == "dyne.ratelimit"]
    assert any("refused with 503 (fail_open=False)" in w for w in warnings)
    assert any("let through uncounted (fail_open=True)" in w for w in warnings)
    if port_fixture == "silent_port":  # a stuck server: the warning says what happened
        assert any("no answer within 0.3 s" in w for w in warnings)


def test_the_default_policy_and_timeout_are_documented_values():
    store = RedisStore("redis://127.0.0.1:1/0")
    assert (store.fail_open, store.timeout) == (False, 1.0)
    for bad in (0, -1, "1", True, None):
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            RedisStore("redis://127.0.0.1:1/0", timeout=bad)


async def blocking(seconds, times=1):
    """Stall the event loop ``times`` times (as a CPU-bound view would), yielding in between."""
    for _ in range(times):
        time.sleep(seconds)  # noqa: ASYNC251 - blocking the loop is the point
        await asyncio.sleep(0)


@pytest.mark.parametrize("fail_open", [False, True])
async def test_a_busy_event_loop_is_not_a_redis_outage(redis_url, redis_prefix, fail_open, caplog):
    # The first decision of a worker opens its connection; a view stalls the loop for
    # longer than the timeout meanwhile. Redis answered in time: the decision is its,
    # under either policy (it used to time out, and fail open: an uncounted request).
    for attempt in range(3):
        store = RedisStore(redis_url, key_prefix=redis_prefix, timeout=0.2, fail_open=fail_open)
        stall = asyncio.create_task(blocking(0.5))
        with caplog.at_level(logging.WARNING, logger="dyne.ratelimit"):
            result = await store.hit(f"busy{attempt}", 5, 60)
        await stall
        await store.close()
        assert not result.degraded and result.allowed and result.remaining == 4
    assert "unavailable" not in caplog.text


async def test_a_stuck_server_is_still_an_outage_when_the_loop_is_busy(silent_port, caplog):
    # The extra time a busy loop earns is given once: a server that never answers is
    # declared unavailable after about two timeouts plus the stall, not left to hang.
    store = RedisStore(f"redis://127.0.0.1:{silent_port}/0", timeout=0.2)
    stall = asyncio.create_task(blocking(0.3, times=3))
    started = time.monotonic()
    with (caplog.at_level(logging.WARNING, logger="dyne.ratelimit"),
          pytest.raises(dyne.exceptions.HTTPException) as refused):
        await store.hit("k", 5, 60)
    took = time.monotonic() - started
    await stall
    await store.close()
    assert refused.value.status_code == 503
    assert took < 2.0
    assert "refused with 503" in caplog.text
