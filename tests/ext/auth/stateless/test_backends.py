"""BasicAuth, TokenAuth and MultiAuth behind @authenticate: what a client sees."""

from __future__ import annotations

import base64
import hmac
import threading

import pytest

import dyne
from dyne.endpoints import PHASE_INPUT, get_endpoint_spec
from dyne.ext.auth import BasicAuth, DigestAuth, MultiAuth, TokenAuth, authenticate
from dyne.ext.auth.stateless import backends as backends_module

from ..clients import basic, bearer, digest, digest_challenge

USERS = {"john": "password", "admin": "password123", "émile": "mot de passe"}


def basic_backend(**options) -> BasicAuth:
    backend = BasicAuth(**options)

    @backend.verify_password
    async def verify_password(username, password):
        if username in USERS and hmac.compare_digest(USERS[username], password):
            return username
        return None

    return backend


def protected_app(backend, role=None, app=None):
    app = app or dyne.App()

    @app.route("/private")
    @authenticate(backend, role=role)
    async def private(req, resp):
        resp.media = {"user": req.state.user}

    return app


# -- Basic -----------------------------------------------------------------------------

def test_basic_auth_lets_the_right_password_in_and_sets_the_user():
    client = protected_app(basic_backend()).client
    response = client.get("/private", auth=("john", "password"))
    assert response.status_code == 200
    assert response.json() == {"user": "john"}


def test_basic_auth_reads_utf8_credentials():
    client = protected_app(basic_backend()).client
    assert client.get("/private", headers=basic("émile", "mot de passe")).json() == {"user": "émile"}


def test_basic_auth_refuses_with_a_challenge():
    client = protected_app(basic_backend(realm="Staff area")).client
    for headers in ({}, basic("john", "wrong"), {"Authorization": "Bearer abc"}):
        response = client.get("/private", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="Staff area", charset="UTF-8"'
        assert response.text == "Unauthorized"


def test_unknown_user_and_wrong_password_look_the_same():
    client = protected_app(basic_backend()).client
    unknown = client.get("/private", headers=basic("nobody", "password"))
    wrong = client.get("/private", headers=basic("john", "not-it"))
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]


@pytest.mark.parametrize("header", [
    "Basic",
    "Basic ",
    "Basic !!!notbase64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xfa").decode(),  # not UTF-8
    "Basic " + base64.b64encode(b"jo\x00hn:password").decode(),  # a control character
    "Basic " + "A" * 20000,
    "Basic " + base64.b64encode(b"john:password").decode() + "=====",
])
def test_malformed_basic_credentials_are_401_and_never_reach_the_callback(header):
    seen = []
    backend = BasicAuth()

    @backend.verify_password
    def verify_password(username, password):
        seen.append(username)
        return username

    client = protected_app(backend).client
    response = client.get("/private", headers={"Authorization": header})
    assert response.status_code == 401
    assert seen == []


def test_basic_credentials_without_padding_are_accepted():
    client = protected_app(basic_backend()).client
    token = base64.b64encode(b"john:password").decode().rstrip("=")
    assert client.get("/private", headers={"Authorization": f"Basic {token}"}).status_code == 200


def test_scheme_names_are_case_insensitive():
    client = protected_app(basic_backend()).client
    token = base64.b64encode(b"john:password").decode()
    assert client.get("/private", headers={"Authorization": f"bAsIc {token}"}).status_code == 200


def test_verify_password_may_return_any_user_object_or_true():
    backend = BasicAuth()

    @backend.verify_password
    async def verify_password(username, password):
        if password != "pw":
            return False
        return True if username == "plain" else {"name": username, "id": 7}

    client = protected_app(backend).client
    assert client.get("/private", auth=("plain", "pw")).json() == {"user": "plain"}
    assert client.get("/private", auth=("ann", "pw")).json() == {"user": {"name": "ann", "id": 7}}
    assert client.get("/private", auth=("ann", "nope")).status_code == 401


def test_sync_callbacks_run_off_the_event_loop():
    backend = BasicAuth()
    threads = {}

    @backend.verify_password
    def verify_password(username, password):
        threads["callback"] = threading.get_ident()
        return username if password == "pw" else None

    app = protected_app(backend)

    @app.route("/loop")
    async def loop(req, resp):
        threads["loop"] = threading.get_ident()

    app.client.get("/loop")
    assert app.client.get("/private", auth=("ann", "pw")).status_code == 200
    assert threads["callback"] != threads["loop"]


def test_get_password_compares_in_constant_time(monkeypatch):
    backend = BasicAuth()

    @backend.get_password
    async def get_password(username):
        return USERS.get(username)

    comparisons = []
    real_compare = hmac.compare_digest

    def recording_compare(a, b):
        comparisons.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(backends_module.hmac, "compare_digest", recording_compare)
    client = protected_app(backend).client
    assert client.get("/private", auth=("john", "password")).status_code == 200
    assert client.get("/private", auth=("john", "passwore")).status_code == 401
    assert client.get("/private", auth=("ghost", "password")).status_code == 401
    assert comparisons[0] == (b"password", b"password")
    assert comparisons[1] == (b"password", b"passwore")
    assert len(comparisons) == 3  # the unknown user was compared too (against a random value)


def test_a_backend_without_its_callback_is_a_clear_server_error():
    response = protected_app(BasicAuth()).client.get("/private", auth=("john", "password"))
    assert response.status_code == 500
    debug_app = protected_app(BasicAuth(), app=dyne.App(debug=True))
    with pytest.raises(RuntimeError, match="no verify_password"):
        debug_app.client.get("/private", auth=("john", "password"))


# -- Token ------------------------------------------------------------------------------

def token_backend(*args, **kwargs) -> TokenAuth:
    backend = TokenAuth(*args, **kwargs)

    @backend.verify_token
    async def verify_token(token):
        return {"secret_key_123": "David", "ok": True}.get(token)

    return backend


def test_bearer_tokens():
    client = protected_app(token_backend()).client
    assert client.get("/private", headers=bearer("secret_key_123")).json() == {"user": "David"}
    assert client.get("/private", headers={"Authorization": "bearer   secret_key_123 "}).status_code == 200
    assert client.get("/private", headers=bearer("ok")).json() == {"user": "ok"}  # True: the token


def test_bearer_refusals_follow_rfc_6750():
    client = protected_app(token_backend()).client
    missing = client.get("/private")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="Authentication Required"'
    wrong = client.get("/private", headers=bearer("guess"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == (
        'Bearer realm="Authentication Required", error="invalid_token"')
    assert client.get("/private", headers={"Authorization": "Bearer"}).status_code == 401
    assert client.get("/private", headers=basic("john", "password")).status_code == 401


def test_token_in_a_custom_header():
    client = protected_app(token_backend(header="X-API-Key")).client
    assert client.get("/private", headers={"X-API-Key": "secret_key_123"}).json() == {"user": "David"}
    assert client.get("/private", headers=bearer("secret_key_123")).status_code == 401
    assert client.get("/private", headers={"X-API-Key": ""}).status_code == 401


def test_token_with_a_custom_scheme():
    client = protected_app(token_backend("Token")).client
    assert client.get("/private", headers={"Authorization": "Token secret_key_123"}).status_code == 200
    assert client.get("/private", headers=bearer("secret_key_123")).status_code == 401
    assert client.get("/private").headers["www-authenticate"].startswith("Token realm=")


@pytest.mark.parametrize("bad, error", [
    ({"scheme": "Two words"}, "scheme must be a single word"),
    ({"scheme": ""}, "scheme must be a single word"),
    ({"header": "X Bad"}, "header must be a header name"),
    ({"realm": "line\nbreak"}, "realm must be a string without control characters"),
])
def test_backend_options_are_checked(bad, error):
    with pytest.raises(ValueError, match=error):
        TokenAuth(**bad)


# -- roles ------------------------------------------------------------------------------

ROLES = {"john": "user", "admin": ["user", "admin"], "émile": ["editor", "auditor"]}


def roles_backend() -> BasicAuth:
    backend = basic_backend()

    @backend.get_user_roles
    def get_user_roles(user):
        return ROLES.get(user)

    return backend


@pytest.mark.parametrize(("role", "allowed"), [
    ("user", {"john", "admin"}),
    ("admin", {"admin"}),
    (["admin", "editor"], {"admin", "émile"}),
    ([["editor", "auditor"]], {"émile"}),
    ([["editor", "admin"]], set()),
    (["admin", ["editor", "auditor"]], {"admin", "émile"}),
])
def test_role_requirements(role, allowed):
    client = protected_app(roles_backend(), role=role).client
    for user, password in USERS.items():
        response = client.get("/private", headers=basic(user, password))
        assert response.status_code == (200 if user in allowed else 403), (user, role)
        if user not in allowed:
            assert response.text == "Forbidden"
            assert "www-authenticate" not in response.headers


def test_roles_are_only_checked_after_authentication():
    client = protected_app(roles_backend(), role="admin").client
    assert client.get("/private", headers=basic("admin", "bad")).status_code == 401


def test_no_roles_means_forbidden():
    backend = basic_backend()
    backend.get_user_roles(lambda user: None)
    assert protected_app(backend, role="user").client.get(
        "/private", auth=("john", "password")).status_code == 403


def test_a_role_without_get_user_roles_is_a_clear_error():
    app = protected_app(basic_backend(), role="admin", app=dyne.App(debug=True))
    with pytest.raises(RuntimeError, match="get_user_roles"):
        app.client.get("/private", auth=("admin", "password123"))


@pytest.mark.parametrize(("role", "error"), [([], ValueError), (5, TypeError), ([["a", 5]], TypeError),
                                             ([[]], ValueError), (b"admin", TypeError)])
def test_impossible_role_requirements_fail_at_decoration(role, error):
    with pytest.raises(error):
        authenticate(basic_backend(), role=role)


def test_authenticate_needs_a_backend():
    with pytest.raises(TypeError, match="authentication backend"):
        authenticate(lambda: None)


# -- error handlers ---------------------------------------------------------------------

def test_error_handler_answers_401_and_403_with_the_status_preset():
    backend = roles_backend()
    calls = []

    @backend.error_handler
    async def custom_error(req, resp, status_code):
        calls.append((status_code, resp.status_code))
        resp.media = {"error": "nope", "status": status_code}

    client = protected_app(backend, role="admin").client
    unauthenticated = client.get("/private")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"error": "nope", "status": 401}
    assert unauthenticated.headers["www-authenticate"].startswith("Basic realm=")
    forbidden = client.get("/private", auth=("john", "password"))
    assert forbidden.status_code == 403
    assert forbidden.json() == {"error": "nope", "status": 403}
    assert calls == [(401, 401), (403, 403)]


def test_error_handler_may_change_status_and_challenge():
    backend = basic_backend()

    @backend.error_handler
    def sync_handler(req, resp, status_code):
        resp.status_code = 404
        resp.text = "hidden"

    response = protected_app(backend).client.get("/private")
    assert (response.status_code, response.text) == (404, "hidden")
    assert "www-authenticate" not in response.headers

    other = basic_backend()

    @other.error_handler
    async def own_challenge(req, resp, status_code):
        resp.headers["WWW-Authenticate"] = 'Basic realm="mine"'

    response = protected_app(other).client.get("/private")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, 'Basic realm="mine"')


def test_default_refusals_go_through_the_apps_error_handlers():
    app = protected_app(roles_backend(), role="admin")

    @app.error_handler(401)
    async def unauthorized(req, resp, exc):
        resp.media = {"error": "login first"}

    response = app.client.get("/private")
    assert (response.status_code, response.json()) == (401, {"error": "login first"})
    assert response.headers["www-authenticate"].startswith("Basic")

    problem = protected_app(roles_backend(), role="admin", app=dyne.App(problem_details=True))
    response = problem.client.get("/private", auth=("john", "password"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Forbidden"


# -- pipeline and views -----------------------------------------------------------------

def test_authentication_runs_before_input_steps_whatever_the_decorator_order():
    ran = []

    def input_step(view):
        async def step(req, resp, kwargs):
            ran.append("input")

        get_endpoint_spec(view).add_step(step, PHASE_INPUT)
        return view

    app = dyne.App()

    @app.route("/ordered")
    @input_step
    @authenticate(basic_backend())
    async def ordered(req, resp):
        ran.append("view")

    assert app.client.get("/ordered").status_code == 401
    assert ran == []
    assert app.client.get("/ordered", auth=("john", "password")).status_code == 200
    assert ran == ["input", "view"]


def test_stacked_authenticate_decorators_must_all_pass():
    app = dyne.App()

    @app.route("/both")
    @authenticate(token_backend(header="X-API-Key"))
    @authenticate(basic_backend())
    async def both(req, resp):
        resp.text = str(req.state.user)

    client = app.client
    assert client.get("/both", auth=("john", "password")).status_code == 401
    assert client.get("/both", headers={"X-API-Key": "secret_key_123"}).status_code == 401
    response = client.get("/both", auth=("john", "password"), headers={"X-API-Key": "secret_key_123"})
    assert response.status_code == 200


def test_class_based_views_per_method_and_whole_class():
    app = dyne.App()
    backend = roles_backend()

    @app.route("/articles")
    class Articles:
        async def on_get(self, req, resp):
            resp.text = "public"

        @authenticate(backend, role="admin")
        async def on_post(self, req, resp):
            resp.text = f"created by {req.state.user}"

    @app.route("/admin")
    @authenticate(backend, role="admin")
    class Admin:
        def on_get(self, req, resp):
            resp.text = "dashboard"

        def on_delete(self, req, resp):
            resp.status_code = 204

    client = app.client
    assert client.get("/articles").text == "public"
    assert client.post("/articles").status_code == 401
    assert client.post("/articles", auth=("john", "password")).status_code == 403
    assert client.post("/articles", auth=("admin", "password123")).text == "created by admin"
    assert client.get("/admin").status_code == 401
    assert client.delete("/admin", auth=("john", "password")).status_code == 403
    assert client.get("/admin", auth=("admin", "password123")).text == "dashboard"
    assert client.delete("/admin", auth=("admin", "password123")).status_code == 204


def test_backends_authenticate_websockets_by_hand():
    app = dyne.App()
    backend = token_backend()

    @app.route("/ws", websocket=True)
    async def ws_view(ws):
        user = await backend.authenticate(ws)
        if user is None:
            await ws.close(code=4401)
            return
        await ws.accept()
        await ws.send_text(f"hello {user}")
        await ws.close()

    with app.client.websocket_connect("/ws", headers=bearer("secret_key_123")) as ws:
        assert ws.receive_text() == "hello David"
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as refused, app.client.websocket_connect("/ws") as ws:
        ws.receive_text()
    assert refused.value.code == 4401


def test_authenticate_on_a_websocket_route_with_a_session_backend_is_refused():
    # Stateless backends guard websockets (tests/ext/auth/stateless/test_websockets.py);
    # a backend without a websocket guard is refused at registration.
    from dyne.ext.auth import LoginManager

    app = dyne.App(secret_key="k" * 32)
    login = LoginManager(app)
    with pytest.raises(TypeError, match="websocket"):
        @app.route("/ws", websocket=True)
        @login.login_required
        async def ws_view(ws):
            pass


# -- MultiAuth --------------------------------------------------------------------------

def multi_app(*backends, role=None):
    return protected_app(MultiAuth(*backends), role=role)


def digest_backend() -> DigestAuth:
    backend = DigestAuth()
    backend.get_password(USERS.get)
    return backend


def test_multi_auth_accepts_any_of_its_backends():
    client = multi_app(digest_backend(), token_backend(), basic_backend()).client
    assert client.get("/private", auth=("john", "password")).json() == {"user": "john"}
    assert client.get("/private", headers=bearer("secret_key_123")).json() == {"user": "David"}
    challenge = digest_challenge(client.get("/private").headers["www-authenticate"])
    answer = digest(challenge, "admin", "password123", uri="/private")
    assert client.get("/private", headers=answer).json() == {"user": "admin"}
    assert client.get("/private", headers=basic("john", "bad")).status_code == 401
    assert client.get("/private", headers=bearer("bad")).status_code == 401


def test_multi_auth_challenges_with_every_backend_digest_first():
    client = multi_app(token_backend(), basic_backend(), digest_backend()).client
    header = client.get("/private").headers["www-authenticate"]
    assert header.startswith('Digest realm="Authentication Required", nonce="')
    assert 'Bearer realm="Authentication Required"' in header
    assert 'Basic realm="Authentication Required", charset="UTF-8"' in header


def test_multi_auth_tries_every_backend_of_a_scheme_in_order():
    jwt_like = TokenAuth()
    jwt_like.verify_token(lambda token: "jwt-user" if token.startswith("eyJ") else None)
    api_keys = TokenAuth()
    api_keys.verify_token(lambda token: "key-user" if token == "k-1" else None)
    client = multi_app(jwt_like, api_keys).client
    assert client.get("/private", headers=bearer("eyJhbGc")).json() == {"user": "jwt-user"}
    assert client.get("/private", headers=bearer("k-1")).json() == {"user": "key-user"}
    assert client.get("/private", headers=bearer("k-2")).status_code == 401


def test_multi_auth_handlers_and_roles_precedence():
    basic_side = roles_backend()
    token_side = token_backend()
    token_side.get_user_roles(lambda user: ["admin"] if user == "David" else [])

    @basic_side.error_handler
    async def basic_error(req, resp, status_code):
        resp.text = f"basic says {status_code}"

    multi = MultiAuth(token_side, basic_side)
    client = protected_app(multi, role="admin").client
    # The backend whose credentials were used answers (roles and errors).
    assert client.get("/private", headers=bearer("secret_key_123")).status_code == 200
    assert client.get("/private", auth=("john", "password")).text == "basic says 403"
    assert client.get("/private", auth=("john", "wrong")).text == "basic says 401"
    assert client.get("/private").text == "Unauthorized"  # nobody claimed the request

    @multi.error_handler
    async def multi_error(req, resp, status_code):
        resp.text = f"multi says {status_code}"

    @multi.get_user_roles
    async def only_multi_roles(user):
        return "admin" if user == "john" else None

    assert client.get("/private", auth=("john", "password")).status_code == 200
    assert client.get("/private", headers=bearer("secret_key_123")).text == "multi says 403"
    assert client.get("/private").text == "multi says 401"


def test_multi_auth_needs_backends():
    with pytest.raises(ValueError, match="MultiAuth needs at least one backend"):
        MultiAuth()
    with pytest.raises(TypeError, match="MultiAuth takes authentication backends, got 'basic'"):
        MultiAuth(basic_backend(), "basic")
