"""LoginManager: logging in and out, remember-me cookies, LoginMiddleware,
@login_required with roles, failure handling and safe redirects."""

from __future__ import annotations

import itsdangerous.timed
import pytest

import dyne
from dyne.ext.auth import AuthFailureReason, LoginManager, LoginMiddleware
from dyne.ext.auth.session import SESSION_KEY
from dyne.testing import TestClient

SECRET = "session-tests-secret-long-enough-for-hs256"
PEOPLE = {
    "1": {"id": 1, "name": "alice", "roles": ["editor"]},
    "2": {"id": 2, "name": "bob", "roles": ["admin", "super_user"]},
}


def make_app(**options):
    app = dyne.App(secret_key=SECRET)
    auth = LoginManager(app, **options)
    loads = []

    @auth.user_loader
    async def load_user(user_id):
        loads.append(user_id)
        return PEOPLE.get(user_id)

    @auth.get_user_roles
    def get_roles(user):  # a sync callback
        return user["roles"]

    @app.route("/login/{user_id}")
    async def login(req, resp, *, user_id):
        await auth.login(req, resp, PEOPLE[user_id], remember_me="remember" in req.params,
                         redirect_url=req.params.get("next"))

    @app.route("/logout")
    async def logout(req, resp):
        await auth.logout(req, resp)

    @app.route("/whoami")
    async def whoami(req, resp):
        user = req.state.user
        resp.media = {"user": None if user is None else user["name"]}

    @app.route("/private")
    @auth.login_required
    async def private(req, resp):
        resp.media = {"user": req.state.user["name"]}

    @app.route("/editors")
    @auth.login_required(role=["admin", "editor"])
    async def editors(req, resp):
        resp.text = "edit"

    @app.route("/reset", methods=["GET", "POST"])
    @auth.login_required(role=[["admin", "super_user"]])
    async def reset(req, resp):
        resp.text = "reset"

    return app, auth, loads


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


def later(monkeypatch, seconds):
    """Move itsdangerous' clock (only) ``seconds`` ahead: signed cookies age,
    while the client's cookie jar still sends them."""
    real_time = itsdangerous.timed.time.time
    fake = type("FakeTime", (), {"time": staticmethod(lambda: real_time() + seconds)})
    monkeypatch.setattr(itsdangerous.timed, "time", fake)


# -- set-up -----------------------------------------------------------------------------

def test_a_secret_key_is_required():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        LoginManager(dyne.App())
    configured = dyne.App()
    configured.config["SECRET_KEY"] = "from-config"
    assert LoginManager(configured).app is configured


def test_one_manager_per_app_and_app_per_manager():
    app = dyne.App(secret_key=SECRET)
    auth = LoginManager(app)
    auth.init_app(app)  # idempotent
    assert app.extensions["login_manager"] is auth
    with pytest.raises(RuntimeError, match="already has a LoginManager"):
        LoginManager(app)
    with pytest.raises(RuntimeError, match="another app"):
        auth.init_app(dyne.App(secret_key=SECRET))


def test_init_app_later():
    auth = LoginManager(login_url="/sign-in")
    app = dyne.App(secret_key=SECRET)
    auth.init_app(app)
    assert auth.app is app
    assert isinstance(auth.middleware, LoginMiddleware)


def test_unbound_manager_refuses_to_work():
    auth = LoginManager()
    with pytest.raises(RuntimeError, match="not bound"):
        auth.create_signed_cookie_value("x")


@pytest.mark.parametrize("options, error", [
    ({"remember_me_duration": 0}, "remember_me_duration must be a positive number of seconds"),
    ({"default_redirect_url": "https://elsewhere.example"}, "default_redirect_url must be a relative URL"),
])
def test_options_are_checked(options, error):
    with pytest.raises(ValueError, match=error):
        LoginManager(**options)


# -- the middleware and the current user -----------------------------------------------

def test_middleware_sets_the_user_on_every_request():
    app, _auth, loads = make_app()
    client = app.client
    assert client.get("/whoami").json() == {"user": None}
    assert loads == []  # anonymous requests never reach the loader
    client.get("/login/1")
    assert client.get("/whoami").json() == {"user": "alice"}
    assert client.get("/private").json() == {"user": "alice"}
    assert loads == ["1", "1"]  # once per request, even with @login_required


def test_session_stores_the_id_as_text_and_reads_attributes():
    app = dyne.App(secret_key=SECRET)
    auth = LoginManager(app, user_id_attribute="uuid")

    class Member:
        uuid = "m-7"

    auth.user_loader(lambda user_id: Member() if user_id == "m-7" else None)

    @app.route("/in")
    async def log_in(req, resp):
        await auth.login(req, resp, Member())
        resp.media = dict(req.session)

    @app.route("/uuid")
    async def uuid(req, resp):
        resp.text = req.state.user.uuid

    assert app.client.get("/in").json() == {SESSION_KEY: "m-7"}
    assert app.client.get("/uuid").text == "m-7"


def test_a_user_without_an_id_is_a_clear_error():
    auth = LoginManager(user_id_attribute="uuid")
    assert auth.get_user_id({"uuid": 5}) == "5"
    with pytest.raises(ValueError, match="no 'uuid' attribute or key"):
        auth.get_user_id({"id": 1})


def test_a_session_for_a_deleted_user_is_dropped():
    app, _auth, _loads = make_app()
    client = app.client
    client.get("/login/1")
    PEOPLE["9"] = {"id": 9, "name": "ghost", "roles": []}
    try:
        client.get("/login/9")
        assert client.get("/whoami").json() == {"user": "ghost"}
    finally:
        del PEOPLE["9"]
    response = client.get("/whoami")
    assert response.json() == {"user": None}
    assert "dyne-Session" not in client.cookies  # the emptied session is deleted


def test_a_tampered_or_expired_session_cookie_is_anonymous(monkeypatch):
    app, _auth, _loads = make_app()
    client = app.client
    client.get("/login/2")
    session = client.cookies["dyne-Session"]
    payload, _, signature = session.rpartition(".")
    client.cookies["dyne-Session"] = payload + "." + signature[::-1]
    assert client.get("/whoami").json() == {"user": None}
    client.cookies["dyne-Session"] = session
    assert client.get("/whoami").json() == {"user": "bob"}
    later(monkeypatch, 15 * 24 * 3600)  # the session cookie is signed for 14 days
    assert client.get("/whoami").json() == {"user": None}


# -- remember me ----------------------------------------------------------------------------

def test_remember_me_cookie_is_signed_httponly_and_expires():
    app, _auth, _loads = make_app(remember_me_duration=3600)
    response = app.client.get("/login/1?remember=1")
    cookie = next(value for value in response.headers.get_list("set-cookie")
                  if value.startswith("remember_me="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    assert "Secure" not in cookie
    secure = TestClient(app, base_url="https://testserver").get("/login/1?remember=1")
    assert any("Secure" in value for value in secure.headers.get_list("set-cookie")
               if value.startswith("remember_me="))


def restore_only_remember(client):
    """Forget the session cookie (as a browser does when it closes), keeping
    the remember-me cookie."""
    client.cookies.delete("dyne-Session")
    return client.cookies["remember_me"]


def test_remember_me_restores_the_session():
    app, _auth, _loads = make_app()
    client = app.client
    client.get("/login/2?remember=1")
    restore_only_remember(client)
    response = client.get("/whoami")
    assert response.json() == {"user": "bob"}
    assert "dyne-Session" in response.cookies


@pytest.mark.parametrize("damage", ["none", "tamper", "expire", "other-key", "deleted-user"])
def test_bad_remember_me_cookies_are_refused_and_removed(damage, monkeypatch):
    app, _auth, _loads = make_app(remember_me_duration=60)
    client = app.client
    if damage == "deleted-user":
        PEOPLE["8"] = {"id": 8, "name": "temp", "roles": []}
        client.get("/login/8?remember=1")
        del PEOPLE["8"]
    else:
        client.get("/login/1?remember=1")
    remember = client.cookies["remember_me"]
    client.cookies.clear()
    if damage == "tamper":
        payload, _, signature = remember.rpartition(".")
        remember = payload.replace(payload[1], "A" if payload[1] != "A" else "B", 1) + "." + signature
    elif damage == "expire":
        later(monkeypatch, 61)
    elif damage == "other-key":
        other = LoginManager(dyne.App(secret_key="a-different-secret-of-enough-length"))
        remember = other._bound().dumps("1")  # a well-formed cookie signed with another key
    response = client.get("/whoami", headers={"Cookie": f"remember_me={remember}"})
    if damage == "none":
        assert response.json() == {"user": "alice"}
        return
    assert response.json() == {"user": None}
    assert any(value.startswith(("remember_me=;", 'remember_me="";'))
               for value in response.headers.get_list("set-cookie"))


def test_login_without_remember_me_clears_an_old_remember_cookie():
    app, _auth, _loads = make_app()
    client = app.client
    client.get("/login/1?remember=1")
    assert "remember_me" in client.cookies
    client.get("/login/2")
    assert "remember_me" not in client.cookies
    assert client.get("/whoami").json() == {"user": "bob"}


# -- login, logout, hooks --------------------------------------------------------------------

def test_hooks_run_on_login_and_logout_only_for_real_users():
    app, auth, _loads = make_app()
    events = []

    @auth.on_login
    def record_login(req, resp, user):
        events.append(("in", user["name"], req.state.user["name"]))

    @auth.on_login
    async def second_hook(req, resp, user):
        events.append(("in-2", user["name"]))

    @auth.on_logout
    async def record_logout(req, resp, user):
        events.append(("out", user["name"]))

    client = app.client
    client.get("/logout")
    assert events == []
    client.get("/login/1?remember=1")
    client.get("/logout")
    assert events == [("in", "alice", "alice"), ("in-2", "alice"), ("out", "alice")]
    assert client.get("/whoami").json() == {"user": None}
    assert "remember_me" not in client.cookies


def test_logout_with_only_a_remember_cookie_logs_that_user_out():
    app, auth, _loads = make_app()
    seen = []
    auth.on_logout(lambda req, resp, user: seen.append(user["name"]))
    client = app.client
    client.get("/login/2?remember=1")
    restore_only_remember(client)
    client.get("/logout")
    assert seen == ["bob"]
    assert client.get("/whoami").json() == {"user": None}


@pytest.mark.parametrize("target", ["/dashboard", "/a/b?c=d#e", "/%2F%2Fevil.example"])
def test_login_redirects_to_same_site_urls(target):
    app, _auth, _loads = make_app()
    response = app.client.get("/login/1", params={"next": target}, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "javascript:alert(1)", "evil.example", "/\tevil", " /x", "/x\r\nSet-Cookie: a=b",
    "data:text/html,<script>", "https:evil.example", "",
])
def test_no_open_redirect_through_next(target):
    app, _auth, _loads = make_app()
    response = app.client.get("/login/1", params={"next": target}, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/"


def test_next_url_and_safe_url_helpers():
    app, auth, _loads = make_app(default_redirect_url="/home")

    @app.route("/where")
    async def where(req, resp):
        resp.text = auth.next_url(req)

    assert app.client.get("/where", params={"next": "/inbox"}).text == "/inbox"
    assert app.client.get("/where", params={"next": "//evil.example"}).text == "/home"
    assert app.client.get("/where").text == "/home"
    assert auth.safe_url("https://evil.example", default="/fallback") == "/fallback"


# -- @login_required and failures ----------------------------------------------------------

def test_browsers_are_sent_to_the_login_page_with_next():
    app, _auth, _loads = make_app()
    response = app.client.get("/private?tab=a b&x=1", headers=BROWSER, follow_redirects=False)
    assert response.status_code == 302
    # The raw query (the client sent the space as %20) is kept as it came.
    assert response.headers["location"] == "/login?next=%2Fprivate%3Ftab%3Da%2520b%26x%3D1"


@pytest.mark.parametrize("headers", [{"Accept": "application/json"},
                                     {"Accept": "application/problem+json"},
                                     {"Accept": "application/json, text/html;q=0"}])
def test_json_clients_get_401(headers):
    app, _auth, _loads = make_app()
    response = app.client.get("/private", headers=headers, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Cookie realm="Authentication Required"'


@pytest.mark.parametrize("headers", [{}, {"Accept": "*/*"},
                                     {**BROWSER, "X-Requested-With": "XMLHttpRequest"},
                                     {"Accept": "application/json, text/html"},
                                     {"Accept": "text/plain"}])
def test_other_clients_are_redirected_to_the_login_page(headers):
    # The docs: "By default, unauthenticated users are redirected to the login_url".
    app, _auth, _loads = make_app()
    response = app.client.get("/private", headers=headers, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fprivate"


def test_posts_redirect_without_next_and_login_url_none_means_401():
    app, _auth, _loads = make_app(login_url="/sign-in?from=app")
    response = app.client.post("/reset", headers=BROWSER, follow_redirects=False)
    assert response.headers["location"] == "/sign-in?from=app"
    page = app.client.get("/private", headers=BROWSER, follow_redirects=False)
    assert page.headers["location"] == "/sign-in?from=app&next=%2Fprivate"
    no_login_page, _auth, _loads = make_app(login_url=None)
    assert no_login_page.client.get("/private", headers=BROWSER).status_code == 401


def test_the_login_page_itself_does_not_redirect_to_itself():
    app, auth, _loads = make_app()

    @app.route("/login")
    @auth.login_required
    async def login_page(req, resp):
        resp.text = "form"

    assert app.client.get("/login", headers=BROWSER, follow_redirects=False).status_code == 401


@pytest.mark.parametrize(("user", "path", "status"), [
    ("1", "/editors", 200), ("2", "/editors", 200), ("1", "/reset", 403), ("2", "/reset", 200),
])
def test_roles(user, path, status):
    app, _auth, _loads = make_app()
    client = app.client
    client.get(f"/login/{user}")
    response = client.get(path, headers=BROWSER, follow_redirects=False)
    assert response.status_code == status
    if status == 403:
        assert response.text == "Forbidden"


async def test_user_roles_is_the_public_view_of_the_role_loader():
    _app, auth, _loads = make_app()
    assert await auth.user_roles(PEOPLE["2"]) == frozenset({"admin", "super_user"})
    auth.get_user_roles(lambda user: user["roles"][0])  # one role as a string
    assert await auth.user_roles(PEOPLE["1"]) == frozenset({"editor"})
    auth.get_user_roles(lambda user: None)  # no role at all
    assert await auth.user_roles(PEOPLE["1"]) == frozenset()
    without = LoginManager(dyne.App(secret_key=SECRET))
    with pytest.raises(RuntimeError, match="get_user_roles"):
        await without.user_roles(PEOPLE["1"])


def test_roles_need_a_role_loader():
    app = dyne.App(secret_key=SECRET, debug=True)
    auth = LoginManager(app)
    auth.user_loader(PEOPLE.get)

    @app.route("/admin")
    @auth.login_required(role="admin")
    async def admin(req, resp):
        pass

    @app.route("/in")
    async def log_in(req, resp):
        await auth.login(req, resp, PEOPLE["2"])

    app.client.get("/in")
    with pytest.raises(RuntimeError, match="get_user_roles"):
        app.client.get("/admin")


@pytest.mark.parametrize(("role", "error"), [([], ValueError), (3, TypeError), ([["a", None]], TypeError)])
def test_impossible_roles_fail_at_decoration(role, error):
    auth = LoginManager()
    with pytest.raises(error):
        auth.login_required(role=role)
    with pytest.raises(TypeError, match="role="):
        auth.login_required("admin")


def test_on_failure_answers_and_may_fall_back_to_the_default():
    app, auth, _loads = make_app()
    reasons = []

    @auth.on_failure
    async def failure(req, resp, reason):
        reasons.append(reason)
        if reason == AuthFailureReason.UNAUTHORIZED:
            resp.status_code = 403
            resp.media = {"error": "not allowed"}
        elif req.params.get("mode") == "default":
            await auth.default_failure(req, resp, reason)
        # otherwise: nothing set, so the default answers anyway

    client = app.client
    assert client.get("/private?mode=default", headers=BROWSER, follow_redirects=False).status_code == 302
    assert client.get("/private", headers=JSON).status_code == 401
    client.get("/login/1")
    forbidden = client.get("/reset")
    assert (forbidden.status_code, forbidden.json()) == (403, {"error": "not allowed"})
    assert reasons == [AuthFailureReason.UNAUTHENTICATED, AuthFailureReason.UNAUTHENTICATED,
                       AuthFailureReason.UNAUTHORIZED]
    assert AuthFailureReason.UNAUTHORIZED == "unauthorized"


def test_default_failures_go_through_the_apps_error_handlers():
    app, _auth, _loads = make_app()

    @app.error_handler(401)
    async def unauthorized(req, resp, exc):
        resp.media = {"error": "please log in"}

    assert app.client.get("/private", headers=JSON).json() == {"error": "please log in"}


def test_class_based_views():
    app, auth, _loads = make_app()

    @app.route("/posts")
    @auth.login_required(role="editor")
    class Posts:
        async def on_get(self, req, resp):
            resp.text = "posts"

        async def on_post(self, req, resp):
            resp.status_code = 201

    client = app.client
    assert client.get("/posts", headers=JSON).status_code == 401
    client.get("/login/2")
    assert client.post("/posts").status_code == 403
    client.get("/login/1")
    assert client.get("/posts").text == "posts"
    assert client.post("/posts").status_code == 201


def test_current_user_loads_without_the_middleware():
    app, auth, _loads = make_app()

    @app.route("/direct")
    async def direct(req, resp):
        del req.state.user  # as if no LoginMiddleware had run
        user = await auth.current_user(req, resp)
        resp.text = user["name"] if user else "-"

    app.client.get("/login/1")
    assert app.client.get("/direct").text == "alice"


# -- helpers and documentation metadata --------------------------------------------------------

def test_pyjolt_style_helpers_use_the_apps_secret():
    _app, auth, _loads = make_app()
    signed = auth.create_signed_cookie_value({"cart": 3})
    assert auth.decode_signed_cookie(signed) == {"cart": 3}
    assert auth.decode_signed_cookie(("B" if signed[0] == "A" else "A") + signed[1:]) is None
    token = auth.create_jwt_token({"sub": "1"}, expires_in=60)
    assert auth.validate_jwt_token(token)["sub"] == "1"
    assert auth.validate_jwt_token(token + "x") is None
    hashed = auth.create_password_hash("pw")
    assert auth.check_password_hash("pw", hashed)
    assert not auth.check_password_hash("other", hashed)


def test_login_required_records_openapi_metadata():
    from dyne.endpoints import get_endpoint_spec

    app, auth, _loads = make_app()
    route = app.router.lookup("editors")
    (entry,) = get_endpoint_spec(route.endpoint).meta["auth"]
    assert entry == {"backend": auth, "role": ["admin", "editor"], "roles": [["admin"], ["editor"]]}
    assert auth.security_schemes() == {
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "dyne-Session"},
        "rememberMeCookie": {"type": "apiKey", "in": "cookie", "name": "remember_me"},
    }
    assert auth.security_requirements() == [{"sessionCookie": []}, {"rememberMeCookie": []}]
