"""The rate-limit store: GCRA arithmetic, atomicity under threads, sweeping."""

import asyncio
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dyne.ext.ratelimit.store import MemoryStore, RateLimitStore, gcra


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_burst_then_refill():
    clock = Clock()
    store = MemoryStore(clock=clock)
    results = [store.hit_sync("k", 3, 60) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert results[3].retry_after == pytest.approx(20)
    assert results[0].reset_after == pytest.approx(20)
    assert results[2].reset_after == pytest.approx(60)
    clock.now += 20  # one request regained every period / limit seconds
    again = store.hit_sync("k", 3, 60)
    assert (again.allowed, again.remaining) == (True, 0)
    assert not store.hit_sync("k", 3, 60).allowed
    clock.now += 60
    assert store.hit_sync("k", 3, 60).remaining == 2


def test_keys_are_independent_and_reset():
    store = MemoryStore(clock=Clock())
    assert store.hit_sync("a", 1, 10).allowed
    assert not store.hit_sync("a", 1, 10).allowed
    assert store.hit_sync("b", 1, 10).allowed
    asyncio.run(store.reset("a"))
    assert store.hit_sync("a", 1, 10).allowed
    asyncio.run(store.reset())
    assert len(store) == 0


def test_denied_hits_do_not_consume():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.hit_sync("k", 1, 10)
    for _ in range(50):
        assert not store.hit_sync("k", 1, 10).allowed
    clock.now += 10
    assert store.hit_sync("k", 1, 10).allowed


def test_exact_under_concurrent_threads():
    store = MemoryStore()
    allowed = []
    barrier = threading.Barrier(16)

    def worker():
        barrier.wait()
        for _ in range(50):
            allowed.append(store.hit_sync("shared", 100, 3600).allowed)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100 and len(allowed) == 800


def test_exact_under_concurrent_tasks():
    store = MemoryStore()

    async def burst():
        results = await asyncio.gather(*(store.hit("k", 25, 60) for _ in range(200)))
        return sum(r.allowed for r in results)

    assert asyncio.run(burst()) == 25


def test_expired_keys_are_swept():
    clock = Clock()
    store = MemoryStore(clock=clock)
    for i in range(1023):
        store.hit_sync(f"k{i}", 10, 1)
    clock.now += 5
    store.hit_sync("fresh", 10, 1)  # the 1024th key triggers a sweep
    assert len(store) == 1


def test_store_is_an_interface():
    with pytest.raises(TypeError, match="abstract"):
        RateLimitStore()  # abstract


@given(limit=st.integers(1, 50), period=st.floats(0.5, 3600),
       gaps=st.lists(st.floats(0, 100), min_size=1, max_size=60))
def test_gcra_never_admits_more_than_burst_plus_refill(limit, period, gaps):
    """Property: between any two admitted hits at times a <= b, at most
    ``limit + (b - a) / (period / limit)`` hits pass: a burst of ``limit``, then
    one per ``period / limit`` seconds."""
    now = 0.0
    tat = None
    passed = []
    interval = period / limit
    for gap in gaps:
        now += gap
        new_tat, result = gcra(tat, now, limit, period)
        assert 0 <= result.remaining <= limit - (1 if result.allowed else 0)
        if result.allowed:
            tat = new_tat
            passed.append(now)
        else:
            assert result.retry_after > 0
    for first in range(len(passed)):
        for last in range(first, len(passed)):
            admitted = last - first + 1
            assert admitted <= limit + (passed[last] - passed[first]) / interval + 1e-6
