"""One contract, every cache backend: memory, SQLite and a real Redis server."""

import asyncio
import sqlite3

import pytest

from dyne.ext.cache import MemoryCacheBackend, RedisCacheBackend, SQLiteCacheBackend


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def backend(request, tmp_path):
    if request.param == "memory":
        made = MemoryCacheBackend()
    elif request.param == "sqlite":
        made = SQLiteCacheBackend(str(tmp_path / "cache.db"), key_prefix="t:")
    else:
        prefix = request.getfixturevalue("redis_prefix")
        made = RedisCacheBackend(request.getfixturevalue("redis_url"), key_prefix=prefix)
    await made.connect()
    yield made
    await made.disconnect()


async def test_set_get_delete(backend):
    assert await backend.get("a") is None
    value = {"s": 200, "b": b"\x00body", "h": {"ETag": '"x"'}, "n": [1, 2.5, None, True]}
    await backend.set("a", value, 60)
    assert await backend.get("a") == value
    await backend.delete("a")
    assert await backend.get("a") is None
    await backend.delete("never-set")  # deleting nothing is fine


async def test_values_are_copies(backend):
    value = {"items": [1]}
    await backend.set("k", value)
    value["items"].append(2)
    assert await backend.get("k") == {"items": [1]}


async def test_expiry_and_no_expiry(backend):
    await backend.set("short", "v", 0.2)
    await backend.set("forever", "v", None)
    assert await backend.get("short") == "v"
    await asyncio.sleep(0.35)
    assert await backend.get("short") is None
    assert await backend.get("forever") == "v"


async def test_add_only_when_absent_and_after_expiry(backend):
    assert await backend.add("lock", "one", 0.2) is True
    assert await backend.add("lock", "two", 0.2) is False
    assert await backend.get("lock") == "one"
    await asyncio.sleep(0.35)
    assert await backend.add("lock", "three", 5) is True
    assert await backend.get("lock") == "three"


async def test_add_is_atomic_under_concurrency(backend):
    results = await asyncio.gather(*(backend.add("race", i, 5) for i in range(20)))
    assert results.count(True) == 1


async def test_delete_if_compares(backend):
    await backend.set("lock", "mine", 5)
    assert await backend.delete_if("lock", "theirs") is False
    assert await backend.get("lock") == "mine"
    assert await backend.delete_if("lock", "mine") is True
    assert await backend.get("lock") is None


async def test_clear_empties_the_namespace(backend):
    for i in range(5):
        await backend.set(f"k{i}", i)
    await backend.clear()
    assert [await backend.get(f"k{i}") for i in range(5)] == [None] * 5


async def test_values_must_be_serializable(backend):
    with pytest.raises(TypeError, match="Cannot cache object values"):
        await backend.set("bad", object())


async def test_memory_backend_is_bounded_lru():
    backend = MemoryCacheBackend(max_entries=3)
    for key in "abc":
        await backend.set(key, key)
    assert await backend.get("a") == "a"  # a is now the most recently used
    await backend.set("d", "d")
    assert len(backend) == 3
    assert await backend.get("b") is None
    assert [await backend.get(k) for k in "acd"] == ["a", "c", "d"]
    with pytest.raises(ValueError, match="max_entries must be at least 1"):
        MemoryCacheBackend(max_entries=0)


async def test_sqlite_uses_wal_its_table_and_checkpoints(tmp_path):
    path = tmp_path / "c.db"
    backend = SQLiteCacheBackend(str(path), table="my_cache", checkpoint_mode="truncate",
                                 checkpoint_every=2)
    for i in range(4):
        await backend.set(f"k{i}", i)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM my_cache").fetchone()[0] == 4
    # TRUNCATE checkpoints after every second write leave the WAL file empty.
    assert (tmp_path / "c.db-wal").stat().st_size == 0
    await backend.disconnect()
    with pytest.raises(ValueError, match="table name"):
        SQLiteCacheBackend(str(path), table="x; DROP TABLE y")
    with pytest.raises(ValueError, match="checkpoint_mode"):
        SQLiteCacheBackend(str(path), checkpoint_mode="SOMETIMES")


async def test_sqlite_prefixes_share_a_table(tmp_path):
    path = str(tmp_path / "c.db")
    one, two = SQLiteCacheBackend(path, key_prefix="one_%:"), SQLiteCacheBackend(path, key_prefix="two:")
    await one.set("k", 1)
    await two.set("k", 2)
    await one.clear()
    assert await one.get("k") is None
    assert await two.get("k") == 2
    await one.disconnect()
    await two.disconnect()


async def test_redis_clear_keeps_other_prefixes(redis_url, redis_prefix):
    one = RedisCacheBackend(redis_url, key_prefix=redis_prefix + "one*:")
    two = RedisCacheBackend(redis_url, key_prefix=redis_prefix + "two:")
    await one.set("k", 1)
    await two.set("k", 2)
    await one.clear()
    assert await one.get("k") is None
    assert await two.get("k") == 2
    await one.disconnect()
    await two.disconnect()
