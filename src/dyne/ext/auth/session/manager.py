"""Session authentication: ``LoginManager``, ``LoginMiddleware`` and
``AuthFailureReason``.

The logged-in user's id lives in the signed session cookie (``req.session``),
under ``"_user_id"``. An optional remember-me cookie, signed and timestamped
with the app's secret key, restores that session when the session cookie is
gone. ``LoginMiddleware``, installed on the app by ``LoginManager``, loads the
user before every HTTP request into ``req.state.user`` (``None`` when
anonymous); ``@auth.login_required`` then only looks at it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, overload

from dyne.exceptions import HTTPException
from dyne.extensions import Extension

from .._callbacks import AsyncCallback, as_async
from ..roles import declare_auth, normalize_roles, roles_allow, user_role_set
from ..stateless.headers import quote
from ..urls import is_safe_url

if TYPE_CHECKING:
    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["AuthFailureReason", "LoginManager", "LoginMiddleware"]

F = TypeVar("F", bound=Callable[..., Any])
V = TypeVar("V", bound=Callable[..., Any])

#: Where the logged-in user's id is kept in ``req.session``.
SESSION_KEY = "_user_id"


class AuthFailureReason(StrEnum):
    """Why ``@login_required`` refused a request (passed to ``on_failure``)."""

    #: Nobody is logged in.
    UNAUTHENTICATED = "unauthenticated"
    #: A user is logged in but lacks the required role.
    UNAUTHORIZED = "unauthorized"


class LoginMiddleware:
    """Loads the current user for every HTTP request into ``req.state.user``
    (``None`` when nobody is logged in).

    ``LoginManager(app)`` installs it as one of the app's before-request hooks;
    there is nothing to add by hand. It is a hook rather than ASGI middleware
    because it works on dyne's ``Request`` and ``Response``: it shares the
    request's already-parsed session, and can rewrite the session or drop a
    bad remember-me cookie on the response.
    """

    def __init__(self, manager: LoginManager) -> None:
        self.manager = manager

    async def __call__(self, req: Request, resp: Response) -> None:
        req.state.user = await self.manager.load_user(req, resp)


class LoginManager(Extension):
    """Session-based login for a dyne app (an ``Extension``, registered as
    ``app.extensions["login_manager"]``).

    ``USER_ID_KEY`` is the session key holding the logged-in user's id.

    :param app: the app (or call ``init_app(app)`` later). It must have a
        secret key (``SECRET_KEY`` in ``app.config``, or ``App(secret_key=...)``),
        which signs the session and remember-me cookies.
    :param login_url: where ``@login_required`` sends browsers that are not
        logged in (with ``?next=`` the page they asked for). ``None`` answers 401.
    :param remember_me_duration: lifetime of the remember-me cookie, in seconds
        (30 days by default).
    :param user_id_attribute: the attribute (or dict key) holding a user's id.
    :param remember_me_cookie_name: the remember-me cookie's name (``remember_me``;
        ``remember_cookie_name`` is accepted too).
    :param default_redirect_url: where ``login``/``logout`` redirect instead of
        an unsafe (off-site) ``redirect_url``.
    :param cookie_secure: the remember-me cookie's ``Secure`` flag; by default,
        whether the request came over HTTPS.
    """

    #: Requests are authenticated by cookies, so CSRF checks apply to them.
    uses_cookies = True

    def __init__(self, app: App | None = None, login_url: str | None = "/login",
                 remember_me_duration: int = 2592000, user_id_attribute: str = "id", *,
                 remember_me_cookie_name: str = "remember_me", default_redirect_url: str = "/",
                 remember_cookie_name: str | None = None,
                 cookie_secure: bool | None = None, cookie_samesite: str = "lax",
                 cookie_path: str = "/", cookie_domain: str | None = None,
                 realm: str = "Authentication Required") -> None:
        super().__init__()
        if int(remember_me_duration) <= 0:
            raise ValueError("remember_me_duration must be a positive number of seconds")
        if not is_safe_url(default_redirect_url):
            raise ValueError(f"default_redirect_url must be a relative URL such as '/', "
                             f"got {default_redirect_url!r}")
        self.login_url = login_url
        self.remember_me_duration = int(remember_me_duration)
        self.user_id_attribute = user_id_attribute
        self.remember_me_cookie_name = remember_cookie_name or remember_me_cookie_name
        self.default_redirect_url = default_redirect_url
        self.cookie_secure = cookie_secure
        self.cookie_samesite = cookie_samesite
        self.cookie_path = cookie_path
        self.cookie_domain = cookie_domain
        self.realm = realm
        self.middleware = LoginMiddleware(self)
        self._serializer: Any = None
        self._secret_key: str = ""
        self._fallbacks: list[str] = []
        self._user_loader: AsyncCallback | None = None
        self._get_user_roles: AsyncCallback | None = None
        self._on_login: list[AsyncCallback] = []
        self._on_logout: list[AsyncCallback] = []
        self._on_failure: AsyncCallback | None = None
        if app is not None:
            self.init_app(app)

    #: The session key holding the logged-in user's id.
    USER_ID_KEY = SESSION_KEY

    @property
    def remember_cookie_name(self) -> str:
        """The remember-me cookie's name (same as ``remember_me_cookie_name``)."""
        return self.remember_me_cookie_name

    @property
    def secret_key(self) -> str:
        """The key signing the remember-me cookie (the app's secret key)."""
        return self._secret_key

    name = "login_manager"

    def register(self, app: App) -> bool:
        """Check the app's secret key first: a manager that cannot sign
        cookies is never registered."""
        if self.app is not app and not app.secret_key:
            raise RuntimeError("LoginManager needs a secret key to sign session and remember-me "
                               "cookies: set SECRET_KEY in app.config (or pass "
                               "dyne.App(secret_key=...))")
        return super().register(app)

    def setup(self, app: App) -> None:
        """Sign remember-me cookies with the app's secret key and install
        ``LoginMiddleware``."""
        from itsdangerous import URLSafeTimedSerializer

        from dyne.keys import oldest_first

        self._secret_key = str(app.secret_key)
        # Signed with SECRET_KEY; cookies signed with a SECRET_KEY_FALLBACKS key still verify.
        self._fallbacks = [str(key) for key in app.secret_key_fallbacks]
        self._serializer = URLSafeTimedSerializer(oldest_first(self._secret_key, self._fallbacks),
                                                  salt="dyne.auth.remember-me")
        app.before_request(self.middleware)
        csrf = getattr(app, "csrf", None)
        if csrf is not None:  # the remember-me cookie authenticates requests too
            csrf.protect_cookie(self.remember_cookie_name)

    # -- callbacks ---------------------------------------------------------------

    def user_loader(self, func: F) -> F:
        """Register ``user_loader(user_id: str)`` -> the user, or ``None``."""
        self._user_loader = as_async(func, "user_loader")
        return func

    def get_user_roles(self, func: F) -> F:
        """Register ``get_user_roles(user)`` -> a role name, a list of them, or
        ``None``. Needed by ``@login_required(role=...)``."""
        self._get_user_roles = as_async(func, "get_user_roles")
        return func

    def on_login(self, func: F) -> F:
        """Register ``on_login(req, resp, user)``, run after every login."""
        self._on_login.append(as_async(func, "on_login"))
        return func

    def on_logout(self, func: F) -> F:
        """Register ``on_logout(req, resp, user)``, run when a user logs out."""
        self._on_logout.append(as_async(func, "on_logout"))
        return func

    def on_failure(self, func: F) -> F:
        """Register ``on_failure(req, resp, reason)``, answering requests that
        ``@login_required`` refuses (``reason`` is an ``AuthFailureReason``). If
        it sets neither a status nor a body, ``default_failure`` answers."""
        self._on_failure = as_async(func, "on_failure")
        return func

    # -- the current user ----------------------------------------------------------

    def _bound(self) -> Any:
        if self._serializer is None:
            raise RuntimeError("LoginManager is not bound to an app: pass it the app or call "
                               "init_app(app)")
        return self._serializer

    def get_user_id(self, user: Any) -> str:
        """The id of ``user`` (attribute or dict key ``user_id_attribute``), as a string."""
        name = self.user_id_attribute
        value = user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)
        if value is None:
            raise ValueError(f"The user {user!r} has no {name!r} attribute or key; set "
                             "LoginManager(user_id_attribute=...) to the one holding its id")
        return str(value)

    async def _load(self, req: Request, user_id: str) -> Any:
        if self._user_loader is None:
            raise RuntimeError("LoginManager has no user_loader: register one with @auth.user_loader")
        open_database = req.app.request_properties.get("db") if req.app is not None else None
        if open_database is not None:
            # dyne.ext.db: open the request's session first, so a loader written
            # as `await User.find(id=...)` (CRUDMixin) has one to use.
            await open_database(req)
        return await self._user_loader(user_id)

    def _remembered_id(self, token: str) -> str | None:
        from itsdangerous import BadData

        try:
            value = self._bound().loads(token, max_age=self.remember_me_duration)
        except BadData:
            return None
        return value if isinstance(value, str) else None

    async def load_user(self, req: Request, resp: Response | None = None) -> Any:
        """The user this request is logged in as, or ``None``: from the session,
        else from a valid remember-me cookie (which then restores the session).
        A session or cookie naming a user who no longer exists is dropped."""
        session = req.session
        user_id = session.get(SESSION_KEY)
        if user_id is not None:
            user = await self._load(req, str(user_id))
            if user is not None:
                return user
            del session[SESSION_KEY]
        token = req.cookies.get(self.remember_me_cookie_name)
        if not token:
            return None
        remembered = self._remembered_id(token)
        if remembered is not None:
            user = await self._load(req, remembered)
            if user is not None:
                session[SESSION_KEY] = remembered
                return user
        if resp is not None:  # tampered, expired, or for a deleted user
            self._forget(resp)
        return None

    async def current_user(self, req: Request, resp: Response | None = None) -> Any:
        """``req.state.user``, loading it first if no ``LoginMiddleware`` did."""
        state = req.state
        if "user" not in state:
            state.user = await self.load_user(req, resp)
        return state.user

    # -- login and logout -----------------------------------------------------------

    def _remember(self, req: Request, resp: Response, user_id: str) -> None:
        resp.set_cookie(
            self.remember_me_cookie_name, self._bound().dumps(user_id),
            max_age=self.remember_me_duration, expires=self.remember_me_duration,
            path=self.cookie_path, domain=self.cookie_domain,
            secure=req.is_secure if self.cookie_secure is None else self.cookie_secure,
            httponly=True, samesite=self.cookie_samesite,
        )

    def _forget(self, resp: Response) -> None:
        resp.delete_cookie(self.remember_me_cookie_name, path=self.cookie_path, domain=self.cookie_domain)

    def safe_url(self, url: str | None, default: str | None = None) -> str:
        """``url`` if it is a same-site relative URL, else ``default`` (by
        default ``default_redirect_url``)."""
        if url is not None and is_safe_url(url):
            return url
        return self.default_redirect_url if default is None else default

    def next_url(self, req: Request, default: str | None = None) -> str:
        """The ``?next=`` page of this request if it is safe, else ``default``
        (by default ``default_redirect_url``): ``redirect_url=auth.next_url(req)``."""
        return self.safe_url(req.params.get("next"), default)

    async def login(self, req: Request, resp: Response, user: Any, remember_me: bool = False,
                    redirect_url: str | None = None) -> None:
        """Log ``user`` in: store its id in the session, set (or, without
        ``remember_me``, clear) the remember-me cookie, set ``req.state.user``,
        run the ``on_login`` hooks, and redirect (302) to ``redirect_url`` when
        given. An off-site ``redirect_url`` is replaced by ``default_redirect_url``."""
        self._bound()
        user_id = self.get_user_id(user)
        csrf = getattr(req.app, "csrf", None)
        if csrf is not None:  # tokens from before the login stop working
            csrf.rotate(req)
        req.session[SESSION_KEY] = user_id
        if remember_me:
            self._remember(req, resp, user_id)
        elif self.remember_me_cookie_name in req.cookies:
            self._forget(resp)
        req.state.user = user
        for hook in self._on_login:
            await hook(req, resp, user)
        if redirect_url is not None:
            resp.redirect(self.safe_url(redirect_url), status_code=302)

    async def logout(self, req: Request, resp: Response, redirect_url: str | None = None) -> None:
        """Log the current user out: clear the session's user id, the
        remember-me cookie and ``req.state.user``, then run the ``on_logout``
        hooks (when someone was logged in) and redirect (302) to a safe
        ``redirect_url`` when given."""
        self._bound()
        user = await self.current_user(req)
        req.session.pop(SESSION_KEY, None)
        self._forget(resp)
        req.state.user = None
        if user is not None:
            for hook in self._on_logout:
                await hook(req, resp, user)
        if redirect_url is not None:
            resp.redirect(self.safe_url(redirect_url), status_code=302)

    # -- protecting views ------------------------------------------------------------

    @overload
    def login_required(self, view: V, *, role: Any = None) -> V: ...

    @overload
    def login_required(self, view: None = None, *, role: Any = None) -> Callable[[V], V]: ...

    def login_required(self, view: Any = None, *, role: Any = None) -> Any:
        """Require a logged-in user: ``@auth.login_required``, or with a role
        ``@auth.login_required(role="admin")`` (a list means any of them, a
        list of lists all of one inner list). Failures go to ``on_failure``,
        else ``default_failure``."""
        if view is not None and not callable(view) and getattr(view, "_dyne_scope", False) is not True:
            raise TypeError("Use @auth.login_required(role=...) to require a role")
        requirement = normalize_roles(role)

        async def step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            user = await self.current_user(req, resp)
            if user is None:
                await self._fail(req, resp, AuthFailureReason.UNAUTHENTICATED)
            elif requirement is not None and not roles_allow(requirement, await self.user_roles(user)):
                await self._fail(req, resp, AuthFailureReason.UNAUTHORIZED)

        def decorator(target: V) -> V:
            return declare_auth(target, step, self, role, requirement)

        return decorator(view) if view is not None else decorator

    def role_required(self, *roles: Any) -> Callable[[V], V]:
        """PyJolt's spelling of ``login_required(role=[...])``: a logged-in user
        with any one of ``roles`` (``@auth.role_required("admin", "editor")``).
        On a view, a class-based view or a controller class."""
        if not roles:
            raise TypeError("@role_required needs at least one role")
        decorator: Callable[[V], V] = self.login_required(role=list(roles))
        return decorator

    async def user_roles(self, user: Any) -> frozenset[Hashable]:
        """The roles of ``user``, as ``@login_required(role=...)`` checks them: what
        the ``get_user_roles`` callback returns (a name, a list of names or
        ``None``), as a frozenset. For code that checks roles itself (an admin
        site, a view showing some buttons to editors only).

        :raises RuntimeError: no ``get_user_roles`` callback is registered.
        """
        if self._get_user_roles is None:
            raise RuntimeError("Roles need a role loader: register one with @auth.get_user_roles")
        return user_role_set(await self._get_user_roles(user))

    async def _fail(self, req: Request, resp: Response, reason: AuthFailureReason) -> None:
        if self._on_failure is not None:
            await self._on_failure(req, resp, reason)
            if resp.is_set:
                return
        await self.default_failure(req, resp, reason)

    def wants_redirect(self, req: Request) -> bool:
        """Whether to answer an anonymous request with a redirect to the login
        page rather than a 401. As the docs say, and as Dyne 2.0.5 does, the
        default is the redirect (when a ``login_url`` is set); a client that
        explicitly asks for JSON and not HTML (``Accept: application/json``,
        as API clients send) gets the 401 instead."""
        if not self.login_url:
            return False
        accept = req.headers.get("accept")
        if not accept:
            return True
        from dyne.formats import parse_accept

        accepted = [media for media, quality in parse_accept(accept) if quality > 0]
        wants_json = any(media == "application/json" or media.endswith("+json")
                         for media in accepted)
        wants_html = any(media in ("text/html", "application/xhtml+xml", "*/*", "text/*")
                         for media in accepted)
        return wants_html or not wants_json

    def login_redirect_url(self, req: Request) -> str:
        """``login_url`` with ``?next=`` the page requested (for GET and HEAD)."""
        from urllib.parse import urlencode

        url = str(self.login_url)
        if req.method not in ("GET", "HEAD"):
            return url
        query = req.scope.get("query_string", b"").decode("latin-1")
        here = req.scope.get("root_path", "") + req.path + (f"?{query}" if query else "")
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}{urlencode({'next': here})}"

    async def default_failure(self, req: Request, resp: Response, reason: AuthFailureReason) -> None:
        """The default answer to a refused request. Not logged in: a browser
        is redirected (302) to ``login_url`` with ``?next=``, other clients get
        a 401. Missing role: 403. The 401 and 403 are raised as
        ``HTTPException``, so the app's error handlers shape them."""
        if reason == AuthFailureReason.UNAUTHORIZED:
            raise HTTPException(403)
        login_path = str(self.login_url or "").split("?", 1)[0]
        if self.wants_redirect(req) and req.path != login_path:
            resp.redirect(self.login_redirect_url(req))
            return
        raise HTTPException(401, headers={"WWW-Authenticate": f"Cookie realm={quote(self.realm)}"})

    # -- OpenAPI --------------------------------------------------------------------

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        """OpenAPI Security Scheme Objects: the session and remember-me cookies."""
        session_cookie = "dyne-Session"
        if self.app is not None:
            session_cookie = getattr(self.app.session_backend, "cookie_name", session_cookie)
        return {
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": session_cookie},
            "rememberMeCookie": {"type": "apiKey", "in": "cookie", "name": self.remember_me_cookie_name},
        }

    def security_requirements(self) -> list[dict[str, list[str]]]:
        """Either cookie is enough."""
        return [{name: []} for name in self.security_schemes()]

    # -- helpers (PyJolt's names) -------------------------------------------------------

    def create_signed_cookie_value(self, value: Any) -> str:
        """``value`` (JSON-serializable) signed with the app's secret key."""
        from ..helpers.signing import Signer

        self._bound()
        return Signer(self._secret_key, salt="dyne.auth.signed-cookie",
                      fallbacks=self._fallbacks).sign(value)

    def decode_signed_cookie(self, cookie_value: str, max_age: float | None = None) -> Any:
        """The value signed by ``create_signed_cookie_value``, or ``None`` when
        it was tampered with (or is older than ``max_age`` seconds)."""
        from ..helpers.signing import Signer

        self._bound()
        return Signer(self._secret_key, salt="dyne.auth.signed-cookie",
                      fallbacks=self._fallbacks).unsign(cookie_value, max_age=max_age)

    def create_jwt_token(self, payload: Mapping[str, Any], expires_in: int = 3600) -> str:
        """A JWT (HS256, signed with the app's secret key) expiring in ``expires_in`` s."""
        from ..helpers.tokens import JWT

        self._bound()
        return JWT(self._secret_key, expires_in=expires_in).encode(payload)

    def validate_jwt_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a JWT made by ``create_jwt_token``, or ``None`` if it is
        invalid or expired."""
        from ..helpers.tokens import JWT

        self._bound()
        return JWT(self._secret_key, fallbacks=self._fallbacks).validate(token)

    @staticmethod
    def create_password_hash(password: str) -> str:
        """An argon2 hash of ``password``."""
        from ..helpers.passwords import hash_password

        return hash_password(password)

    @staticmethod
    def check_password_hash(password: str, hashed_password: str | None) -> bool:
        """Whether ``password`` matches ``hashed_password``."""
        from ..helpers.passwords import check_password

        return check_password(password, hashed_password)

    def __repr__(self) -> str:
        return f"LoginManager(login_url={self.login_url!r})"
