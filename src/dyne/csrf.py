"""Cross-site request forgery (CSRF) protection for cookie-authenticated requests.

A browser attaches cookies to requests that other sites make it send (a form
posted from ``evil.example``), so a request that is authenticated by the
session cookie (``req.session``, ``LoginManager``) must prove it comes from
this site before it may change anything. ``App(csrf=True)``, the default,
checks every state-changing request (anything but GET, HEAD, OPTIONS and
TRACE) that carries a protected cookie (the session cookie, the remember-me
cookie of ``LoginManager``):

1. ``Origin``, when the browser sends it, must be this site's own origin (or
   one of ``trusted_origins``); ``Sec-Fetch-Site: cross-site``/``same-site``
   without a trusted ``Origin`` is refused; without either, a ``Referer``
   from another origin is refused.
2. A request whose ``Origin`` (or ``Sec-Fetch-Site: same-origin``) proved it
   same-origin passes (browsers set these headers; pages cannot forge them).
   Otherwise (older browsers, non-browser clients), or always with
   ``require_token=True``, it needs the CSRF token: the ``X-CSRF-Token``
   header (JavaScript clients) or the ``csrf_token`` form field
   (``{{ csrf_input(req) }}`` in a template).

Failures are 403. Requests with an ``Authorization`` header (bearer, basic
APIs), requests without protected cookies, routes protected only by
``@authenticate`` (header-based backends) and routes marked ``@csrf_exempt``
(or ``csrf=False``) are not checked.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import HTTPException

if TYPE_CHECKING:
    from .app import App
    from .request import Request

__all__ = ["CSRFProtection", "csrf_exempt"]

F = TypeVar("F", bound=Callable[..., Any])

#: Methods that must not change state, never checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: ``req.session`` key of the per-session secret.
SESSION_KEY = "_csrf_secret"
_SECRET_BYTES = 32


def csrf_exempt(view: F) -> F:
    """Turn CSRF checking off for a view (a webhook called by another site
    with the user's cookies is the usual reason). Same as the route option
    ``csrf=False``."""
    from .endpoints import get_endpoint_spec

    spec = get_endpoint_spec(view)
    assert spec is not None
    spec.meta["csrf_exempt"] = True
    return view


def route_option(route: Any, value: bool) -> None:
    """``@app.route(path, csrf=False)`` exempts the route from CSRF checks."""
    if not isinstance(value, bool):
        raise TypeError(f"csrf= takes True or False, got {value!r}")
    route.spec.meta["csrf_exempt"] = not value


def _origin_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CSRFProtection:
    """The checks ``App(csrf=...)`` runs; ``app.csrf`` (``None`` when off).

    :param trusted_origins: other origins (``"https://admin.example.com"``)
        whose pages may post to this app.
    :param require_token: require the token even when ``Origin`` proves the
        request same-origin (Django's behaviour).
    :param header_name: the header JavaScript clients send the token in.
    :param field_name: the form field forms send the token in.
    :param cookie_names: cookies that authenticate a request, besides the
        session cookie (``LoginManager`` adds its remember-me cookie).
    """

    def __init__(self, app: App, *, trusted_origins: Iterable[str] = (),
                 require_token: bool = False, header_name: str = "X-CSRF-Token",
                 field_name: str = "csrf_token", cookie_names: Iterable[str] = ()) -> None:
        if isinstance(trusted_origins, str):
            raise TypeError("trusted_origins must be a list of origins, not a string")
        origins = set()
        for origin in trusted_origins:
            normalized = _origin_of(origin)
            if normalized is None or normalized.rstrip("/") != origin.lower().rstrip("/"):
                raise ValueError(f"trusted_origins entries are origins such as "
                                 f"'https://example.com', got {origin!r}")
            origins.add(normalized)
        self.app = app
        self.trusted_origins = frozenset(origins)
        self.require_token = bool(require_token)
        self.header_name = header_name
        self.field_name = field_name
        self._header = header_name.lower().encode("latin-1")
        self._cookie_names = set(cookie_names)

    # -- configuration -----------------------------------------------------------------

    def protect_cookie(self, name: str) -> None:
        """Treat requests carrying cookie ``name`` as cookie-authenticated."""
        self._cookie_names.add(name)

    @property
    def cookie_names(self) -> frozenset[str]:
        """The cookies that make a request cookie-authenticated."""
        backend = self.app._session_backend
        session_cookie = getattr(backend, "cookie_name", None) if backend is not None \
            else "dyne-Session"
        names = set(self._cookie_names)
        if session_cookie:
            names.add(session_cookie)
        return frozenset(names)

    # -- tokens --------------------------------------------------------------------------

    def token(self, req: Request) -> str:
        """A token for ``req``'s session (a new random mask each call, so the
        page does not repeat a secret: no BREACH). Creates the session's
        secret on first use."""
        secret_hex = req.session.get(SESSION_KEY)
        if not isinstance(secret_hex, str) or len(secret_hex) != 2 * _SECRET_BYTES:
            secret_hex = req.session[SESSION_KEY] = secrets.token_hex(_SECRET_BYTES)
        secret = bytes.fromhex(secret_hex)
        mask = secrets.token_bytes(_SECRET_BYTES)
        return (mask + bytes(a ^ b for a, b in zip(mask, secret, strict=True))).hex()

    def valid_token(self, req: Request, token: str | None) -> bool:
        """Whether ``token`` was made by ``token()`` for this session."""
        secret_hex = req.session.get(SESSION_KEY)
        if not token or not isinstance(secret_hex, str) or len(token) != 4 * _SECRET_BYTES:
            return False
        try:
            raw = bytes.fromhex(token)
            secret = bytes.fromhex(secret_hex)
        except ValueError:
            return False
        mask, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
        unmasked = bytes(a ^ b for a, b in zip(mask, masked, strict=True))
        return hmac.compare_digest(unmasked, secret)

    def rotate(self, req: Request) -> None:
        """Forget the session's secret (done at login): earlier tokens stop working."""
        req.session.pop(SESSION_KEY, None)

    def input_tag(self, req: Request) -> str:
        """``<input type="hidden" name="csrf_token" value="...">`` for a form."""
        from markupsafe import Markup

        return Markup('<input type="hidden" name="{}" value="{}">').format(
            self.field_name, self.token(req))

    # -- the check ------------------------------------------------------------------------

    def exempt(self, route: Any) -> bool:
        """Whether ``route`` is not checked: ``@csrf_exempt``, ``csrf=False``, or
        protected only by header-based ``@authenticate`` backends. Computed
        once per route."""
        meta = route.spec.meta
        cached = meta.get("csrf.exempt")
        if cached is not None:
            return bool(cached)
        from .endpoints import get_endpoint_spec

        specs = [route.spec.meta]
        declared = get_endpoint_spec(route.endpoint, False)
        if declared is not None:
            specs.append(declared.meta)
        exempt = any(spec.get("csrf_exempt") for spec in specs)
        if not exempt:
            backends = [entry.get("backend") for spec in specs for entry in spec.get("auth", ())]
            exempt = bool(backends) and not any(getattr(backend, "uses_cookies", False)
                                                for backend in backends)
        meta["csrf.exempt"] = exempt
        return exempt

    def _carries_cookie(self, req: Request) -> bool:
        if req.raw_header(b"cookie") is None:
            return False
        cookies = req.cookies
        return any(name in cookies for name in self.cookie_names)

    def _own_origin(self, req: Request) -> str:
        url = req.url
        return f"{url.scheme}://{url.netloc}".lower()

    def _allowed(self, origin: str | None, own: str) -> bool:
        return origin is not None and (origin == own or origin in self.trusted_origins)

    async def check(self, req: Request, route: Any) -> None:
        """Raise 403 if ``req`` (a state-changing request for ``route``) is a
        cookie-authenticated request that did not prove it comes from this site."""
        if req.raw_header(b"authorization") is not None or not self._carries_cookie(req):
            return
        if self.exempt(route):
            return
        own = self._own_origin(req)
        origin_header = req.raw_header(b"origin")
        fetch_site = (req.raw_header(b"sec-fetch-site") or b"").decode("latin-1").lower()
        verified = False
        if origin_header is not None:
            origin = origin_header.decode("latin-1").strip().lower()
            if not self._allowed(origin, own):
                raise HTTPException(403, f"CSRF check failed: the request comes from another "
                                         f"site (Origin {origin})")
            verified = True
        elif fetch_site in ("cross-site", "same-site"):
            raise HTTPException(403, "CSRF check failed: the request comes from another site "
                                     f"(Sec-Fetch-Site: {fetch_site})")
        else:
            referer = req.raw_header(b"referer")
            if referer is not None and not self._allowed(_origin_of(referer.decode("latin-1")), own):
                raise HTTPException(403, "CSRF check failed: the Referer is another site")
            verified = fetch_site == "same-origin"
        if verified and not self.require_token:
            return
        token = await self._presented_token(req)
        if not self.valid_token(req, token):
            raise HTTPException(403, f"CSRF check failed: the {self.header_name} header or the "
                                     f"{self.field_name} form field is missing or invalid")

    async def _presented_token(self, req: Request) -> str | None:
        header = req.raw_header(self._header)
        if header is not None:
            return header.decode("latin-1").strip()
        if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await req.form()
            value = form.get(self.field_name)
            return value if isinstance(value, str) else None
        return None


def csrf_options(option: bool | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Keyword arguments for ``CSRFProtection`` from ``App(csrf=...)``; ``None``: off."""
    if option is None or option is True:
        return {}
    if option is False:
        return None
    if isinstance(option, Mapping):
        return dict(option)
    raise TypeError(f"csrf must be True, False or a dict of CSRFProtection options, got {option!r}")
