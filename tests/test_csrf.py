"""CSRF protection for cookie-authenticated requests (``dyne.csrf``)."""

from __future__ import annotations

import re

import httpx
import pytest

import dyne
from dyne.csrf import csrf_exempt
from dyne.ext.auth import TokenAuth, authenticate
from dyne.testing import TestClient

EVIL = "http://evil.example"


def bank(**options) -> dyne.App:
    app = dyne.App(secret_key="s3cret", static_dir=None, **options)
    transfers: list[str] = []
    app.state.transfers = transfers

    @app.route("/login")
    async def login(req, resp):
        req.session["user"] = "ada"
        resp.text = "logged in"

    @app.route("/form")
    async def form(req, resp):
        resp.html = app.template_string(
            '<form method="post" action="/transfer">{{ csrf_input(req) }}'
            '<input name="to" value="bob"><button>Send</button></form>', req=req)

    @app.route("/token")
    async def token(req, resp):
        resp.media = {"token": req.csrf_token}

    @app.route("/transfer", methods=["POST"])
    async def transfer(req, resp):
        if req.session.get("user") != "ada":
            dyne.abort(401)
        data = await req.media("form") if req.mimetype else {}
        transfers.append(data.get("to", "?"))
        resp.text = "sent"

    @app.route("/hook", methods=["POST"])
    @csrf_exempt
    async def hook(req, resp):
        resp.text = "hooked"

    @app.route("/hook2", methods=["POST"], csrf=False)
    async def hook2(req, resp):
        resp.text = "hooked"

    api_auth = TokenAuth()

    @api_auth.verify_token
    async def verify(token):
        return "robot" if token == "t0k" else None

    @app.route("/api/transfer", methods=["POST"])
    @authenticate(api_auth)
    async def api_transfer(req, resp):
        resp.text = "api"

    return app


def logged_in(app: dyne.App) -> TestClient:
    client = TestClient(app)
    assert client.get("/login").status_code == 200
    return client


# -- the finding: cross-site requests with the session cookie ---------------------------------


@pytest.mark.parametrize("kind", ["form", "multipart", "no content type"])
def test_cross_site_posts_with_the_session_cookie_are_refused(kind):
    app = bank()
    client = logged_in(app)
    options = {"form": {"data": {"to": "mallory"}},
               "multipart": {"files": {"f": ("a.txt", b"x")}, "data": {"to": "mallory"}},
               "no content type": {"content": b""}}[kind]
    cross = client.post("/transfer", headers={"Origin": EVIL}, **options)
    assert cross.status_code == 403
    assert "CSRF" in cross.text
    assert app.state.transfers == []
    client.close()


def test_cross_site_posts_are_refused_through_a_real_server(server):
    app = bank()
    with server(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/login").status_code == 200
        for options in ({"data": {"to": "mallory"}}, {"files": {"f": ("a", b"x")}},
                        {"content": b""}):
            assert client.post("/transfer", headers={"Origin": EVIL}, **options).status_code == 403
            # httpx sends no Origin: like an old browser, it needs the token.
            assert client.post("/transfer", **options).status_code == 403
        token = client.get("/token").json()["token"]
        assert client.post("/transfer", data={"to": "bob", "csrf_token": token}).text == "sent"
        assert client.post("/transfer", headers={"X-CSRF-Token": token}).text == "sent"
        assert client.post("/transfer", headers={"Origin": url}).text == "sent"
    assert app.state.transfers == ["bob", "?", "?"]


# -- what passes -----------------------------------------------------------------------------


def test_same_origin_requests_pass():
    app = bank()
    client = logged_in(app)
    assert client.post("/transfer", data={"to": "bob"}).text == "sent"  # Origin: the test client's
    assert client.post("/transfer", data={"to": "bob"},
                       headers={"Origin": "http://;", "Sec-Fetch-Site": "same-origin"}).text == "sent"
    # Without Origin, Sec-Fetch-Site: same-origin is proof enough (only browsers set it).
    request = client.build_request("POST", "/transfer", headers={"Sec-Fetch-Site": "same-origin"})
    del request.headers["origin"]
    assert client.send(request).text == "sent"
    client.close()


def test_token_in_header_or_form_field_when_origin_is_missing():
    app = bank()
    client = logged_in(app)
    token = client.get("/token").json()["token"]

    def post(**options):
        request = client.build_request("POST", "/transfer", **options)
        del request.headers["origin"]
        return client.send(request)

    assert post(data={"to": "x"}).status_code == 403
    assert post(data={"to": "x", "csrf_token": "0" * 128}).status_code == 403
    assert post(data={"to": "bob", "csrf_token": token}).text == "sent"
    assert post(files={"f": ("a", b"x")}, data={"to": "eve", "csrf_token": token}).text == "sent"
    assert post(headers={"X-CSRF-Token": token}).text == "sent"
    assert post(headers={"Referer": "http://;/form", "X-CSRF-Token": token}).text == "sent"
    # A cross-site Referer or Sec-Fetch-Site is refused even with a token.
    assert post(headers={"Referer": EVIL + "/", "X-CSRF-Token": token}).status_code == 403
    assert post(headers={"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token}).status_code == 403
    assert post(headers={"Sec-Fetch-Site": "same-site", "X-CSRF-Token": token}).status_code == 403
    # Tokens differ on each page (masked) and all work for the session.
    assert client.get("/token").json()["token"] != token
    # Another session's token does not.
    other = logged_in(bank())
    assert post(headers={"X-CSRF-Token": other.get("/token").json()["token"]}).status_code == 403
    client.close()
    other.close()


def test_requests_without_the_session_cookie_or_with_credentials_headers_are_not_checked():
    app = bank()
    anonymous = TestClient(app)
    answer = anonymous.post("/transfer", headers={"Origin": EVIL})
    assert answer.status_code == 401  # reached the view: no cookie, nothing to forge
    client = logged_in(app)
    assert client.post("/api/transfer", headers={"Origin": EVIL, "Authorization": "Bearer t0k"}
                       ).text == "api"
    assert client.post("/api/transfer", headers={"Origin": EVIL}).status_code == 401  # API's own auth
    anonymous.close()
    client.close()


def test_exempt_routes():
    client = logged_in(bank())
    assert client.post("/hook", headers={"Origin": EVIL}).text == "hooked"
    assert client.post("/hook2", headers={"Origin": EVIL}).text == "hooked"
    client.close()


def test_options():
    strict = logged_in(bank(csrf={"require_token": True}))
    assert strict.post("/transfer").status_code == 403  # same origin, but no token
    token = strict.get("/token").json()["token"]
    assert strict.post("/transfer", headers={"X-CSRF-Token": token}).text == "sent"
    strict.close()
    trusting = logged_in(bank(csrf={"trusted_origins": ["https://admin.example"]}))
    assert trusting.post("/transfer", headers={"Origin": "https://admin.example"}).text == "sent"
    assert trusting.post("/transfer", headers={"Origin": EVIL}).status_code == 403
    trusting.close()
    off = logged_in(bank(csrf=False))
    assert off.post("/transfer", headers={"Origin": EVIL}).text == "sent"
    assert off.app.csrf is None
    off.close()
    with pytest.raises(ValueError, match="origins such as"):
        bank(csrf={"trusted_origins": ["https://admin.example/path"]})
    with pytest.raises(TypeError, match="csrf must be"):
        dyne.App(csrf="on")


def test_template_helper_renders_a_hidden_field():
    client = logged_in(bank())
    page = client.get("/form").text
    match = re.search(r'<input type="hidden" name="csrf_token" value="([0-9a-f]{128})">', page)
    assert match
    request = client.build_request("POST", "/transfer", data={"to": "bob",
                                                              "csrf_token": match.group(1)})
    del request.headers["origin"]
    assert client.send(request).text == "sent"
    client.close()


# -- LoginManager ----------------------------------------------------------------------------


def test_login_manager_cookies_are_protected_and_login_rotates_the_token():
    from dyne.ext.auth import LoginManager

    app = dyne.App(secret_key="s3cret", static_dir=None)
    auth = LoginManager(app)
    users = {"1": {"id": "1"}}

    @auth.user_loader
    async def load(user_id):
        return users.get(user_id)

    @app.route("/login", methods=["POST"])
    async def login(req, resp):
        await auth.login(req, resp, users["1"], remember_me=True)
        resp.text = "in"

    @app.route("/token")
    async def token(req, resp):
        resp.text = req.csrf_token

    @app.route("/act", methods=["POST"])
    @auth.login_required
    async def act(req, resp):
        resp.text = "done"

    client = TestClient(app)
    before = client.get("/token").text
    assert client.post("/login").text == "in"
    assert client.post("/act").text == "done"
    assert client.post("/act", headers={"Origin": EVIL}).status_code == 403
    # Only the remember-me cookie left: still cookie-authenticated, still checked.
    del client.cookies["dyne-Session"]
    assert client.post("/act", headers={"Origin": EVIL}).status_code == 403
    assert client.post("/act").text == "done"
    request = client.build_request("POST", "/act", headers={"X-CSRF-Token": before})
    del request.headers["origin"]
    assert client.send(request).status_code == 403  # the pre-login token no longer works
    client.close()


# -- in a browser ---------------------------------------------------------------------------


def test_a_form_on_another_origin_cannot_post_with_the_cookie(browser, server):
    """Two loopback ports are the same *site*, so the SameSite=Lax session
    cookie goes along with a cross-origin form post: only the CSRF check stops it."""
    app = bank()
    attacker = dyne.App(static_dir=None)
    with server(app) as bank_url:
        @attacker.route("/")
        async def evil_page(req, resp):
            resp.html = (f'<form id="f" method="post" action="{bank_url}/transfer">'
                         '<input name="to" value="mallory"></form>'
                         '<script>document.getElementById("f").submit()</script>')

        with server(attacker) as attacker_url:
            context = browser.new_context()
            page = context.new_page()
            try:
                page.goto(bank_url + "/login")
                page.goto(attacker_url + "/")
                page.wait_for_url(bank_url + "/transfer")
                assert "CSRF check failed" in page.content()
                # The bank's own form, with its token, goes through.
                page.goto(bank_url + "/form")
                page.click("button")
                page.wait_for_url(bank_url + "/transfer")
                assert "sent" in page.content()
            finally:
                context.close()
    assert app.state.transfers == ["bob"]
