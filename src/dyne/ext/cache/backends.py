"""Cache backends: where ``dyne.ext.cache`` keeps its entries.

Every backend implements ``BaseCacheBackend``: ``configure_from_app`` (build one
from the app's ``CACHE_*`` config), ``connect``/``disconnect``, and
``get``/``set``/``delete``/``clear``. Values are what msgpack stores: dicts,
lists, strings, bytes, numbers, booleans and ``None`` (a cached response is a
dict of those). Built-in backends store an encoded copy, so changing a value
after ``set`` does not change the cached one, in memory as in Redis.

``add`` (store only when absent) and ``delete_if`` (delete only when the value
is still the given one) back the stampede lock; the base class has a
non-atomic fallback, the built-in backends do them atomically.

* ``MemoryCacheBackend``: this process only, bounded (least recently used
  entries are dropped first), the default.
* ``SQLiteCacheBackend``: a file shared by the workers of one host (WAL mode).
* ``RedisCacheBackend``: shared by every worker on every host.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar

import msgpack

from ..redis import RedisBacked

if TYPE_CHECKING:
    from ...app import App

__all__ = [
    "BaseCacheBackend",
    "MemoryCacheBackend",
    "RedisCacheBackend",
    "SQLiteCacheBackend",
    "cache_setting",
]

_MISSING: Any = object()
CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")


def cache_setting(app: App, variable_prefix: str, key: str, default: Any = None,
                  cast: Any = None) -> Any:
    """A cache setting: ``key`` in the ``{prefix}CACHE`` section, else the flat
    ``{prefix}CACHE_{key}`` key, else ``default``."""
    section_name = f"{variable_prefix}CACHE"
    section = app.config.get(section_name, default=None, cast=dict)
    if isinstance(section, dict) and key in section:
        return app.config.cast(f"{section_name}.{key}", section[key], cast)
    value = app.config.get(f"{variable_prefix}CACHE_{key}", default=_MISSING, cast=cast)
    return default if value is _MISSING else value


def dumps(value: Any) -> bytes:
    try:
        return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise TypeError(f"Cannot cache {type(value).__name__} values: cache dicts, lists, "
                        f"str, bytes, numbers, booleans or None ({exc})") from None


def loads(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class BaseCacheBackend(ABC):
    """Abstract cache backend. Subclasses implement ``configure_from_app``,
    ``connect``/``disconnect`` and ``get``/``set``/``delete``/``clear``."""

    #: Whether several processes see the same entries (a stampede lock then
    #: holds across them).
    shared: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def configure_from_app(cls, app: App, variable_prefix: str = "") -> BaseCacheBackend:
        """Create a configured backend from the app's config."""

    @abstractmethod
    async def connect(self) -> None:
        """Establish any required connections (no-op for memory)."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Tear down connections (no-op for memory)."""

    @abstractmethod
    async def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or ``None`` (missing or expired)."""

    @abstractmethod
    async def set(self, key: str, value: Any, duration: float | None = None) -> None:
        """Store ``value`` under ``key`` for ``duration`` seconds (``None``: no expiry)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Delete ``key`` if present."""

    @abstractmethod
    async def clear(self) -> None:
        """Delete every entry of this cache (its key prefix only, on shared servers)."""

    async def add(self, key: str, value: Any, duration: float | None = None) -> bool:
        """Store ``value`` only if ``key`` holds nothing; ``True`` when stored.
        (Not atomic here: built-in backends override it.)"""
        if await self.get(key) is not None:
            return False
        await self.set(key, value, duration)
        return True

    async def delete_if(self, key: str, value: Any) -> bool:
        """Delete ``key`` only if it still holds ``value``; ``True`` when deleted.
        (Not atomic here: built-in backends override it.)"""
        if await self.get(key) != value:
            return False
        await self.delete(key)
        return True


# -- memory ---------------------------------------------------------------------------


class MemoryCacheBackend(BaseCacheBackend):
    """Entries in this process's memory: at most ``max_entries`` of them,
    the least recently used dropped first. Each worker has its own."""

    def __init__(self, max_entries: int = 1024, clock: Any = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def configure_from_app(cls, app: App, variable_prefix: str = "") -> MemoryCacheBackend:
        return cls(max_entries=cache_setting(app, variable_prefix, "MAX_ENTRIES", 1024, int))

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    def _live(self, key: str, now: float) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        data, expires = entry
        if expires is not None and expires <= now:
            del self._data[key]
            return None
        return data

    def _store(self, key: str, data: bytes, duration: float | None, now: float) -> None:
        self._data[key] = (data, None if duration is None else now + duration)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def get(self, key: str) -> Any | None:
        with self._lock:
            data = self._live(key, self._clock())
            if data is None:
                return None
            self._data.move_to_end(key)
        return loads(data)

    async def set(self, key: str, value: Any, duration: float | None = None) -> None:
        data = dumps(value)
        with self._lock:
            self._store(key, data, duration, self._clock())

    async def add(self, key: str, value: Any, duration: float | None = None) -> bool:
        data = dumps(value)
        with self._lock:
            now = self._clock()
            if self._live(key, now) is not None:
                return False
            self._store(key, data, duration, now)
            return True

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    async def delete_if(self, key: str, value: Any) -> bool:
        data = dumps(value)
        with self._lock:
            if self._live(key, self._clock()) != data:
                return False
            del self._data[key]
            return True

    async def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


# -- SQLite ---------------------------------------------------------------------------


class SQLiteCacheBackend(BaseCacheBackend):
    """Entries in an SQLite file, in WAL mode so that readers do not wait for
    writers: the workers of one host share it. Queries run in a worker thread.
    Every ``checkpoint_every`` writes, a WAL checkpoint (``checkpoint_mode``:
    PASSIVE, FULL, RESTART or TRUNCATE) keeps the log file from growing.
    ``key_prefix`` namespaces the keys, so that several caches share a table."""

    shared = True

    def __init__(self, path: str = "./dyne_cache.db", *, table: str = "cache_entries",
                 key_prefix: str = "", checkpoint_mode: str = "PASSIVE",
                 checkpoint_every: int = 100, timeout: float = 5.0) -> None:
        if not table.replace("_", "").isalnum() or table[0].isdigit():
            raise ValueError(f"SQLite table name must be letters, digits and underscores: {table!r}")
        mode = checkpoint_mode.upper()
        if mode not in CHECKPOINT_MODES:
            raise ValueError(f"checkpoint_mode must be one of {', '.join(CHECKPOINT_MODES)}")
        self.path = path
        self.table = table
        self.key_prefix = key_prefix
        self.checkpoint_mode = mode
        self.checkpoint_every = max(0, checkpoint_every)
        self.timeout = timeout
        self._conn: Any = None
        self._lock = threading.Lock()
        self._writes = 0

    @classmethod
    def configure_from_app(cls, app: App, variable_prefix: str = "") -> SQLiteCacheBackend:
        def setting(key: str, default: Any, cast: Any = None) -> Any:
            return cache_setting(app, variable_prefix, key, default, cast)

        return cls(setting("SQLITE_PATH", "./dyne_cache.db"),
                   table=setting("SQLITE_TABLE", "cache_entries"),
                   key_prefix=setting("KEY_PREFIX", "") or "",
                   checkpoint_mode=setting("SQLITE_WAL_CHECKPOINT_MODE", "PASSIVE"),
                   checkpoint_every=setting("SQLITE_WAL_CHECKPOINT_EVERY", 100, int))

    async def _run(self, func: Any, *args: Any) -> Any:
        import anyio.to_thread

        def locked() -> Any:
            with self._lock:
                if self._conn is None:
                    self._open()
                return func(*args)

        return await anyio.to_thread.run_sync(locked)

    def _open(self) -> None:
        import sqlite3

        conn = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False,
                               isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                     "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_expires ON {self.table} (expires_at)")
        self._conn = conn

    def _wrote(self) -> None:
        self._writes += 1
        if self.checkpoint_every and self._writes % self.checkpoint_every == 0:
            self._conn.execute(f"PRAGMA wal_checkpoint({self.checkpoint_mode})")
            self._conn.execute(f"DELETE FROM {self.table} WHERE expires_at <= ?", (time.time(),))

    async def connect(self) -> None:
        await self._run(lambda: None)

    async def disconnect(self) -> None:
        import anyio.to_thread

        def close() -> None:
            with self._lock:  # waits for a query in flight, in a worker thread
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await anyio.to_thread.run_sync(close)

    async def get(self, key: str) -> Any | None:
        def query() -> Any:
            return self._conn.execute(
                f"SELECT value FROM {self.table} WHERE key = ? AND "
                "(expires_at IS NULL OR expires_at > ?)",
                (self.key_prefix + key, time.time())).fetchone()

        row = await self._run(query)
        return None if row is None else loads(row[0])

    async def set(self, key: str, value: Any, duration: float | None = None) -> None:
        data = dumps(value)
        expires = None if duration is None else time.time() + duration

        def write() -> None:
            self._conn.execute(f"INSERT OR REPLACE INTO {self.table} (key, value, expires_at) "
                               "VALUES (?, ?, ?)", (self.key_prefix + key, data, expires))
            self._wrote()

        await self._run(write)

    async def add(self, key: str, value: Any, duration: float | None = None) -> bool:
        data = dumps(value)

        def write() -> bool:
            now = time.time()
            expires = None if duration is None else now + duration
            cursor = self._conn.execute(
                f"INSERT INTO {self.table} (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at "
                f"WHERE {self.table}.expires_at IS NOT NULL AND {self.table}.expires_at <= ?",
                (self.key_prefix + key, data, expires, now))
            self._wrote()
            return bool(cursor.rowcount)

        return bool(await self._run(write))

    async def delete(self, key: str) -> None:
        def write() -> None:
            self._conn.execute(f"DELETE FROM {self.table} WHERE key = ?", (self.key_prefix + key,))
            self._wrote()

        await self._run(write)

    async def delete_if(self, key: str, value: Any) -> bool:
        data = dumps(value)

        def write() -> bool:
            cursor = self._conn.execute(f"DELETE FROM {self.table} WHERE key = ? AND value = ?",
                                        (self.key_prefix + key, data))
            return bool(cursor.rowcount)

        return bool(await self._run(write))

    async def clear(self) -> None:
        def write() -> None:
            if self.key_prefix:
                escaped = (self.key_prefix.replace("\\", "\\\\").replace("%", "\\%")
                           .replace("_", "\\_"))
                self._conn.execute(f"DELETE FROM {self.table} WHERE key LIKE ? ESCAPE '\\'",
                                   (escaped + "%",))
            else:
                self._conn.execute(f"DELETE FROM {self.table}")

        await self._run(write)


# -- Redis ----------------------------------------------------------------------------

_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCacheBackend(BaseCacheBackend, RedisBacked):
    """Entries on a Redis server, shared by every worker and host, under
    ``key_prefix`` (``clear`` deletes only those keys). ``timeout`` bounds
    each command: a server that is down or stuck costs a request at most
    that long (the cache then misses; see the caching page)."""

    shared = True

    def __init__(self, url: str | None = None, *, password: str | None = None,
                 key_prefix: str = "dyne:cache:", timeout: float = 1.0, client: Any = None) -> None:
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password)
        self._delete_if: Any = None

    @classmethod
    def configure_from_app(cls, app: App, variable_prefix: str = "") -> RedisCacheBackend:
        def setting(key: str, default: Any, cast: Any = None) -> Any:
            return cache_setting(app, variable_prefix, key, default, cast)

        return cls(setting("REDIS_URL", None), password=setting("REDIS_PASSWORD", None),
                   key_prefix=setting("KEY_PREFIX", "dyne:cache:") or "",
                   timeout=setting("TIMEOUT", 1.0, float))

    async def connect(self) -> None:
        pass  # redis-py connects on first use; a server that is down is a miss, not a crash

    async def disconnect(self) -> None:
        await self.close_client()

    async def get(self, key: str) -> Any | None:
        data = await self.client.get(self.key_prefix + key)
        return None if data is None else loads(data)

    @staticmethod
    def _px(duration: float | None) -> int | None:
        return None if duration is None else max(1, int(duration * 1000))

    async def set(self, key: str, value: Any, duration: float | None = None) -> None:
        await self.client.set(self.key_prefix + key, dumps(value), px=self._px(duration))

    async def add(self, key: str, value: Any, duration: float | None = None) -> bool:
        return bool(await self.client.set(self.key_prefix + key, dumps(value), nx=True,
                                          px=self._px(duration)))

    async def delete(self, key: str) -> None:
        await self.client.delete(self.key_prefix + key)

    async def delete_if(self, key: str, value: Any) -> bool:
        if self._delete_if is None:
            self._delete_if = self.client.register_script(_DELETE_IF)
        return bool(await self._delete_if(keys=[self.key_prefix + key], args=[dumps(value)]))

    async def clear(self) -> None:
        pattern = (self.key_prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
                   .replace("[", "\\[") + "*")
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self.client.unlink(*batch)
                batch = []
        if batch:
            await self.client.unlink(*batch)


BACKENDS: dict[str, type[BaseCacheBackend]] = {
    "memory": MemoryCacheBackend,
    "sqlite": SQLiteCacheBackend,
    "redis": RedisCacheBackend,
}
