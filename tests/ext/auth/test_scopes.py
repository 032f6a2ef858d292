"""Auth declared once on a route group or on the app, with ``@public`` to opt
out and ``optional=True`` for "a user or None"; and decorators that cannot
apply to a group refusing at registration."""

from __future__ import annotations

import pytest

import dyne
from dyne.ext.auth import OAuth2Bearer, TokenAuth, authenticate, public
from dyne.ext.openapi import OpenAPI, doc
from dyne.scaffold import SetupFinishedError

TOKENS = {"t-alice": "alice", "t-admin": "admin"}


def token_backend() -> TokenAuth:
    backend = TokenAuth()

    @backend.verify_token
    def verify(token):
        return TOKENS.get(token)

    @backend.get_user_roles
    def roles(user):
        return ["admin"] if user == "admin" else []

    return backend


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_app() -> tuple[dyne.App, TokenAuth]:
    app = dyne.App()
    backend = token_backend()
    api = app.group("/api", name="api")
    authenticate(backend)(api)

    @api.get("/me")
    async def me(req, resp):
        resp.media = {"user": req.state.user}

    @api.get("/health")
    @public
    async def health(req, resp):
        resp.media = {"ok": True, "user": getattr(req.state, "user", "unset")}

    admin = api.group("/admin")
    authenticate(backend, role="admin")(admin)

    @admin.get("/stats")
    async def stats(req, resp):
        resp.media = {"user": req.state.user}

    @app.get("/open")
    async def open_view(req, resp):
        resp.media = {"open": True}

    return app, backend


def test_group_auth_protects_every_route_of_the_group():
    app, _ = make_app()
    client = app.client
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/me", headers=bearer("forged")).status_code == 401
    assert client.get("/api/me", headers=bearer("t-alice")).json() == {"user": "alice"}
    # Routes outside the group are untouched.
    assert client.get("/open").json() == {"open": True}


def test_public_opts_a_route_out_of_group_auth():
    app, _ = make_app()
    response = app.client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "user": "unset"}


def test_nested_groups_add_their_requirements():
    app, _ = make_app()
    client = app.client
    assert client.get("/api/admin/stats").status_code == 401
    assert client.get("/api/admin/stats", headers=bearer("t-alice")).status_code == 403
    assert client.get("/api/admin/stats", headers=bearer("t-admin")).json() == {"user": "admin"}


def test_group_declared_before_or_after_its_routes():
    app = dyne.App()
    group = dyne.RouteGroup("/late")

    @group.get("/x")
    async def x(req, resp):
        resp.text = "x"

    app.include_router(group)
    authenticate(token_backend())(group)  # after the route: still applies
    assert app.client.get("/late/x").status_code == 401
    assert app.client.get("/late/x", headers=bearer("t-alice")).text == "x"
    # Once the group's routes have served, a new requirement would be ignored: refused.
    with pytest.raises(SetupFinishedError):
        authenticate(token_backend())(group)


def test_app_level_auth_with_public_docs():
    app = dyne.App()
    OpenAPI(app, title="T", version="1")
    backend = token_backend()
    authenticate(backend)(app)

    @app.get("/items")
    async def items(req, resp):
        resp.media = [1]

    @app.get("/ping")
    @authenticate(None)
    async def ping(req, resp):
        resp.text = "pong"

    client = app.client
    assert client.get("/items").status_code == 401
    assert client.get("/items", headers=bearer("t-alice")).json() == [1]
    assert client.get("/ping").text == "pong"
    # The documentation stays readable.
    assert client.get("/schema.json").status_code == 200
    assert client.get("/docs").status_code == 200
    # After serving, app-level auth cannot be added any more.
    with pytest.raises(SetupFinishedError):
        authenticate(backend)(app)


def test_optional_auth_gives_user_or_none_but_refuses_bad_credentials():
    app = dyne.App()
    backend = token_backend()

    @app.get("/feed")
    @authenticate(backend, optional=True)
    async def feed(req, resp):
        resp.media = {"user": req.state.user}

    client = app.client
    assert client.get("/feed").json() == {"user": None}
    assert client.get("/feed", headers=bearer("t-alice")).json() == {"user": "alice"}
    # A forged token is not an anonymous request.
    assert client.get("/feed", headers=bearer("forged")).status_code == 401


def test_route_auth_adds_to_group_auth():
    app = dyne.App()
    backend = token_backend()
    group = app.group("/g")
    authenticate(backend)(group)

    @group.get("/admin-only")
    @authenticate(backend, role="admin")
    async def admin_only(req, resp):
        resp.text = "ok"

    assert app.client.get("/g/admin-only", headers=bearer("t-alice")).status_code == 403
    assert app.client.get("/g/admin-only", headers=bearer("t-admin")).text == "ok"


def test_class_based_views_in_a_protected_group():
    app = dyne.App()
    group = app.group("/g")
    authenticate(token_backend())(group)

    @group.route("/thing")
    class Thing:
        async def on_get(self, req, resp):
            resp.media = {"user": req.state.user}

    @group.route("/open-thing")
    @public
    class OpenThing:
        async def on_get(self, req, resp):
            resp.text = "open"

    assert app.client.get("/g/thing").status_code == 401
    assert app.client.get("/g/thing", headers=bearer("t-alice")).json() == {"user": "alice"}
    assert app.client.get("/g/open-thing").text == "open"


def test_decorators_that_cannot_apply_to_a_group_raise_at_registration():
    from pydantic import BaseModel

    from dyne.ext.io.pydantic import input

    class Body(BaseModel):
        name: str

    from dyne.csrf import csrf_exempt

    app = dyne.App()
    group = app.group("/g")
    with pytest.raises(TypeError, match="view"):
        input(Body)(group)
    # Decorators that only record metadata used to accept a group silently.
    with pytest.raises(TypeError, match="applies to views"):
        csrf_exempt(group)
    with pytest.raises(TypeError, match="applies to views"):
        csrf_exempt(app)
    with pytest.raises(TypeError, match="applies to a view"):
        public(group)
    with pytest.raises(TypeError, match="describes one operation"):
        doc(summary="x")(group)
    with pytest.raises(TypeError, match="authentication backend"):
        authenticate("not a backend")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes no role"):
        authenticate(None, role="admin")


def test_routes_without_auth_compile_to_the_direct_handler():
    app, _ = make_app()
    app.client.get("/open")
    route = next(route for route in app.router.routes if route.path == "/open")
    # No step was added: the view is called directly (no per-request cost).
    assert route.handler.__name__ == "direct_async"


def test_openapi_documents_group_security_and_opt_outs():
    app, _ = make_app()
    OpenAPI(app, title="T", version="1")
    tagged = app.group("/tagged")
    doc(tags=["Reports"])(tagged)
    optional = app.group("/maybe")
    authenticate(token_backend(), optional=True)(optional)

    @tagged.get("/r")
    async def report(req, resp):
        resp.text = "r"

    @optional.get("/m")
    async def maybe(req, resp):
        resp.text = "m"

    document = app.client.get("/schema.json").json()
    paths = document["paths"]
    assert paths["/api/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "401" in paths["/api/me"]["get"]["responses"]
    assert paths["/api/health"]["get"]["security"] == []
    assert "401" not in paths["/api/health"]["get"]["responses"]
    assert paths["/api/admin/stats"]["get"]["x-roles"] == [["admin"]]
    assert "security" not in paths["/open"]["get"]
    assert paths["/tagged/r"]["get"]["tags"] == ["Reports"]
    assert paths["/maybe/m"]["get"]["security"] == [{"bearerAuth": []}, {}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def test_api_keys_in_query_and_cookie():
    app = dyne.App()
    OpenAPI(app, title="T", version="1")
    in_query = TokenAuth(query="api_key")
    in_cookie = TokenAuth(cookie="api_key")
    for backend in (in_query, in_cookie):
        backend.verify_token(lambda token: TOKENS.get(token))

    @app.get("/q")
    @authenticate(in_query)
    async def q(req, resp):
        resp.text = req.state.user

    @app.get("/c")
    @authenticate(in_cookie)
    async def c(req, resp):
        resp.text = req.state.user

    client = app.client
    assert client.get("/q", params={"api_key": "t-alice"}).text == "alice"
    assert client.get("/q", params={"other": "t-alice"}).status_code == 401
    assert client.get("/q", params={"api_key": "wrong"}).status_code == 401
    assert client.get("/q?api_key=%ff%fe").status_code == 401  # not UTF-8
    assert client.get("/q", params={"api_key": "x" * 20000}).status_code == 401
    assert client.get("/c", headers={"Cookie": "api_key=t-alice"}).text == "alice"
    assert client.get("/c", headers={"Cookie": "api_key=tampered"}).status_code == 401
    assert client.get("/c").status_code == 401
    # The query parameter is not a cookie, nor the reverse.
    assert client.get("/c", params={"api_key": "t-alice"}).status_code == 401
    schemes = client.get("/schema.json").json()["components"]["securitySchemes"]
    assert schemes["api_key_query"] == {"type": "apiKey", "in": "query", "name": "api_key"}
    assert schemes["api_key_cookie"] == {"type": "apiKey", "in": "cookie", "name": "api_key"}
    with pytest.raises(ValueError, match="one place"):
        TokenAuth(query="a", cookie="b")


def test_oauth2_schemes_in_openapi():
    app = dyne.App()
    OpenAPI(app, title="T", version="1")
    password = OAuth2Bearer(token_url="/token", scopes={"read": "Read things"})
    code = OAuth2Bearer(authorization_url="https://op.example/authorize",
                        token_url="https://op.example/token", scheme_name="provider")
    for backend in (password, code):
        backend.verify_token(lambda token: TOKENS.get(token))

    @app.get("/a")
    @authenticate(password)
    async def a(req, resp):
        resp.text = "a"

    @app.get("/b")
    @authenticate(code)
    async def b(req, resp):
        resp.text = "b"

    document = app.client.get("/schema.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["oauth2"] == {"type": "oauth2", "flows": {"password": {
        "tokenUrl": "/token", "scopes": {"read": "Read things"}}}}
    assert schemes["provider"]["flows"]["authorizationCode"] == {
        "authorizationUrl": "https://op.example/authorize", "tokenUrl": "https://op.example/token",
        "scopes": {}}
    assert document["paths"]["/b"]["get"]["security"] == [{"provider": []}]
    assert app.client.get("/a", headers=bearer("t-alice")).text == "a"
    with pytest.raises(ValueError, match="needs authorization_url"):
        OAuth2Bearer(token_url="/t", flows=["authorizationCode"])
