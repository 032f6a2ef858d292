"""OpenID Connect login: the authorization-code flow with PKCE, on Authlib
(``pip install "dyne[oidc]"``).

    from dyne.ext.auth.oidc import OIDCLogin

    oidc = OIDCLogin(app, issuer="https://accounts.example.com",
                     client_id="my-app", client_secret="...")

    @oidc.on_login
    async def logged_in(req, resp, user):
        req.session["user"] = user.claims["sub"]
        resp.redirect(user.next_url)

``GET /auth/login`` (``login_path``) redirects the browser to the provider
with a fresh ``state``, ``nonce`` and PKCE ``code_verifier`` kept in the
session; ``GET /auth/callback`` (``callback_path``, which must be the
redirect URI registered at the provider) checks the ``state``, exchanges the
code (with the verifier) at the token endpoint, and validates the ID token:
its signature against the provider's JWKS (fetched again once when a key id
is unknown, so the provider may rotate its keys), ``iss``, ``aud`` (and
``azp``), ``exp``/``iat`` and the ``nonce``. Anything wrong is a 401 and the
session keeps nothing of the attempt.

The provider's discovery document (``/.well-known/openid-configuration``)
and keys are fetched on first use and cached.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from dyne.exceptions import HTTPException
from dyne.redirects import is_safe_url

from ._callbacks import as_async

if TYPE_CHECKING:
    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["OIDCError", "OIDCLogin", "OIDCUser"]

F = TypeVar("F", bound=Callable[..., Any])
#: The session key holding one login attempt's state, nonce and verifier.
SESSION_KEY = "dyne.oidc"
#: The session key the default ``on_login`` stores the ID token's claims under.
USER_KEY = "oidc_user"
#: Signature algorithms accepted on ID tokens (never ``none``, nor HMAC
#: with a public key).
DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA")


class OIDCError(Exception):
    """The provider's answer or ID token was refused (a 401 for the browser)."""


@dataclass
class OIDCUser:
    """A successful login: the ID token's ``claims``, the token endpoint's
    response (``tokens``: ``access_token``, ``id_token``...) and where the
    user was going (``next_url``, a same-site path)."""

    claims: dict[str, Any]
    tokens: dict[str, Any] = field(repr=False)
    next_url: str = "/"


def _authlib() -> Any:
    try:
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    except ImportError as exc:
        raise ImportError('OpenID Connect login needs Authlib: pip install "dyne[oidc]"') from exc
    return AsyncOAuth2Client


class OIDCLogin:
    """Log users in with an OpenID provider.

    :param app: the application (or call ``init_app`` later); it needs a
        secret key, as the login attempt is kept in its session.
    :param issuer: the provider's issuer URL; its discovery document is
        ``{issuer}/.well-known/openid-configuration`` and must name the same issuer.
    :param client_id: this application's client id at the provider.
    :param client_secret: its secret (``None`` for a public client, which
        PKCE protects).
    :param scopes: the scopes asked for (``openid`` is always included).
    :param login_path: the route starting a login (``?next=/path`` says
        where to go afterwards).
    :param callback_path: the route the provider redirects back to.
    :param redirect_uri: the full callback URL, when the app cannot work it
        out from the request (behind a proxy).
    :param leeway: seconds of clock difference tolerated on ``exp``/``iat``.
    :param max_age: how long a login attempt may take, in seconds.
    """

    def __init__(self, app: App | None = None, *, issuer: str, client_id: str,
                 client_secret: str | None = None, scopes: Iterable[str] = ("openid", "email", "profile"),
                 login_path: str = "/auth/login", callback_path: str = "/auth/callback",
                 redirect_uri: str | None = None, leeway: int = 60, max_age: int = 600,
                 algorithms: Iterable[str] = DEFAULT_ALGORITHMS, timeout: float = 10.0) -> None:
        _authlib()
        if not issuer or not isinstance(issuer, str):
            raise ValueError("OIDCLogin needs the provider's issuer URL")
        if not client_id or not isinstance(client_id, str):
            raise ValueError("OIDCLogin needs a client_id")
        for name, path in (("login_path", login_path), ("callback_path", callback_path)):
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"{name} must be a path starting with '/', got {path!r}")
        algorithms = tuple(algorithms)
        if not algorithms or any(a.lower() == "none" or a.upper().startswith("HS") for a in algorithms):
            raise ValueError("algorithms= takes asymmetric signature algorithms such as 'RS256'")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        scope_list = list(dict.fromkeys(["openid", *scopes]))
        self.scope = " ".join(scope_list)
        self.login_path = login_path
        self.callback_path = callback_path
        self.redirect_uri = redirect_uri
        self.leeway = leeway
        self.max_age = max_age
        self.algorithms = algorithms
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._jwks: Any = None
        self._on_login: Callable[..., Awaitable[Any]] | None = None
        self.app: App | None = None
        if app is not None:
            self.init_app(app)

    # -- setup ---------------------------------------------------------------------------

    def init_app(self, app: App) -> None:
        """Register the login and callback routes on ``app``."""
        if self.app is not None:
            raise RuntimeError("This OIDCLogin is already attached to an app")
        if not app.secret_key:
            raise RuntimeError("OIDCLogin keeps the login attempt in the session: set SECRET_KEY "
                               "(or dyne.App(secret_key=...))")
        from dyne.endpoints import PUBLIC_KEY
        from dyne.routing import Route

        self.app = app
        for path, view, name in ((self.login_path, self._login, "dyne.oidc_login"),
                                 (self.callback_path, self._callback, "dyne.oidc_callback")):
            route = app.add_route(path, view, methods=["GET"], name=name, include_in_schema=False)
            if isinstance(route, Route):  # reachable when the app requires auth
                route.spec.meta[PUBLIC_KEY] = True

    def on_login(self, func: F) -> F:
        """Register ``on_login(req, resp, user)`` (``user``: an ``OIDCUser``),
        sync or async, called after a successful login. It usually stores the
        user in the session and redirects. Without one, the claims go to
        ``req.session["oidc_user"]`` and the browser to ``user.next_url``."""
        self._on_login = as_async(func, "on_login")
        return func

    # -- the provider --------------------------------------------------------------------

    def _client(self) -> Any:
        client_class = _authlib()
        return client_class(client_id=self.client_id, client_secret=self.client_secret,
                            scope=self.scope, code_challenge_method="S256", timeout=self.timeout,
                            token_endpoint_auth_method=("client_secret_basic" if self.client_secret
                                                        else "none"))

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once)."""
        if self._metadata is None:
            import httpx

            url = f"{self.issuer}/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url)
            if response.status_code != 200:
                raise OIDCError(f"{url} answered {response.status_code}")
            document = response.json()
            if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != self.issuer:
                raise OIDCError("The discovery document names another issuer")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(name), str):
                    raise OIDCError(f"The discovery document has no {name}")
            self._metadata = document
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> Any:
        if self._jwks is None or refresh:
            import httpx
            from joserfc.jwk import KeySet

            metadata = await self.metadata()
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(metadata["jwks_uri"])
            if response.status_code != 200:
                raise OIDCError(f"The JWKS answered {response.status_code}")
            self._jwks = KeySet.import_key_set(response.json())
        return self._jwks

    async def validate_id_token(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        """The claims of ``id_token`` once its signature (by one of the
        provider's keys) and claims are checked; ``OIDCError`` otherwise."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        if not isinstance(id_token, str) or len(id_token) > 64 * 1024:
            raise OIDCError("No usable ID token")
        try:
            token = jwt.decode(id_token, await self._key_set(), algorithms=self.algorithms)
        except (JoseError, ValueError) as first:
            # An unknown key id: the provider may have rotated its keys.
            try:
                token = jwt.decode(id_token, await self._key_set(refresh=True),
                                   algorithms=self.algorithms)
            except (JoseError, ValueError) as exc:
                raise OIDCError(f"ID token refused: {exc}") from first
        claims = dict(token.claims)
        now = time.time()
        if str(claims.get("iss", "")).rstrip("/") != self.issuer:
            raise OIDCError("ID token from another issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.client_id not in audiences:
            raise OIDCError("ID token for another client")
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise OIDCError("ID token authorized for another party")
        expires, issued = claims.get("exp"), claims.get("iat")
        if not isinstance(expires, (int, float)) or expires + self.leeway < now:
            raise OIDCError("ID token expired")
        if not isinstance(issued, (int, float)) or issued - self.leeway > now:
            raise OIDCError("ID token issued in the future")
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OIDCError("ID token for another login (nonce)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OIDCError("ID token without a subject")
        return claims

    # -- the routes ----------------------------------------------------------------------------

    def _redirect_uri(self, req: Request) -> str:
        if self.redirect_uri is not None:
            return self.redirect_uri
        return req.base_url.rstrip("/") + self.callback_path

    async def _login(self, req: Request, resp: Response) -> None:
        from authlib.common.security import generate_token

        try:
            metadata = await self.metadata()
        except Exception as exc:
            raise HTTPException(502, detail=f"The OpenID provider is unreachable: {exc}") from exc
        next_url = req.params.get("next") or "/"
        if not is_safe_url(next_url):
            next_url = "/"
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        redirect_uri = self._redirect_uri(req)
        req.session[SESSION_KEY] = {"state": state, "nonce": nonce, "verifier": verifier,
                                    "next": next_url, "redirect_uri": redirect_uri,
                                    "started": int(time.time())}
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier,
                nonce=nonce, redirect_uri=redirect_uri)
        resp.redirect(url, status_code=302)

    async def _callback(self, req: Request, resp: Response) -> None:
        attempt = req.session.pop(SESSION_KEY, None)  # one use, whatever happens
        try:
            user = await self._finish(req, attempt)
        except OIDCError as exc:
            raise HTTPException(401, detail=str(exc)) from exc
        if self._on_login is not None:
            await self._on_login(req, resp, user)
            if not resp.is_set:
                resp.redirect(user.next_url, status_code=303)
            return
        req.session[USER_KEY] = user.claims
        resp.redirect(user.next_url, status_code=303)

    async def _finish(self, req: Request, attempt: Any) -> OIDCUser:
        import httpx
        from authlib.integrations.base_client.errors import OAuthError

        if not isinstance(attempt, dict) or not all(
                isinstance(attempt.get(k), str) for k in ("state", "nonce", "verifier", "next")):
            raise OIDCError("No login in progress")
        if time.time() - float(attempt.get("started", 0)) > self.max_age:
            raise OIDCError("The login took too long")
        params = req.params
        if params.get("error"):
            raise OIDCError(f"The provider refused: {params.get('error')}")
        state, code = params.get("state") or "", params.get("code") or ""
        if not state or not secrets.compare_digest(state.encode(), attempt["state"].encode()):
            raise OIDCError("The state does not match this login")
        if not code or len(code) > 4096:
            raise OIDCError("No authorization code")
        metadata = await self.metadata()
        async with self._client() as client:
            try:
                tokens = await client.fetch_token(
                    metadata["token_endpoint"], grant_type="authorization_code", code=code,
                    code_verifier=attempt["verifier"], redirect_uri=attempt.get("redirect_uri"))
            except (OAuthError, ValueError, httpx.HTTPError) as exc:
                raise OIDCError(f"The token endpoint refused the code: {exc}") from exc
        tokens = dict(tokens)
        claims = await self.validate_id_token(tokens.get("id_token", ""), attempt["nonce"])
        return OIDCUser(claims=claims, tokens=tokens, next_url=attempt["next"])

    def __repr__(self) -> str:
        return f"OIDCLogin(issuer={self.issuer!r}, client_id={self.client_id!r})"
