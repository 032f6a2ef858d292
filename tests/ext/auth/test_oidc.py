"""``OIDCLogin`` against a real OpenID provider on loopback
(``tests/ext/auth/oidc_provider.py``): the whole redirect dance with httpx
following redirects and keeping cookies, then every way the answer can be
wrong is refused with a 401 and leaves nobody logged in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import dyne
from tests.conftest import require_module, serve_in_thread

require_module("authlib")
require_module("joserfc")

from dyne.ext.auth.oidc import OIDCLogin  # noqa: E402
from tests.ext.auth.oidc_provider import Provider  # noqa: E402

pytestmark = pytest.mark.server


def make_rp(provider: Provider) -> tuple[dyne.App, OIDCLogin]:
    app = dyne.App(secret_key="rp-" + "k" * 40)
    oidc = OIDCLogin(app, issuer=provider.issuer, client_id=provider.client_id,
                     client_secret=provider.client_secret)

    @app.get("/me")
    async def me(req, resp):
        user = req.session.get("oidc_user")
        if user is None:
            resp.status_code = 401
            resp.media = {"user": None}
            return
        resp.media = {"sub": user["sub"], "email": user["email"]}

    return app, oidc


@pytest.fixture(scope="module")
def provider():
    provider = Provider()
    with serve_in_thread(provider.app) as url:
        provider.issuer = url
        yield provider


@pytest.fixture
def rp(provider):
    provider.tamper = None
    app, oidc = make_rp(provider)
    with serve_in_thread(app) as url:
        yield url, oidc


def test_full_login_dance(provider, rp):
    url, _ = rp
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        response = browser.get(f"{url}/auth/login", params={"next": "/me"})
        assert response.status_code == 200, response.text
        assert response.json() == {"sub": "alice", "email": "alice@example.test"}
        hops = [str(hop.url) for hop in response.history]
        assert hops[0].startswith(f"{url}/auth/login")
        assert hops[1].startswith(f"{provider.issuer}/authorize?")
        assert hops[2].startswith(f"{url}/auth/callback?")
        # PKCE: the authorization request carried an S256 challenge, the token
        # request the verifier (the provider checked they match).
        authorize = parse_qs(urlsplit(hops[1]).query)
        assert authorize["code_challenge_method"] == ["S256"]
        assert provider.token_requests[-1]["code_verifier"]
        assert "nonce" in authorize and "state" in authorize


def test_unsafe_next_url_is_replaced(provider, rp):
    url, _ = rp
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        response = browser.get(f"{url}/auth/login", params={"next": "https://evil.example/"})
        assert str(response.url) == f"{url}/"


def _start(browser: httpx.Client, url: str) -> str:
    """Follow the login to the provider and back; return the callback URL
    without requesting it."""
    to_provider = browser.get(f"{url}/auth/login")
    assert to_provider.status_code == 302
    back = browser.get(to_provider.headers["location"])
    assert back.status_code == 302
    return back.headers["location"]


def test_bad_state_is_refused(provider, rp):
    url, _ = rp
    with httpx.Client(timeout=30) as browser:
        callback = _start(browser, url)
        parts = urlsplit(callback)
        query = parse_qs(parts.query)
        forged = f"{url}/auth/callback?code={query['code'][0]}&state=forged"
        assert browser.get(forged).status_code == 401
        # The attempt is spent: the genuine callback no longer works either.
        assert browser.get(callback).status_code == 401
        assert browser.get(f"{url}/me").status_code == 401


def test_callback_without_a_login_is_refused(rp):
    url, _ = rp
    with httpx.Client(timeout=30) as browser:
        assert browser.get(f"{url}/auth/callback?code=x&state=y").status_code == 401
        assert browser.get(f"{url}/auth/callback?error=access_denied").status_code == 401


@pytest.mark.parametrize("tamper, reason", [
    ("nonce", "nonce"), ("expired", "expired"), ("audience", "another client"),
    ("issuer", "another issuer"), ("unknown_key", "ID token refused"),
    ("forged_key", "ID token refused"),
])
def test_wrong_id_tokens_are_refused(provider, rp, tamper, reason):
    url, _ = rp
    provider.tamper = tamper
    fetches = provider.jwks_fetches
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        response = browser.get(f"{url}/auth/login", params={"next": "/me"})
        assert response.status_code == 401, (tamper, response.text)
        assert reason in response.text
        assert browser.get(f"{url}/me").status_code == 401
    if tamper == "unknown_key":
        # An unknown key id makes the client fetch the keys again, once.
        assert provider.jwks_fetches - fetches == 2


def test_code_exchange_with_a_wrong_secret_is_refused(provider):
    provider.tamper = None
    app = dyne.App(secret_key="rp-" + "k" * 40)
    OIDCLogin(app, issuer=provider.issuer, client_id=provider.client_id, client_secret="wrong")
    with serve_in_thread(app) as url, httpx.Client(follow_redirects=True, timeout=30) as browser:
        assert browser.get(f"{url}/auth/login").status_code == 401


def test_configuration_errors():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        OIDCLogin(dyne.App(), issuer="https://op.example", client_id="c")
    with pytest.raises(ValueError, match="asymmetric"):
        OIDCLogin(issuer="https://op.example", client_id="c", algorithms=["HS256"])
    with pytest.raises(ValueError, match="client_id"):
        OIDCLogin(issuer="https://op.example", client_id="")
