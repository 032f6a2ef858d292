"""Server-side sessions: ``req.session`` kept on Redis, shared by every worker
and host; the cookie only carries a signed, random session id.

::

    from dyne.ext.sessions import RedisSessionStore, ServerSideSessions

    app = dyne.App(secret_key=...)                  # the same key on every worker
    ServerSideSessions(app, store=RedisSessionStore("redis://127.0.0.1:6379/0"))

Views use ``req.session`` exactly as with the default cookie sessions (which
stay the default), and so does ``LoginManager``. Data lives ``max_age``
seconds after it was last read or written (a sliding expiry). A request with
a session cookie loads its session before the view runs (one Redis round
trip); changes are written once, at the end of the request.

When the store is down or does not answer within its timeout, a request
that needs it (it carries a session cookie, or changes its session) gets
``503 Service Unavailable``: a session that cannot be read must not look
like an empty one (the user would appear logged out, and a write would be
lost). Requests without a session cookie that leave the session alone never
touch the store.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson

from ..exceptions import HTTPException
from ..extensions import Extension
from .redis import RedisBacked

if TYPE_CHECKING:
    from ..app import App
    from ..request import Request
    from ..response import Response
    from ..sessions import Session

__all__ = ["MemorySessionStore", "RedisSessionStore", "ServerSideSessions", "SessionStore"]

logger = logging.getLogger("dyne.sessions")

_SID = "dyne.session.id"
_LOADED = "dyne.session.loaded"
#: The key LoginManager keeps the user id under: a change of user gets a new session id.
USER_KEY = "_user_id"


@runtime_checkable
class SessionStore(Protocol):
    """Where server-side session data lives."""

    async def load(self, sid: str, max_age: int) -> dict[str, Any] | None:
        """The data of session ``sid`` (``None`` when unknown or expired),
        renewing its expiry to ``max_age`` seconds."""
        ...

    async def save(self, sid: str, data: dict[str, Any], max_age: int) -> None:
        """Store the data of ``sid`` for ``max_age`` seconds."""
        ...

    async def delete(self, sid: str) -> None:
        """Forget ``sid``."""
        ...


class MemorySessionStore:
    """Sessions in this process's memory: for development and tests (one
    worker). Expired sessions are swept as the store grows."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    async def load(self, sid: str, max_age: int) -> dict[str, Any] | None:
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(sid)
            if entry is None or entry[1] <= now:
                self._data.pop(sid, None)
                return None
            self._data[sid] = (entry[0], now + max_age)
        return orjson.loads(entry[0])  # type: ignore[no-any-return]

    async def save(self, sid: str, data: dict[str, Any], max_age: int) -> None:
        payload = orjson.dumps(data)
        now = time.monotonic()
        with self._lock:
            if len(self._data) > 1024:
                self._data = {k: v for k, v in self._data.items() if v[1] > now}
            self._data[sid] = (payload, now + max_age)

    async def delete(self, sid: str) -> None:
        with self._lock:
            self._data.pop(sid, None)

    def __len__(self) -> int:
        return len(self._data)


class RedisSessionStore(RedisBacked):
    """Sessions on Redis as JSON under ``key_prefix``, each with its expiry
    (``GETEX`` renews it on every read).

    :param url: the server (``redis://127.0.0.1:6379/0`` by default), or
    :param client: a ready ``redis.asyncio.Redis`` (not closed by this store).
    :param timeout: seconds before Redis counts as down.
    """

    def __init__(self, url: str | None = None, *, client: Any = None,
                 key_prefix: str = "dyne:session:", timeout: float = 1.0,
                 password: str | None = None) -> None:
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password)

    async def load(self, sid: str, max_age: int) -> dict[str, Any] | None:
        async with asyncio.timeout(self.timeout):
            raw = await self.client.getex(self.key_prefix + sid, ex=max_age)
        return None if raw is None else orjson.loads(raw)  # type: ignore[no-any-return]

    async def save(self, sid: str, data: dict[str, Any], max_age: int) -> None:
        payload = orjson.dumps(data)
        async with asyncio.timeout(self.timeout):
            await self.client.set(self.key_prefix + sid, payload, ex=max_age)

    async def delete(self, sid: str) -> None:
        async with asyncio.timeout(self.timeout):
            await self.client.delete(self.key_prefix + sid)

    async def close(self) -> None:
        await self.close_client()


def _store_errors() -> tuple[type[BaseException], ...]:
    import sys

    errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, ConnectionError)
    if "redis" in sys.modules:
        from .redis import redis_errors

        errors += redis_errors()
    return errors


class ServerSideSessions(Extension):
    """Keep ``req.session`` in ``store`` and a signed session id in the cookie.

    :param store: a ``SessionStore``; by default a ``RedisSessionStore`` for
        ``SESSION_REDIS_URL`` (and ``SESSION_KEY_PREFIX``, ``SESSION_TIMEOUT``).
    :param max_age: seconds a session lives after its last use
        (``SESSION_MAX_AGE``, default 14 days).
    :param cookie_name: the cookie (``SESSION_COOKIE_NAME``, default ``dyne-Session``).
    :param persistent: give the cookie a ``Max-Age`` (by default it is dropped
        when the browser closes; the data expires on the server either way).
    :param secure: the cookie's ``Secure`` flag (default: when the request
        came over HTTPS).
    """

    name = "sessions"
    config_prefix = "SESSION_"

    def __init__(self, app: App | None = None, *, store: SessionStore | None = None,
                 max_age: int | None = None, cookie_name: str | None = None,
                 persistent: bool = False, path: str = "/", domain: str | None = None,
                 secure: bool | None = None, httponly: bool = True, samesite: str = "lax") -> None:
        self.store: SessionStore | None = store
        self._max_age = max_age
        self._cookie_name = cookie_name
        self.persistent = persistent
        self.path = path
        self.domain = domain
        self.secure = secure
        self.httponly = httponly
        self.samesite = samesite
        self._signer: Any = None
        super().__init__(app)

    def setup(self, app: App) -> None:
        if self.store is None:
            from .redis import DEFAULT_URL

            self.store = RedisSessionStore(
                self.config_value("REDIS_URL", DEFAULT_URL),
                key_prefix=self.config_value("KEY_PREFIX", "dyne:session:"),
                timeout=self.config_value("TIMEOUT", 1.0, float))
        if self._max_age is None:
            self._max_age = self.config_value("MAX_AGE", 14 * 24 * 3600, int)
        if self._cookie_name is None:
            self._cookie_name = self.config_value("COOKIE_NAME", "dyne-Session")
        app.session_backend = self
        app.before_request(self._load_session)
        app.teardown_request(self._save_session)

    async def on_shutdown(self) -> None:
        close = getattr(self.store, "close", None)
        if close is not None:
            await close()

    @property
    def cookie_name(self) -> str:
        return self._cookie_name or "dyne-Session"

    @property
    def max_age(self) -> int:
        return self._max_age or 14 * 24 * 3600

    def _get_signer(self) -> Any:
        if self._signer is None:
            from itsdangerous import TimestampSigner

            secret = self.require_app().secret_key
            if not secret:
                raise RuntimeError("ServerSideSessions needs the app's secret_key (SECRET_KEY), "
                                   "the same on every worker, to sign session ids")
            from dyne.keys import oldest_first

            fallbacks = self.require_app().secret_key_fallbacks
            self._signer = TimestampSigner(oldest_first(secret, fallbacks), salt="dyne.server-session")
        return self._signer

    # -- the SessionBackend interface (what req.session calls) ----------------------

    def load(self, req: Request) -> dict[str, Any]:
        return dict(req.scope.get(_LOADED) or {})

    def save(self, req: Request, resp: Response, session: Session) -> None:
        """Writes happen at the end of the request (a teardown hook); a
        session changed after that, while the response renders, is not kept."""
        if session.modified:
            logger.warning("Session changed after the request ended; the change is not saved")

    # -- hooks ---------------------------------------------------------------------

    async def _load_session(self, req: Request, resp: Response) -> None:
        from itsdangerous import BadSignature

        raw = req.cookies.get(self.cookie_name)
        if not raw:
            return
        try:
            sid = self._get_signer().unsign(raw, max_age=self.max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return
        try:
            data = await self.store.load(sid, self.max_age)  # type: ignore[union-attr]
        except _store_errors() as exc:
            self._unavailable("read", exc)
        if data is not None:
            req.scope[_SID] = sid
            req.scope[_LOADED] = data

    async def _save_session(self, req: Request, resp: Response, exc: BaseException | None) -> None:
        session = req._session
        if session is None or not session.modified:
            return
        session.modified = False
        signer = self._get_signer()
        store = self.store
        assert store is not None
        sid: str | None = req.scope.get(_SID)
        loaded = req.scope.get(_LOADED) or {}
        secure = req.is_secure if self.secure is None else self.secure
        try:
            if not session:
                if sid is not None:
                    await store.delete(sid)
                if self.cookie_name in req.cookies:
                    resp.delete_cookie(self.cookie_name, path=self.path, domain=self.domain)
                return
            if sid is None or session.get(USER_KEY) != loaded.get(USER_KEY):
                # A new session, or another user: a new id (no session fixation).
                if sid is not None:
                    await store.delete(sid)
                sid = secrets.token_urlsafe(32)
            await store.save(sid, dict(session), self.max_age)
        except TypeError as error:
            raise TypeError(f"Session values must be JSON-serializable: {error}") from None
        except _store_errors() as error:
            self._unavailable("write", error)
        assert sid is not None
        value = signer.sign(sid.encode("ascii")).decode("ascii")
        resp.set_cookie(self.cookie_name, value, max_age=self.max_age if self.persistent else None,
                        path=self.path, domain=self.domain, secure=secure, httponly=self.httponly,
                        samesite=self.samesite)

    @staticmethod
    def _unavailable(what: str, exc: BaseException) -> Any:
        logger.warning("Session store unavailable (%s failed: %s: %s)", what, type(exc).__name__,
                       exc or "timed out")
        raise HTTPException(503, "Service Unavailable", headers={"Retry-After": "1"}) from None
