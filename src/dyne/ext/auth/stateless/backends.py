"""Stateless authentication backends: ``BasicAuth``, ``TokenAuth``,
``DigestAuth`` and ``MultiAuth``.

A backend knows how to read one kind of credentials from a request and check
them with the callbacks you register on it (``@basic_auth.verify_password``...).
It does not protect anything by itself: ``@authenticate(backend, role=...)``
does, by adding a step to the view that asks the backend for a verdict.

Callbacks may be ``async`` or plain functions (plain ones run in the thread
pool). They are adapted once, when registered.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from dyne.request import parse_cookie_header

from .._callbacks import AsyncCallback, as_async
from ..roles import user_role_set
from .digest import MemoryNonceStore, NonceSigner, NonceState, NonceStore, digest_hasher
from .exceptions import AuthenticationError  # noqa: F401  (Dyne 2.0.5's import path)
from .headers import (
    MAX_AUTHORIZATION_LENGTH,
    authorization,
    parse_auth_params,
    parse_basic,
    query_value,
    quote,
    split_scheme,
    to_utf8,
)

if TYPE_CHECKING:
    from dyne.types import Scope

__all__ = [
    "DEFAULT_REALM",
    "BasicAuth",
    "DigestAuth",
    "HTTPAuth",
    "MultiAuth",
    "TokenAuth",
    "Verdict",
]

DEFAULT_REALM = "Authentication Required"

F = TypeVar("F", bound=Callable[..., Any])
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


class Connection(Protocol):
    """What a backend reads: a dyne ``Request`` (or a websocket) — anything
    with an ASGI ``scope``."""

    @property
    def scope(self) -> Scope: ...


class Verdict:
    """The outcome of checking a request's credentials.

    ``ok`` with the ``user`` on success. On failure, ``presented`` tells whether
    the request carried credentials for ``backend`` at all, and ``stale``
    whether a Digest nonce merely expired.
    """

    __slots__ = ("backend", "ok", "presented", "stale", "user")

    def __init__(self, backend: HTTPAuth, ok: bool, user: Any = None, *, presented: bool = False,
                 stale: bool = False) -> None:
        self.backend = backend
        self.ok = ok
        self.user = user
        self.presented = presented
        self.stale = stale

    def __repr__(self) -> str:
        state = "ok" if self.ok else "stale" if self.stale else "presented" if self.presented else "missing"
        return f"<Verdict {state} by {type(self.backend).__name__}>"


def _check_realm(realm: str | None) -> str:
    if realm is None:
        return DEFAULT_REALM
    if not isinstance(realm, str) or _CONTROL.search(realm):
        raise ValueError(f"realm must be a string without control characters, got {realm!r}")
    return realm


def _scheme_name(text: str) -> str:
    """A security scheme name OpenAPI accepts (``^[A-Za-z0-9._-]+$``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _failed_user(user: Any) -> bool:
    return user is None or user is False


class HTTPAuth:
    """What every backend shares: the realm, ``error_handler`` and
    ``get_user_roles``, and the interface ``@authenticate`` uses."""

    #: The ``Authorization`` scheme, as it appears in challenges.
    scheme: str = ""
    #: Lower sorts first among a ``MultiAuth``'s challenges.
    challenge_priority = 1

    def __init__(self, *, realm: str | None = None) -> None:
        self.realm = _check_realm(realm)
        self.max_header_length = MAX_AUTHORIZATION_LENGTH
        self._scheme_key = self.scheme.lower()
        self._error_handler: AsyncCallback | None = None
        self._get_user_roles: AsyncCallback | None = None
        self._missing = Verdict(self, False)
        self._rejected = Verdict(self, False, presented=True)

    # -- callbacks -------------------------------------------------------------

    def error_handler(self, func: F) -> F:
        """Register ``error_handler(req, resp, status_code)``, called instead of
        the default 401/403 response. ``resp.status_code`` is already set to
        ``status_code``; the handler may change it and set a body. A 401 keeps
        its ``WWW-Authenticate`` challenge unless the handler sets one."""
        self._error_handler = as_async(func, "error_handler")
        return func

    def get_user_roles(self, func: F) -> F:
        """Register ``get_user_roles(user)``: the user's role name, a list of
        role names, or ``None``. Needed by ``@authenticate(..., role=...)``."""
        self._get_user_roles = as_async(func, "get_user_roles")
        return func

    # -- the interface @authenticate uses ----------------------------------------

    def claims(self, scope: Scope) -> bool:
        """Whether the request carries credentials meant for this backend."""
        raise NotImplementedError

    async def verify(self, conn: Connection) -> Verdict:
        """Check the request's credentials (no roles, no response)."""
        raise NotImplementedError

    async def authenticate(self, conn: Connection) -> Any:
        """The user the request's credentials identify, or ``None``. Usable
        anywhere, e.g. on a websocket: ``user = await token_auth.authenticate(ws)``."""
        verdict = await self.verify(conn)
        return verdict.user if verdict.ok else None

    async def challenge(self, conn: Connection, verdict: Verdict | None = None) -> str:
        """The ``WWW-Authenticate`` value sent with a 401."""
        return f"{self.scheme} realm={quote(self.realm)}"

    def handler_for(self, verdict: Verdict) -> AsyncCallback | None:
        """The error handler answering a failure described by ``verdict``."""
        return self._error_handler

    async def user_roles(self, verdict: Verdict) -> frozenset[Hashable]:
        """The roles of the user ``verdict`` authenticated."""
        callback = self._roles_callback(verdict)
        if callback is None:
            raise RuntimeError(f"A role is required but {self!r} has no get_user_roles callback: "
                               "register one with @<backend>.get_user_roles")
        return user_role_set(await callback(verdict.user))

    def _roles_callback(self, verdict: Verdict) -> AsyncCallback | None:
        return self._get_user_roles

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        """OpenAPI Security Scheme Objects by (stable) name."""
        raise NotImplementedError

    def security_requirements(self) -> list[dict[str, list[str]]]:
        """An OpenAPI security requirement list: any one entry is enough."""
        return [{name: []} for name in self.security_schemes()]

    def _scheme_credentials(self, scope: Scope) -> str | None:
        """The credentials after this backend's scheme in ``Authorization``
        (``None`` when the header is absent or has another scheme; ``""``
        when it is unreadable)."""
        value = authorization(scope, limit=self.max_header_length)
        if value is None:
            return None
        if not value:
            return ""
        scheme, credentials = split_scheme(value)
        if scheme != self._scheme_key:
            return None
        return credentials

    def __repr__(self) -> str:
        return f"{type(self).__name__}(realm={self.realm!r})"


class BasicAuth(HTTPAuth):
    """HTTP Basic authentication (RFC 7617).

    Register ``verify_password(username, password)`` returning the user (any
    object) or ``None``/``False``; returning ``True`` makes the username the
    user. Alternatively, ``get_password(username)`` returning the stored
    password (or ``None``) is compared in constant time.
    """

    scheme = "Basic"

    def __init__(self, *, realm: str | None = None) -> None:
        super().__init__(realm=realm)
        self._verify_password: AsyncCallback | None = None
        self._get_password: AsyncCallback | None = None

    def verify_password(self, func: F) -> F:
        """Register ``verify_password(username, password)`` -> user or ``None``."""
        self._verify_password = as_async(func, "verify_password")
        return func

    def get_password(self, func: F) -> F:
        """Register ``get_password(username)`` -> the plain password or ``None``
        (used when no ``verify_password`` is registered)."""
        self._get_password = as_async(func, "get_password")
        return func

    def claims(self, scope: Scope) -> bool:
        return self._scheme_credentials(scope) is not None

    async def verify(self, conn: Connection) -> Verdict:
        credentials = self._scheme_credentials(conn.scope)
        if credentials is None:
            return self._missing
        parsed = parse_basic(credentials)
        if parsed is None:
            return self._rejected
        username, password = parsed
        if self._verify_password is not None:
            user = await self._verify_password(username, password)
        elif self._get_password is not None:
            stored = await self._get_password(username)
            # Compare even for an unknown user, so both take the same time.
            expected = (secrets.token_hex(16) if stored is None else str(stored)).encode("utf-8")
            user = hmac.compare_digest(expected, password.encode("utf-8")) and stored is not None
        else:
            raise RuntimeError("BasicAuth has no verify_password (or get_password) callback: "
                               "register one with @basic_auth.verify_password")
        if _failed_user(user):
            return self._rejected
        return Verdict(self, True, username if user is True else user)

    async def challenge(self, conn: Connection, verdict: Verdict | None = None) -> str:
        return f'Basic realm={quote(self.realm)}, charset="UTF-8"'

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return {"basicAuth": {"type": "http", "scheme": "basic"}}


class TokenAuth(HTTPAuth):
    """Token authentication: ``Authorization: Bearer <token>`` by default.

    ``scheme`` changes the word before the token (``"Token"``...). An API key
    may come from elsewhere instead, the whole value being the token:
    another header (``header="X-API-Key"``), a query parameter
    (``query="api_key"``) or a cookie (``cookie="api_key"``); give at most
    one of the three. Register ``verify_token(token)`` returning the user or
    ``None``/``False`` (``True`` makes the token the user).
    """

    def __init__(self, scheme: str = "Bearer", header: str | None = None, *,
                 query: str | None = None, cookie: str | None = None,
                 realm: str | None = None) -> None:
        super().__init__(realm=realm)
        if not isinstance(scheme, str) or not _TOKEN.match(scheme):
            raise ValueError(f"scheme must be a single word such as 'Bearer', got {scheme!r}")
        for option, value in (("header", header), ("query", query), ("cookie", cookie)):
            if value is not None and (not isinstance(value, str) or not _TOKEN.match(value)):
                raise ValueError(f"{option} must be a {option} name such as 'X-API-Key', got {value!r}")
        if sum(value is not None for value in (header, query, cookie)) > 1:
            raise ValueError("TokenAuth reads the token from one place: give header=, query= or "
                             "cookie=, not several (combine backends with MultiAuth)")
        self.scheme = scheme
        self._scheme_key = scheme.lower()
        self.header = header
        self.query = query
        self.cookie = cookie
        self._header_key = header.lower().encode("latin-1") if header else None
        self._query_key = query.encode("latin-1") if query else None
        self._verify_token: AsyncCallback | None = None

    def verify_token(self, func: F) -> F:
        """Register ``verify_token(token)`` -> user or ``None``."""
        self._verify_token = as_async(func, "verify_token")
        return func

    def _token(self, scope: Scope) -> str | None:
        """The token sent (``None``: none; ``""``: one that cannot be read)."""
        if self._query_key is not None:
            return query_value(scope.get("query_string", b""), self._query_key,
                               self.max_header_length)
        if self.cookie is not None:
            header = authorization(scope, b"cookie", 4 * self.max_header_length)
            if header is None:
                return None
            value = parse_cookie_header(header).get(self.cookie)
            if value is None:
                return None
            return "" if len(value) > self.max_header_length else to_utf8(value) or ""
        if self._header_key is None:
            return self._scheme_credentials(scope)
        value = authorization(scope, self._header_key, self.max_header_length)
        return None if value is None else value.strip()

    def claims(self, scope: Scope) -> bool:
        return self._token(scope) is not None

    async def verify(self, conn: Connection) -> Verdict:
        token = self._token(conn.scope)
        if token is None:
            return self._missing
        if not token:
            return self._rejected
        if self._verify_token is None:
            raise RuntimeError("TokenAuth has no verify_token callback: register one with "
                               "@token_auth.verify_token")
        user = await self._verify_token(token)
        if _failed_user(user):
            return self._rejected
        return Verdict(self, True, token if user is True else user)

    async def challenge(self, conn: Connection, verdict: Verdict | None = None) -> str:
        value = f"{self.scheme} realm={quote(self.realm)}"
        if verdict is not None and verdict.backend is self and verdict.presented:
            value += ', error="invalid_token"'  # RFC 6750: a token was sent and refused
        return value

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        for place, name in (("header", self.header), ("query", self.query), ("cookie", self.cookie)):
            if name is not None:
                key = name if place == "header" else f"{name}_{place}"
                return {_scheme_name(key): {"type": "apiKey", "in": place, "name": name}}
        scheme = self.scheme.lower()
        return {_scheme_name(f"{scheme}Auth"): {"type": "http", "scheme": scheme}}

    def __repr__(self) -> str:
        where = (f"query={self.query!r}" if self.query is not None
                 else f"cookie={self.cookie!r}" if self.cookie is not None else f"header={self.header!r}")
        return f"{type(self).__name__}(scheme={self.scheme!r}, {where})"


class DigestAuth(HTTPAuth):
    """HTTP Digest authentication (RFC 7616), which never sends the password.

    Register ``get_password(username)`` returning the user's password, or with
    ``use_ha1_pw=True`` the precomputed ``HA1 = H(username:realm:password)``
    (hex), or ``None`` for an unknown user. The user is the username.

    ``algorithm`` is ``"MD5"`` (what most clients speak), ``"SHA-256"`` or
    ``"SHA-512-256"``, each also as ``-sess``. ``qop="auth"`` (the default)
    protects against replays with client nonces and counters; ``qop=None``
    speaks the original RFC 2069 scheme, where every nonce is single-use.

    Nonces are signed with the app's secret key (or ``secret_key=``) and
    expire after ``nonce_max_age`` seconds. Every accepted nonce use is recorded
    in ``nonce_store`` (in memory by default) so that it cannot be replayed.
    The ``generate_nonce``/``verify_nonce`` and ``generate_opaque``/
    ``verify_opaque`` hooks replace the defaults.
    """

    scheme = "Digest"
    challenge_priority = 0  # several clients only read the first challenge

    def __init__(self, realm: str | None = None, use_ha1_pw: bool = False, qop: str | None = "auth",
                 algorithm: str = "MD5", *, nonce_max_age: float = 300,
                 nonce_store: NonceStore | None = None, secret_key: str | bytes | None = None) -> None:
        super().__init__(realm=realm)
        if qop is not None and qop.lower() != "auth":
            raise ValueError(f"qop must be 'auth' or None, got {qop!r} (auth-int is not supported)")
        self._hash_name, self._session = digest_hasher(algorithm)
        self._hex_length = hashlib.new(self._hash_name).digest_size * 2
        if nonce_max_age <= 0:
            raise ValueError("nonce_max_age must be positive")
        if nonce_store is not None and not isinstance(nonce_store, NonceStore):
            raise TypeError("nonce_store needs an async remember(key, ttl) method")
        self.use_ha1_pw = use_ha1_pw
        self.qop = None if qop is None else "auth"
        self.algorithm = algorithm
        self.nonce_max_age = nonce_max_age
        self.nonce_store: NonceStore = nonce_store if nonce_store is not None else MemoryNonceStore()
        self._secret_key = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        self._signers: dict[bytes, NonceSigner] = {}
        self._get_password: AsyncCallback | None = None
        self._generate_nonce: AsyncCallback | None = None
        self._verify_nonce: AsyncCallback | None = None
        self._generate_opaque: AsyncCallback | None = None
        self._verify_opaque: AsyncCallback | None = None

    # -- callbacks -------------------------------------------------------------

    def get_password(self, func: F) -> F:
        """Register ``get_password(username)`` -> password (or HA1), or ``None``."""
        self._get_password = as_async(func, "get_password")
        return func

    def generate_nonce(self, func: F) -> F:
        """Register ``generate_nonce(request)`` -> a nonce string (pair it with
        ``verify_nonce``)."""
        self._generate_nonce = as_async(func, "generate_nonce")
        return func

    def verify_nonce(self, func: F) -> F:
        """Register ``verify_nonce(request, nonce)`` -> ``True`` if it is valid."""
        self._verify_nonce = as_async(func, "verify_nonce")
        return func

    def generate_opaque(self, func: F) -> F:
        """Register ``generate_opaque(request)`` -> an opaque string (pair it
        with ``verify_opaque``)."""
        self._generate_opaque = as_async(func, "generate_opaque")
        return func

    def verify_opaque(self, func: F) -> F:
        """Register ``verify_opaque(request, opaque)`` -> ``True`` if it is valid."""
        self._verify_opaque = as_async(func, "verify_opaque")
        return func

    # -- nonces ------------------------------------------------------------------

    def _signer(self, conn: Connection) -> NonceSigner:
        key = self._secret_key
        if key is None:
            app = conn.scope.get("app")
            secret = getattr(app, "secret_key", None)
            key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not key:
            # No secret anywhere: a random key for this backend, in this process.
            key = self._secret_key = secrets.token_bytes(32)
        signer = self._signers.get(key)
        if signer is None:
            signer = self._signers[key] = NonceSigner(key, self.nonce_max_age)
        return signer

    @staticmethod
    def _check_pair(make: AsyncCallback | None, check: AsyncCallback | None, what: str) -> None:
        if (make is None) != (check is None):
            raise RuntimeError(f"DigestAuth needs both generate_{what} and verify_{what} "
                               f"(only one of them is registered)")

    async def _make_nonce(self, conn: Connection) -> str:
        self._check_pair(self._generate_nonce, self._verify_nonce, "nonce")
        if self._generate_nonce is not None:
            return str(await self._generate_nonce(conn))
        return self._signer(conn).make()

    async def _nonce_state(self, conn: Connection, nonce: str) -> NonceState:
        self._check_pair(self._generate_nonce, self._verify_nonce, "nonce")
        if self._verify_nonce is not None:
            return NonceState.VALID if await self._verify_nonce(conn, nonce) else NonceState.INVALID
        return self._signer(conn).check(nonce)

    async def _make_opaque(self, conn: Connection, nonce: str) -> str:
        self._check_pair(self._generate_opaque, self._verify_opaque, "opaque")
        if self._generate_opaque is not None:
            return str(await self._generate_opaque(conn))
        return self._signer(conn).opaque(nonce)

    async def _opaque_valid(self, conn: Connection, nonce: str, opaque: str | None) -> bool:
        self._check_pair(self._generate_opaque, self._verify_opaque, "opaque")
        if opaque is None:
            return False
        if self._verify_opaque is not None:
            return bool(await self._verify_opaque(conn, opaque))
        return hmac.compare_digest(opaque.encode("utf-8"), self._signer(conn).opaque(nonce).encode())

    # -- checking a response -------------------------------------------------------

    def _hash(self, text: str) -> str:
        return hashlib.new(self._hash_name, text.encode("utf-8")).hexdigest()

    def _looks_like_ha1(self, value: str) -> bool:
        return len(value) == self._hex_length and all(c in "0123456789abcdefABCDEF" for c in value)

    def expected_response(self, *, username: str, password: str, method: str, uri: str, nonce: str,
                          nc: str | None = None, cnonce: str | None = None, ha1: bool | None = None
                          ) -> str:
        """The ``response`` a client with ``password`` must send. ``password``
        is read as an HA1 when ``ha1`` is true (default: ``use_ha1_pw``)."""
        is_ha1 = self.use_ha1_pw if ha1 is None else ha1
        a1 = password.lower() if is_ha1 else self._hash(f"{username}:{self.realm}:{password}")
        if self._session:
            a1 = self._hash(f"{a1}:{nonce}:{cnonce}")
        a2 = self._hash(f"{method}:{uri}")
        if self.qop is None:
            return self._hash(f"{a1}:{nonce}:{a2}")
        return self._hash(f"{a1}:{nonce}:{nc}:{cnonce}:{self.qop}:{a2}")

    def claims(self, scope: Scope) -> bool:
        return self._scheme_credentials(scope) is not None

    def _params(self, credentials: str) -> dict[str, str] | None:
        params = parse_auth_params(credentials)
        if params is None:
            return None
        for name in ("username", "realm", "nonce", "uri", "response"):
            if not params.get(name):
                return None
        # Only the username may be non-ASCII; the nonce and opaque reach user
        # hooks, where hmac.compare_digest(str, str) would fail on them.
        if not all(value.isascii() for name, value in params.items() if name != "username"):
            return None
        if params["realm"] != self.realm:
            return None
        if params.get("algorithm", "MD5").upper() != self.algorithm.upper():
            return None
        if self.qop is None:
            if "qop" in params:
                return None
        else:
            nc = params.get("nc", "")
            if (params.get("qop", "").lower() != self.qop or not params.get("cnonce")
                    or len(nc) != 8 or not all(c in "0123456789abcdefABCDEF" for c in nc)):
                return None
        return params

    async def verify(self, conn: Connection) -> Verdict:
        scope = conn.scope
        credentials = self._scheme_credentials(scope)
        if credentials is None:
            return self._missing
        params = self._params(credentials) if credentials else None
        if params is None or not _uri_matches(params["uri"], scope):
            return self._rejected
        username = to_utf8(params["username"])
        if username is None:
            return self._rejected
        nonce = params["nonce"]
        if not await self._opaque_valid(conn, nonce, params.get("opaque")):
            return self._rejected
        state = await self._nonce_state(conn, nonce)
        if state is NonceState.INVALID:
            return self._rejected
        if self._get_password is None:
            raise RuntimeError("DigestAuth has no get_password callback: register one with "
                               "@digest_auth.get_password")
        stored = await self._get_password(username)
        # An unknown user costs the same work as a wrong password.
        secret = secrets.token_hex(16) if stored is None else str(stored)
        answer = {"username": username, "method": scope.get("method", "GET"), "uri": params["uri"],
                  "nonce": nonce, "nc": params.get("nc"), "cnonce": params.get("cnonce")}
        sent = params["response"].lower().encode("utf-8")
        matched = hmac.compare_digest(self.expected_response(password=secret, **answer).encode(), sent)
        if not matched and not self.use_ha1_pw and self._looks_like_ha1(secret):
            # A stored value shaped like an HA1 is also tried as one (the
            # documented HA1 example does not set use_ha1_pw). Safe: either
            # way, answering needs the stored value itself.
            matched = hmac.compare_digest(
                self.expected_response(password=secret, ha1=True, **answer).encode(), sent)
        if not matched or stored is None:
            return self._rejected
        if state is NonceState.STALE:
            # Right password, expired nonce: the client may retry with a new one.
            return Verdict(self, False, presented=True, stale=True)
        # What must not be accepted twice: with qop, one (nonce, cnonce, nc)
        # triple, so shared nonces keep working; without, the nonce itself.
        use = nonce if self.qop is None else f"{nonce}\x00{params['cnonce']}\x00{params['nc'].lower()}"
        if not await self.nonce_store.remember(use, self.nonce_max_age + NonceSigner.CLOCK_SKEW):
            return Verdict(self, False, presented=True, stale=True)
        return Verdict(self, True, username)

    async def challenge(self, conn: Connection, verdict: Verdict | None = None) -> str:
        nonce = await self._make_nonce(conn)
        opaque = await self._make_opaque(conn, nonce)
        parts = [f"Digest realm={quote(self.realm)}", f"nonce={quote(nonce)}",
                 f"opaque={quote(opaque)}", f"algorithm={self.algorithm}"]
        if self.qop is not None:
            parts.append(f'qop="{self.qop}"')
        if verdict is not None and verdict.backend is self and verdict.stale:
            parts.append("stale=TRUE")
        return ", ".join(parts)

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return {"digestAuth": {"type": "http", "scheme": "digest"}}

    def __repr__(self) -> str:
        return f"DigestAuth(realm={self.realm!r}, algorithm={self.algorithm!r}, qop={self.qop!r})"


def _uri_matches(uri: str, scope: Scope) -> bool:
    """Whether a Digest ``uri`` names the request target (so credentials for
    one URL cannot be used on another)."""
    query = scope.get("query_string", b"").decode("latin-1")
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "")
    if uri == (f"{path}?{query}" if query else path):
        return True
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.query != query:
        return False
    requested = unquote(parts.path)
    actual = scope.get("path", "")
    return requested in (actual, scope.get("root_path", "") + actual)


class MultiAuth(HTTPAuth):
    """Several backends on one route: the request is checked by each backend
    whose credentials it carries, in order, and the first success wins.

    A 401 carries every backend's challenge (Digest first, since several client
    libraries read only the first). MultiAuth's own ``error_handler`` and
    ``get_user_roles``, when registered, win; otherwise those of the backend
    that authenticated (or refused) the request answer.
    """

    def __init__(self, *backends: HTTPAuth) -> None:
        if not backends:
            raise ValueError("MultiAuth needs at least one backend")
        for backend in backends:
            if not isinstance(backend, HTTPAuth):
                raise TypeError(f"MultiAuth takes authentication backends, got {backend!r}")
        super().__init__()
        self.backends = backends
        self._challengers = sorted(backends, key=lambda backend: backend.challenge_priority)
        self.challenge_priority = self._challengers[0].challenge_priority

    def claims(self, scope: Scope) -> bool:
        return any(backend.claims(scope) for backend in self.backends)

    async def verify(self, conn: Connection) -> Verdict:
        failed: Verdict | None = None
        scope = conn.scope
        for backend in self.backends:
            if backend.claims(scope):
                verdict = await backend.verify(conn)
                if verdict.ok:
                    return verdict
                if failed is None:
                    failed = verdict
        return failed if failed is not None else self._missing

    async def challenge(self, conn: Connection, verdict: Verdict | None = None) -> str:
        return ", ".join([await backend.challenge(conn, verdict) for backend in self._challengers])

    def handler_for(self, verdict: Verdict) -> AsyncCallback | None:
        if self._error_handler is not None or verdict.backend is self:
            return self._error_handler
        return verdict.backend.handler_for(verdict)

    def _roles_callback(self, verdict: Verdict) -> AsyncCallback | None:
        if self._get_user_roles is not None or verdict.backend is self:
            return self._get_user_roles
        return verdict.backend._roles_callback(verdict)

    async def user_roles(self, verdict: Verdict) -> frozenset[Hashable]:
        callback = self._roles_callback(verdict)
        if callback is None:
            raise RuntimeError(f"A role is required but neither MultiAuth nor {verdict.backend!r} has "
                               "a get_user_roles callback")
        return user_role_set(await callback(verdict.user))

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        schemes: dict[str, dict[str, Any]] = {}
        for backend in self.backends:
            schemes.update(backend.security_schemes())
        return schemes

    def __repr__(self) -> str:
        return f"MultiAuth({', '.join(repr(backend) for backend in self.backends)})"


def __getattr__(name: str) -> Any:
    # ``from dyne.ext.auth.stateless.backends import authenticate`` works too
    # (imported lazily: the decorator module imports this one).
    if name == "authenticate":
        from .decorator import authenticate

        return authenticate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
