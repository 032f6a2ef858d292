import base64
import time

import orjson
import pytest
from itsdangerous import TimestampSigner

import dyne
from dyne.sessions import CookieSessionBackend, Session


def session_app(**kwargs):
    app = dyne.App(secret_key="s3cret", **kwargs)

    @app.route("/login")
    def login(req, resp):
        resp.session["username"] = "john"

    @app.route("/whoami")
    def whoami(req, resp):
        resp.media = req.session

    @app.route("/logout")
    def logout(req, resp):
        req.session.clear()

    return app


def test_session_round_trip_in_signed_cookie():
    app = session_app()
    response = app.client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("dyne-Session=")
    assert "HttpOnly" in cookie and "Path=/" in cookie and "SameSite=Lax" in cookie
    assert app.client.get("/whoami").json() == {"username": "john"}


def test_untouched_session_sets_no_cookie():
    app = session_app()
    assert "set-cookie" not in app.client.get("/whoami").headers


def test_clearing_the_session_deletes_the_cookie():
    app = session_app()
    app.client.get("/login")
    response = app.client.get("/logout")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert app.client.get("/whoami").json() == {}


def forged(payload: dict, key: str) -> str:
    signer = TimestampSigner(key, salt="dyne.session")
    return signer.sign(base64.urlsafe_b64encode(orjson.dumps(payload))).decode()


def tamper_signature(cookie: str) -> str:
    """Change a character that carries signature bits (not the final base64
    character, whose low bits are padding)."""
    index = len(cookie) - 5
    return cookie[:index] + ("A" if cookie[index] != "A" else "B") + cookie[index + 1:]


@pytest.mark.parametrize("cookie", [
    "not-a-session",
    forged({"username": "admin"}, key="wrong-key"),
    tamper_signature(forged({"username": "john"}, key="s3cret")),
    base64.urlsafe_b64encode(b'{"username":"admin"}').decode(),
    forged(["not", "a", "dict"], key="s3cret"),
    "",
])
def test_forged_or_tampered_cookies_are_ignored(cookie):
    app = session_app()
    response = app.client.get("/whoami", headers={"Cookie": f"dyne-Session={cookie}"})
    assert response.status_code == 200
    assert response.json() == {}


def test_tampered_payload_with_valid_looking_signature_is_ignored():
    app = session_app()
    app.client.get("/login")
    good = app.client.cookies["dyne-Session"]
    _payload, stamp, signature = good.rsplit(".", 2)
    evil = base64.urlsafe_b64encode(b'{"username":"admin"}').decode()
    app.client.cookies.clear()
    response = app.client.get("/whoami",
                              headers={"Cookie": f"dyne-Session={evil}.{stamp}.{signature}"})
    assert response.json() == {}


def test_expired_cookie_is_ignored():
    app = session_app()
    app.session_backend = CookieSessionBackend("s3cret", max_age=1)
    app.client.get("/login")
    assert app.client.get("/whoami").json() == {"username": "john"}
    cookie = forged({"username": "john"}, "s3cret")
    time.sleep(2.1)
    app.client.cookies.clear()
    assert app.client.get("/whoami", headers={"Cookie": f"dyne-Session={cookie}"}).json() == {}


def test_secret_key_from_config(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = dyne.App()
    assert app.secret_key == "from-env"


def test_without_secret_key_a_random_key_is_used_and_warned(caplog):
    app = dyne.App()

    @app.route("/")
    def index(req, resp):
        resp.session["a"] = 1

    app.client.get("/")
    assert "No secret_key" in caplog.text
    assert len(app.secret_key) >= 32


def test_session_values_must_be_json_serializable():
    app = dyne.App(secret_key="k")

    @app.route("/")
    def index(req, resp):
        resp.session["obj"] = object()

    response = app.client.get("/")
    assert response.status_code == 500
    assert "set-cookie" not in response.headers


def test_session_tracks_modification():
    session = Session({"a": 1})
    assert not session.modified
    session.get("a")
    assert not session.modified
    session.setdefault("a", 2)
    assert not session.modified
    session.update(b=2)
    assert session.modified


def test_session_cookie_ends_with_the_browser_unless_persistent():
    app = session_app()
    cookie = app.client.get("/login").headers["set-cookie"]
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()
    app = session_app()
    app.session_backend = CookieSessionBackend("s3cret", persistent=True, max_age=3600)
    assert "Max-Age=3600" in app.client.get("/login").headers["set-cookie"]


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.pop("a"), {"b": 2}),
    (lambda s: s.popitem(), {"a": 1}),
    (lambda s: s.__delitem__("b"), {"a": 1}),
    (lambda s: s.setdefault("c", 3), {"a": 1, "b": 2, "c": 3}),
    (lambda s: s.update({"a": 9}, b=8), {"a": 9, "b": 8}),
    (lambda s: s.__ior__({"d": 4}), {"a": 1, "b": 2, "d": 4}),
])
def test_every_way_of_changing_the_session_is_saved(change, expected):
    """A change the session does not notice is never written: after a logout by
    ``session.pop("user")`` the user would still be logged in."""
    app = dyne.App(secret_key="s3cret")

    @app.route("/set")
    def set_(req, resp):
        req.session.update(a=1, b=2)

    @app.route("/change")
    def change_(req, resp):
        change(req.session)

    @app.route("/read")
    def read(req, resp):
        resp.media = req.session

    app.client.get("/set")
    assert "set-cookie" in app.client.get("/change").headers
    assert app.client.get("/read").json() == expected


def test_the_session_cookie_is_secure_over_https_or_when_asked():
    from dyne.testing import TestClient

    app = session_app()
    https = TestClient(app, base_url="https://testserver")
    assert "; Secure" in https.get("/login").headers["set-cookie"]
    assert "Secure" not in app.client.get("/login").headers["set-cookie"]  # plain http
    forced = session_app()
    forced.session_backend = CookieSessionBackend("s3cret", secure=True)
    assert "; Secure" in forced.client.get("/login").headers["set-cookie"]
    never = session_app()
    never.session_backend = CookieSessionBackend("s3cret", secure=False)
    assert "Secure" not in TestClient(never, base_url="https://testserver").get("/login").headers["set-cookie"]


def test_the_cookie_is_set_and_deleted_with_its_path_and_domain():
    app = session_app()
    app.session_backend = CookieSessionBackend("s3cret", path="/app", domain="example.com")
    client = app.client
    login = client.get("/login").headers["set-cookie"]
    assert "Path=/app" in login and "Domain=example.com" in login
    client.cookies.set("dyne-Session", login.split(";")[0].split("=", 1)[1])
    logout = client.get("/logout").headers["set-cookie"]
    assert "Max-Age=0" in logout and "Path=/app" in logout and "Domain=example.com" in logout


def test_unserializable_values_are_named_in_the_error():
    app = dyne.App(secret_key="k", debug=True)

    @app.route("/")
    def index(req, resp):
        resp.session["obj"] = object()

    with pytest.raises(TypeError, match="Session values must be JSON-serializable"):
        app.client.get("/")
