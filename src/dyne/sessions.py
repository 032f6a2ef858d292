"""Cookie-based sessions.

``req.session`` (the same dict as ``resp.session``) is loaded from a signed
cookie named ``dyne-Session`` and written back when it changes. The cookie is
signed with the app's ``secret_key`` (itsdangerous, HMAC-SHA1 with a
timestamp): clients can read it but not alter it, and a forged, tampered or
expired cookie is ignored (the session starts empty).

The store is pluggable: anything with ``load(req)`` and ``save(req, resp,
session)`` can be set as ``app.session_backend``.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

__all__ = ["CookieSessionBackend", "Session", "SessionBackend"]

logger = logging.getLogger("dyne.sessions")

#: Browsers drop cookies larger than about 4 KB.
MAX_COOKIE_SIZE = 4093


class Session(dict[str, Any]):
    """A dict that remembers whether it was changed."""

    __slots__ = ("modified",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modified = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def pop(self, *args: Any) -> Any:
        self.modified = True
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)

    def __ior__(self, other: Any) -> Session:  # type: ignore[override, misc]
        self.update(other)
        return self


class SessionBackend(Protocol):
    """Where session data lives between requests."""

    def load(self, req: Request) -> dict[str, Any]: ...

    def save(self, req: Request, resp: Response, session: Session) -> None: ...


class CookieSessionBackend:
    """Keeps the whole session in a signed cookie.

    ``max_age`` (seconds, default 14 days; ``None`` for no limit) bounds how
    long after it was last written a cookie is accepted. The cookie itself is a
    browser-session cookie, dropped when the browser closes, unless
    ``persistent=True`` gives it that ``Max-Age``. ``secure`` defaults to "when
    the request came over HTTPS".
    """

    def __init__(self, secret_key: str, *, fallbacks: Iterable[str] = (),
                 cookie_name: str = "dyne-Session",
                 max_age: int | None = 14 * 24 * 3600, persistent: bool = False,
                 path: str = "/", domain: str | None = None, secure: bool | None = None,
                 httponly: bool = True, samesite: str = "lax") -> None:
        from itsdangerous import TimestampSigner

        from .keys import oldest_first

        # Signed with ``secret_key``; cookies signed with a fallback still load.
        self.signer = TimestampSigner(oldest_first(secret_key, fallbacks), salt="dyne.session")
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.persistent = persistent
        self.path = path
        self.domain = domain
        self.secure = secure
        self.httponly = httponly
        self.samesite = samesite

    def load(self, req: Request) -> dict[str, Any]:
        from itsdangerous import BadSignature

        raw = req.cookies.get(self.cookie_name)
        if not raw:
            return {}
        try:
            payload = self.signer.unsign(raw, max_age=self.max_age)
            data = orjson.loads(base64.urlsafe_b64decode(payload))
        except (BadSignature, ValueError, TypeError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, req: Request, resp: Response, session: Session) -> None:
        secure = req.is_secure if self.secure is None else self.secure
        if not session:
            if self.cookie_name in req.cookies:
                resp.delete_cookie(self.cookie_name, path=self.path, domain=self.domain)
            return
        try:
            payload = base64.urlsafe_b64encode(orjson.dumps(session))
        except TypeError as exc:
            raise TypeError(f"Session values must be JSON-serializable: {exc}") from None
        value = self.signer.sign(payload).decode("ascii")
        if len(value) > MAX_COOKIE_SIZE:
            logger.warning("Session cookie is %d bytes; browsers drop cookies over %d bytes. "
                           "Store less in the session.", len(value), MAX_COOKIE_SIZE)
        resp.set_cookie(self.cookie_name, value,
                        max_age=self.max_age if self.persistent else None, path=self.path,
                        domain=self.domain, secure=secure, httponly=self.httponly,
                        samesite=self.samesite)
