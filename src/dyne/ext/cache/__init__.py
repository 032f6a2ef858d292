"""Caching: ``cache = Cache(app)``, ``@cache.cache(duration=300)`` on views,
and ``await cache.get/set/delete/clear`` by hand.

::

    from dyne.ext.cache import Cache

    cache = Cache(app)                  # in memory; CACHE_BACKEND="redis" to share it

    @app.route("/books", methods=["GET"])
    @cache.cache(duration=60, tags=["books"])
    async def books(req, resp):
        resp.media = await load_books()

    await cache.invalidate_tags("books")   # after a change

Configuration is read from ``CACHE_*`` keys (or a ``CACHE`` dict section);
``Cache(variable_prefix="MY_")`` reads ``MY_CACHE_*`` instead, for a second
cache. See ``docs/caching.md`` for the keys, the backends, and the rules of
response caching (what is stored, how it is keyed, and why requests with
credentials or cookies are never served from the shared entry).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl

from ...endpoints import PHASE_AUTH, get_endpoint_spec
from ...extensions import Extension
from ...response import _FILE, _MEDIA, _SSE, _STREAM
from .backends import (
    BACKENDS,
    BaseCacheBackend,
    MemoryCacheBackend,
    RedisCacheBackend,
    SQLiteCacheBackend,
    cache_setting,
)

if TYPE_CHECKING:
    from ...app import App
    from ...request import Request
    from ...response import Response

__all__ = [
    "BaseCacheBackend",
    "Cache",
    "MemoryCacheBackend",
    "RedisCacheBackend",
    "SQLiteCacheBackend",
    "cache_setting",
]

logger = logging.getLogger("dyne.cache")
F = TypeVar("F", bound=Callable[..., Any])

#: Cached responses are served after authentication steps, before input parsing.
PHASE_CACHE = PHASE_AUTH + 50
#: After ``@output`` serialization (PHASE_OUTPUT) and other after steps.
PHASE_CACHE_STORE = 10_000
_STATE_KEY = "dyne.cache.pending"
_STORED_STATUS = frozenset(range(200, 300)) - {206}


def _import_string(path: str) -> Any:
    if ":" in path:
        module_name, attr = path.split(":", 1)
    else:
        module_name, _, attr = path.rpartition(".")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part)
    return target


class Cache(Extension):
    """The cache extension. ``Cache(app)`` or ``Cache()`` + ``init_app(app)``.

    :param backend: a ``BaseCacheBackend`` instance, class or import string
        (``"pkg.module:MyBackend"``), or ``"memory"``, ``"sqlite"``,
        ``"redis"``; overrides ``CACHE_BACKEND``.
    :param variable_prefix: read ``{prefix}CACHE_*`` (and register as
        ``{prefix}cache``), for several caches on one app.
    """

    name = "cache"
    config_prefix = "CACHE_"

    def __init__(self, app: App | None = None, *, backend: Any = None,
                 variable_prefix: str = "") -> None:
        self._backend_option = backend
        self._backend: BaseCacheBackend | None = None
        self._inflight: dict[str, asyncio.Event] = {}
        self._settings: tuple[float, float, float] | None = None
        super().__init__(app, variable_prefix=variable_prefix,
                         configs_name=f"{variable_prefix}CACHE")

    # -- wiring --------------------------------------------------------------------

    def setup(self, app: App) -> None:
        app.teardown_request(self._teardown)

    async def on_startup(self) -> None:
        try:
            await self.backend.connect()
        except self._errors() as exc:
            logger.warning("Cache backend %s unavailable at startup (%s); "
                           "requests will miss until it is back", type(self.backend).__name__, exc)

    async def on_shutdown(self) -> None:
        if self._backend is not None:
            try:
                await self._backend.disconnect()
            except self._errors() as exc:  # pragma: no cover - depends on the server
                logger.warning("Cache backend disconnect failed: %s", exc)

    @property
    def backend(self) -> BaseCacheBackend:
        """The backend, built on first use from ``backend=`` or ``CACHE_BACKEND``."""
        if self._backend is None:
            self._backend = self._make_backend()
        return self._backend

    def _make_backend(self) -> BaseCacheBackend:
        option = self._backend_option
        if isinstance(option, BaseCacheBackend):
            return option
        if option is None:
            option = self.config_value("BACKEND", "memory") if self.app is not None else "memory"
        if isinstance(option, str):
            option = BACKENDS.get(option.lower()) or _import_string(option)
        if isinstance(option, BaseCacheBackend):
            return option
        if not (isinstance(option, type) and issubclass(option, BaseCacheBackend)):
            raise TypeError(f"CACHE_BACKEND must be a BaseCacheBackend subclass (or 'memory', "
                            f"'sqlite', 'redis', or an import string), not {option!r}")
        if self.app is None:
            raise RuntimeError("This Cache is not bound to an app: pass backend= an instance, "
                               "or call init_app(app)")
        return option.configure_from_app(self.app, self.variable_prefix)

    def _setting(self, key: str, default: Any, cast: Any) -> Any:
        if self.app is None:
            return default
        return cache_setting(self.app, self.variable_prefix, key, default, cast)

    @property
    def default_duration(self) -> float:
        """Seconds entries live unless told (``CACHE_DURATION``, default 300)."""
        return self._read_settings()[0]

    def _read_settings(self) -> tuple[float, float, float]:
        if self._settings is None:
            self._settings = (self._setting("DURATION", 300.0, float),
                              self._setting("TIMEOUT", 1.0, float),
                              self._setting("LOCK_TIMEOUT", 10.0, float))
        return self._settings

    @staticmethod
    def _errors() -> tuple[type[BaseException], ...]:
        import sqlite3

        errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, ConnectionError,
                                                   sqlite3.OperationalError)
        if "redis" in sys.modules:
            from ..redis import redis_errors

            errors += redis_errors()
        return errors

    async def _call(self, what: str, call: Callable[[], Awaitable[Any]], default: Any = None) -> Any:
        """Run a backend call within the timeout; when the backend is down or
        slow, log it and return ``default`` (a miss) rather than fail."""
        if not self.backend.shared and type(self.backend) is MemoryCacheBackend:
            return await call()  # no I/O to wait for: no timeout needed
        try:
            async with asyncio.timeout(self._read_settings()[1]):
                return await call()
        except self._errors() as exc:
            logger.warning("Cache %s failed (%s: %s); treated as a miss", what,
                           type(exc).__name__, exc or "timed out")
            return default

    # -- manual use ----------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        """The value cached under ``key`` (``default`` when missing, expired,
        invalidated by a tag, or when the backend is unavailable)."""
        entry = await self._call("get", lambda: self.backend.get(key))
        if entry is None or not await self._tags_current(key, entry):
            return default
        return entry.get("v") if isinstance(entry, dict) else default

    async def set(self, key: str, value: Any, duration: float | None = None, *,
                  tags: Iterable[str] = ()) -> None:
        """Cache ``value`` under ``key`` for ``duration`` seconds (default
        ``CACHE_DURATION``; ``0`` or less: forever), invalidated early by
        ``invalidate_tags`` of any of ``tags``."""
        tag_list = list(tags)
        tokens = await self._tag_tokens(tag_list, create=True) if tag_list else {}
        if tokens is not None:
            await self._store(key, value, duration, tokens)

    async def _store(self, key: str, value: Any, duration: float | None,
                     tokens: dict[str, str]) -> None:
        """Store ``value`` with the tag tokens read *before* it was computed:
        an invalidation during the computation then leaves it invalid."""
        entry: dict[str, Any] = {"v": value}
        if tokens:
            entry["t"] = tokens
        ttl = self.default_duration if duration is None else duration
        await self._call("set", lambda: self.backend.set(key, entry, ttl if ttl > 0 else None))

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        await self._call("delete", lambda: self.backend.delete(key))

    async def clear(self) -> None:
        """Forget every entry of this cache."""
        self._inflight.clear()
        await self._call("clear", lambda: self.backend.clear())

    async def invalidate_tags(self, *tags: str) -> None:
        """Invalidate every entry stored with any of ``tags`` (on every worker
        sharing the backend)."""
        for tag in tags:
            token = secrets.token_hex(8)
            await self._call("invalidate", partial(self.backend.set, f"~tag:{tag}", token))

    async def get_or_set(self, key: str, compute: Callable[[], Any], duration: float | None = None, *,
                         tags: Iterable[str] = ()) -> Any:
        """The cached value of ``key``, or ``await compute()`` (or its plain
        result) stored and returned. Concurrent callers missing the same key
        wait for one computation (across workers on a shared backend)."""
        sentinel = object()
        value = await self.get(key, sentinel)
        if value is not sentinel:
            return value
        lead = await self._lead(f"~lock:{key}", key, lambda: self.get(key, sentinel), sentinel)
        if lead.found is not sentinel:
            return lead.found
        try:
            tag_list = list(tags)
            tokens = await self._tag_tokens(tag_list, create=True) if tag_list else {}
            result = compute()
            if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                result = await result
            if tokens is not None:
                await self._store(key, result, duration, tokens)
            return result
        finally:
            await self._release(lead)

    # -- tags ------------------------------------------------------------------------

    async def _tag_tokens(self, tags: list[str], create: bool) -> dict[str, str] | None:
        tokens: dict[str, str] = {}
        for tag in tags:
            tag_key = f"~tag:{tag}"
            token = await self._call("tag", partial(self.backend.get, tag_key))
            if token is None and create:
                fresh = secrets.token_hex(8)
                added = await self._call("tag", partial(self.backend.add, tag_key, fresh))
                token = fresh if added else await self._call("tag", partial(self.backend.get, tag_key))
            if token is None:
                return None
            tokens[tag] = token
        return tokens

    async def _tags_current(self, key: str, entry: Any) -> bool:
        stored = entry.get("t") if isinstance(entry, dict) else None
        if not stored:
            return True
        current = await self._tag_tokens(list(stored), create=False)
        return current == stored

    # -- stampede protection -----------------------------------------------------------

    class _Lead:
        __slots__ = ("event", "found", "key", "lock_key", "token")

        def __init__(self) -> None:
            self.found: Any = None
            self.key = ""
            self.lock_key = ""
            self.event: asyncio.Event | None = None
            self.token: str | None = None

    async def _lead(self, lock_key: str, key: str, lookup: Callable[[], Awaitable[Any]],
                    missing: Any) -> Cache._Lead:
        """Become the one computation for ``key``, or wait for it. Returns a
        lead whose ``found`` is the value another computation stored (or
        ``missing``: compute it, then ``_release``)."""
        lead = Cache._Lead()
        lead.found = missing
        lead.key, lead.lock_key = key, lock_key
        timeout = self._read_settings()[2]
        deadline = time.monotonic() + timeout
        while (other := self._inflight.get(key)) is not None:
            # Another request of this process is computing it: wait, then look
            # again (and when it failed, the first waiter to wake computes).
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await other.wait()
            except TimeoutError:
                break
            lead.found = await lookup()
            if lead.found is not missing:
                return lead
        if key not in self._inflight:
            lead.event = self._inflight[key] = asyncio.Event()
        backend = self.backend
        if not backend.shared:
            return lead
        token = secrets.token_hex(8)
        acquired = await self._call("lock", lambda: backend.add(lock_key, token, timeout), True)
        if acquired:
            lead.token = token
            return lead
        # Another process computes it: poll for its result, up to the lock timeout.
        deadline = time.monotonic() + timeout
        delay = 0.01
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
            lead.found = await lookup()
            if lead.found is not missing:
                break
            if await self._call("lock", lambda: backend.get(lock_key)) is None:
                break  # the other computation failed: compute it here
        return lead

    async def _release(self, lead: Cache._Lead) -> None:
        if lead.token is not None:
            token, lead.token = lead.token, None
            await self._call("unlock", lambda: self.backend.delete_if(lead.lock_key, token))
        if lead.event is not None:
            event, lead.event = lead.event, None
            event.set()
            if self._inflight.get(lead.key) is event:
                del self._inflight[lead.key]

    async def _teardown(self, req: Request, resp: Response, exc: BaseException | None) -> None:
        pending = req.scope.pop(_STATE_KEY, None)
        if pending:
            for lead in pending:
                await self._release(lead)

    # -- response caching ----------------------------------------------------------------

    def cache(self, duration: float | None = None, *, tags: Iterable[str] = (),
              per_user: Callable[[Request], Any] | None = None, max_age: int | None = None,
              key: Callable[[Request], Any] | None = None) -> Callable[[F], F]:
        """Cache the successful ``GET``/``HEAD`` responses of a view (a function
        view, a class-based view or one of its methods).

        :param duration: seconds to keep a response (default ``CACHE_DURATION``).
        :param tags: tags to invalidate it by; ``"book:{id}"`` is formatted
            with the path parameters.
        :param per_user: requests with an ``Authorization`` header or cookies
            are not cached unless this is given: ``per_user(req)`` (run after
            authentication) names the user, whose responses are then cached
            apart; ``None`` from it bypasses the cache.
        :param max_age: send ``Cache-Control: public, max-age=N`` (``private``
            with ``per_user``); by default ``no-cache`` (clients revalidate
            with the ``ETag`` and get a ``304``).
        :param key: ``key(req)``: an extra part of the cache key (a header
            the response depends on, for example).
        """
        tag_templates = list(tags)

        def decorator(view: F) -> F:
            name = f"{getattr(view, '__module__', '')}.{getattr(view, '__qualname__', view)!s}"
            step, after = self._view_steps(name, duration, tag_templates, per_user, max_age, key)
            spec = get_endpoint_spec(view)
            assert spec is not None
            spec.add_step(step, PHASE_CACHE)
            spec.add_after(after, PHASE_CACHE_STORE)
            spec.meta["cache"] = {"duration": duration, "tags": tag_templates,
                                  "per_user": per_user is not None}
            return view

        return decorator

    def view_key(self, req: Request, name: str, user: Any = None, extra: Any = None) -> str:
        """The cache key of a response: the view, its path parameters, the
        query string (sorted), the negotiated media format and the user."""
        from ...formats import negotiate

        accept = req.raw_header(b"accept")
        fmt = negotiate(accept.decode("latin-1") if accept else None)[0]
        query = sorted(parse_qsl(req.scope.get("query_string", b"").decode("latin-1"),
                                 keep_blank_values=True))
        params = sorted((k, str(v)) for k, v in req.path_params.items())
        raw = repr((params, query, fmt, user, extra)).encode("utf-8", "surrogatepass")
        return f"~view:{name}:{hashlib.blake2b(raw, digest_size=16).hexdigest()}"

    def _view_steps(self, name: str, duration: float | None, tag_templates: list[str],
                    per_user: Callable[[Request], Any] | None, max_age: int | None,
                    key_func: Callable[[Request], Any] | None) -> tuple[Any, Any]:
        cache = self

        def cache_control() -> str:
            if max_age is None:
                return "no-cache"
            return f"{'private' if per_user else 'public'}, max-age={max_age}"

        def request_key(req: Request) -> str | None:
            """The key for this request, or ``None`` when it must bypass the cache."""
            if req.scope["method"] not in ("GET", "HEAD"):
                return None
            user = None
            if req.raw_header(b"authorization") is not None or req.raw_header(b"cookie") is not None:
                if per_user is None:
                    return None
                user = per_user(req)
                if user is None:
                    return None
            return cache.view_key(req, name, user, key_func(req) if key_func else None)

        async def serve_cached(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            key = request_key(req)
            if key is None:
                return
            entry = await cache._lookup_response(key)
            if entry is None:
                lead = await cache._lead(f"~lock:{key}", key, lambda: cache._lookup_response(key),
                                         None)
                if lead.found is None:
                    req.scope.setdefault(_STATE_KEY, []).append(lead)
                    tags = [t.format(**req.path_params) for t in tag_templates]
                    # Tag tokens as they are before the view reads its data.
                    tokens = await cache._tag_tokens(tags, create=True) if tags else {}
                    if tokens is not None:
                        req.scope["dyne.cache.key"] = (key, tokens)
                    return
                entry = lead.found
            cache._answer(req, resp, entry, "hit")

        async def store(req: Request, resp: Response) -> None:
            pending = req.scope.pop("dyne.cache.key", None)
            try:
                if pending is None:
                    return
                key, tokens = pending
                entry = cache._entry_from(req, resp, cache_control())
                if entry is not None:
                    await cache._store(key, entry, duration, tokens)
                    cache._answer(req, resp, entry, "miss")
            finally:
                for lead in req.scope.pop(_STATE_KEY, ()):
                    await cache._release(lead)

        return serve_cached, store

    async def _lookup_response(self, key: str) -> dict[str, Any] | None:
        entry = await self._call("get", lambda: self.backend.get(key))
        if not isinstance(entry, dict) or not await self._tags_current(key, entry):
            return None
        value = entry.get("v")
        return value if isinstance(value, dict) else None

    @staticmethod
    def _entry_from(req: Request, resp: Response, cache_control: str) -> dict[str, Any] | None:
        """What to store of ``resp``; ``None`` when it must not be stored."""
        status = resp.status_code
        if status not in _STORED_STATUS or resp._cookies:
            return None
        session = req._session
        if session is not None and session.modified:
            return None
        if resp._kind in (_FILE, _STREAM, _SSE):
            return None  # files, streams and events are not cached
        headers = dict(resp._headers.items()) if resp._headers else {}
        lowered = {k.lower(): v for k, v in headers.items()}
        control = lowered.get("cache-control", "").lower()
        if "no-store" in control or "private" in control:
            return None
        vary = {v.strip().lower() for v in lowered.get("vary", "").split(",") if v.strip()}
        if vary - {"accept", "accept-encoding"}:
            return None
        body, content_type = resp._render_body()
        if "etag" not in lowered:
            headers["ETag"] = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        if "cache-control" not in lowered:
            headers["Cache-Control"] = cache_control
        if content_type is not None and "content-type" not in lowered:
            headers["Content-Type"] = content_type
        if resp._kind == _MEDIA and resp.mimetype is None and "accept" not in vary:
            # The body was negotiated: hits say so too, as the view's response did.
            headers["Vary"] = ", ".join([lowered["vary"], "Accept"]) if vary else "Accept"
        return {"s": status, "h": headers, "b": body, "at": time.time()}

    @staticmethod
    def _answer(req: Request, resp: Response, entry: dict[str, Any], how: str) -> None:
        """Fill ``resp`` from a stored response. Its ``ETag`` makes the response
        conditional: a client that has it gets a ``304`` (``dyne.conditional``,
        applied when the response is rendered, as for any view)."""
        headers = {str(k): str(v) for k, v in entry["h"].items()}
        resp.clear()
        resp.status_code = int(entry["s"])
        content_type = None
        for name, value in headers.items():
            if name.lower() == "content-type":
                content_type = value
            else:
                resp.headers[name] = value
        resp.content = entry["b"]
        resp.mimetype = content_type
        resp.headers["X-Cache"] = how
        if how == "hit":
            resp.headers["Age"] = str(max(0, int(time.time() - float(entry.get("at", 0)))))

    def __repr__(self) -> str:
        backend = type(self._backend).__name__ if self._backend is not None else "unconfigured"
        return f"<Cache {self.extension_key!r} backend={backend}>"
