"""Route groups: app.group(prefix), standalone RouteGroups, scoped hooks, url_for."""

import pytest

import dyne
from dyne import RouteGroup
from dyne.groups import join_paths


def test_app_group_prefixes_routes_as_in_the_responder_reference(app):
    v1 = app.group("/v1")

    @v1.route("/users")
    def list_users(req, resp):
        resp.media = []

    assert app.client.get("/v1/users").json() == []
    assert app.client.get("/users").status_code == 404
    assert app.url_for(list_users) == "/v1/users"


def test_group_shortcuts_parameters_and_class_views(app):
    api = app.group("/api/")

    @api.get("/items/{id:int}")
    async def item(req, resp, *, id):
        resp.media = {"id": id}

    @api.post("/items")
    async def create(req, resp):
        resp.status_code = 201

    @api.route("/things/{name}")
    class Thing:
        def on_get(self, req, resp, *, name):
            resp.text = f"thing {name}"

    @api.route("/")
    def root(req, resp):
        resp.text = "api root"

    assert app.client.get("/api/items/3").json() == {"id": 3}
    assert app.client.post("/api/items").status_code == 201
    assert app.client.delete("/api/items/3").status_code == 405
    assert app.client.get("/api/things/x").text == "thing x"
    assert app.client.get("/api").text == "api root"
    assert app.url_for(item, id=4) == "/api/items/4"


def test_group_hooks_run_only_for_the_group(app):
    calls = []
    admin = app.group("/admin")

    @app.before_request
    def app_hook(req, resp):
        calls.append("app")

    @admin.before_request
    def require_token(req, resp):
        calls.append("group")
        if req.headers.get("X-Token") != "secret":
            resp.status_code = 401
            resp.text = "token required"

    @admin.after_request
    def mark(req, resp):
        resp.headers["X-Admin"] = "1"

    @admin.route("/stats")
    def stats(req, resp):
        calls.append("view")
        resp.media = {"users": 3}

    @app.route("/public")
    def public(req, resp):
        resp.text = "open"

    denied = app.client.get("/admin/stats")
    assert (denied.status_code, denied.text, denied.headers["x-admin"]) == (401, "token required", "1")
    assert calls == ["app", "group"]
    calls.clear()
    allowed = app.client.get("/admin/stats", headers={"X-Token": "secret"})
    assert allowed.json() == {"users": 3}
    assert calls == ["app", "group", "view"]
    calls.clear()
    public_response = app.client.get("/public")
    assert public_response.text == "open" and "x-admin" not in public_response.headers
    assert calls == ["app"]


def test_hooks_declared_after_routes_still_apply(app):
    group = app.group("/g")

    @group.route("/x")
    def x(req, resp):
        resp.text = "x"

    @group.route(before_request=True)
    async def late(req, resp):
        resp.headers["X-Late"] = "yes"

    assert app.client.get("/g/x").headers["x-late"] == "yes"


def test_group_after_hooks_do_not_run_for_errors(app):
    group = app.group("/g")
    group.after_request(lambda req, resp: resp.headers.__setitem__("X-After", "1"))

    @group.route("/boom")
    def boom(req, resp):
        dyne.abort(409)

    response = app.client.get("/g/boom")
    assert response.status_code == 409
    assert "x-after" not in response.headers


def test_standalone_router_included_with_a_prefix():
    users = RouteGroup("/users")

    @users.route("/{id:int}")
    async def get_user(req, resp, *, id):
        resp.media = {"id": id}

    app = dyne.App()
    app.include_router(users, prefix="/api")

    @users.route("/me")  # declared after inclusion: registered too
    async def me(req, resp):
        resp.media = {"me": True}

    assert app.client.get("/api/users/5").json() == {"id": 5}
    assert app.client.get("/api/users/me").json() == {"me": True}
    assert app.url_for(get_user, id=5) == "/api/users/5"
    assert [route.path for route in users.routes] == ["/api/users/{id:int}", "/api/users/me"]


def test_nested_groups_combine_prefixes_and_hooks():
    order = []
    api = RouteGroup("/api")
    v2 = api.group("/v2")
    api.before_request(lambda req, resp: order.append("api"))
    v2.before_request(lambda req, resp: order.append("v2"))
    v2.after_request(lambda req, resp: order.append("v2 after"))
    api.after_request(lambda req, resp: order.append("api after"))

    @v2.route("/ping", before_request=lambda req, resp: order.append("route"))
    def ping(req, resp):
        order.append("view")
        resp.text = "pong"

    app = dyne.App()
    app.include_router(api)
    assert app.client.get("/api/v2/ping").text == "pong"
    assert order == ["api", "v2", "route", "view", "v2 after", "api after"]


def test_one_router_in_two_apps_and_named_groups():
    shared = RouteGroup("/shared", name="shared")

    @shared.route("/hello")
    def hello(req, resp):
        resp.text = "hi"

    first, second = dyne.App(), dyne.App()
    first.include_router(shared)
    second.include_router(shared, prefix="/v2")
    assert first.client.get("/shared/hello").text == "hi"
    assert second.client.get("/v2/shared/hello").text == "hi"
    assert first.url_for("shared.hello") == "/shared/hello"
    assert second.url_for("shared.hello") == "/v2/shared/hello"


def test_named_groups_keep_views_of_the_same_name_apart(app):
    v1 = app.group("/v1", name="v1")
    v2 = app.group("/v2", name="v2")

    def users_v1(req, resp):
        resp.text = "v1"

    def users_v2(req, resp):
        resp.text = "v2"

    v1.add_route("/users", users_v1, name="users")
    v2.add_route("/users", users_v2, name="users")
    assert app.url_for("v1.users") == "/v1/users"
    assert app.url_for("v2.users") == "/v2/users"
    assert app.client.get(app.url_for("v2.users")).text == "v2"


def test_group_websocket_routes_and_hooks(app):
    live = app.group("/live")

    @live.before_request(websocket=True)
    async def accept(ws):
        await ws.accept()

    @live.route("/feed", websocket=True)
    async def feed(ws):
        await ws.send_text("tick")
        await ws.close()

    with app.client.websocket_connect("/live/feed") as ws:
        assert ws.receive_text() == "tick"


def test_group_static_spa_route(tmp_path):
    (tmp_path / "index.html").write_text("spa")
    app = dyne.App(static_dir=tmp_path)
    app.group("/app").add_route("/", static=True)
    assert app.client.get("/app/some/page").text == "spa"


def test_group_misuse():
    with pytest.raises(ValueError, match="must start with '/'"):
        RouteGroup("v1")
    with pytest.raises(ValueError, match="cannot have parameters"):
        RouteGroup("/{version}")
    group = RouteGroup("/g")
    with pytest.raises(ValueError, match="cannot include itself"):
        group.include_router(group)
    child = group.group("/c")
    with pytest.raises(ValueError, match="cannot include itself"):
        child.include_router(group)
    with pytest.raises(TypeError, match=r"takes a dyne\.RouteGroup"):
        dyne.App().include_router("/x")
    with pytest.raises(TypeError, match="needs a path"):
        group.route()(lambda req, resp: None)
    with pytest.raises(ValueError, match="must start with '/'"):
        group.add_route("x", lambda req, resp: None)


def test_join_paths():
    assert join_paths("/v1", "/users") == "/v1/users"
    assert join_paths("/v1", "/") == "/v1"
    assert join_paths("", "/") == "/"
    assert join_paths("/v1", "/users/") == "/v1/users/"


# -- the setup guard ---------------------------------------------------------------------

def test_group_hook_added_after_its_routes_served_is_an_error(app):
    from dyne.scaffold import SetupFinishedError

    api = app.group("/api")
    inner = api.group("/inner")

    @inner.route("/ping")
    def ping(req, resp):
        resp.text = "pong"

    fresh = app.group("/fresh")
    assert app.client.get("/api/inner/ping").text == "pong"
    # The route compiled its groups' hooks on that request: a hook added now
    # would never run for it, so registering one is refused, on the group and
    # on the groups it is nested in.
    for group in (api, inner):
        with pytest.raises(SetupFinishedError, match="would never run it"):
            group.before_request(lambda req, resp: None)
        with pytest.raises(SetupFinishedError, match="would never run it"):
            group.after_request(lambda req, resp: None)
    with pytest.raises(SetupFinishedError):
        @api.route(before_request=True)
        def late(req, resp):
            pass

    # A group none of whose routes has served yet still takes hooks, and
    # routes may be added at any time.
    fresh.before_request(lambda req, resp: setattr(resp, "text", "hooked"))

    @fresh.route("/x")
    def x(req, resp):
        resp.text = "view"

    @api.route("/later")
    def later(req, resp):
        resp.text = "later"

    assert app.client.get("/fresh/x").text == "hooked"
    assert app.client.get("/api/later").text == "later"


def test_app_hooks_added_late_apply_from_the_next_request(app):
    @app.route("/")
    def home(req, resp):
        resp.text = "home"

    assert app.client.get("/").text == "home"

    @app.after_request
    def stamp(req, resp):
        resp.headers["X-Late"] = "yes"

    assert app.client.get("/").headers["X-Late"] == "yes"


def test_registration_signatures_are_shared(app):
    import inspect

    from dyne.scaffold import Scaffold

    group = dyne.RouteGroup("/g")
    for name in ("route", "add_route", "group", "include_router", "before_request",
                 "after_request", "get", "post", "put", "patch", "delete"):
        base = inspect.signature(getattr(Scaffold, name))
        assert inspect.signature(getattr(type(app), name)).parameters.keys() == base.parameters.keys()
        assert inspect.signature(getattr(type(group), name)).parameters.keys() == base.parameters.keys()
    # The decorators hand back the function itself.

    def view(req, resp):
        pass

    assert group.get("/v")(view) is view
    assert app.before_request(view) is view


# -- Dependencies declared once on a group or the app -----------------------------------


def _key_checker(calls: list[str]):
    from dyne import Header
    from dyne.exceptions import HTTPException

    async def api_key(x_api_key: str = Header(description="The client's key")) -> str:
        calls.append(x_api_key)
        if x_api_key != "secret":
            raise HTTPException(403, "Unknown API key")
        return x_api_key

    return api_key


def test_group_dependencies_run_once_per_request_for_every_route_and_are_documented():
    from dyne import Depends
    from dyne.ext.openapi import OpenAPI

    calls: list[str] = []
    api_key = _key_checker(calls)
    app = dyne.App()
    docs = OpenAPI(app, title="T", version="1")
    api = app.group("/api", dependencies=[Depends(api_key)])
    admin = api.group("/admin")

    @api.route("/plain")
    async def plain(req, resp):
        resp.media = {"plain": True}

    @api.route("/who")
    async def who(req, resp, *, key: str = Depends(api_key)):
        resp.media = {"key": key}

    @admin.route("/stats")
    class Stats:
        async def on_get(self, req, resp):
            resp.media = {"stats": 1}

    @app.route("/open")
    async def open_view(req, resp):
        resp.text = "open"

    client = app.client
    assert client.get("/api/plain").status_code == 400  # the header is required
    assert client.get("/api/plain", headers={"X-Api-Key": "nope"}).status_code == 403
    assert client.get("/api/admin/stats", headers={"X-Api-Key": "nope"}).status_code == 403
    calls.clear()
    assert client.get("/api/who", headers={"X-Api-Key": "secret"}).json() == {"key": "secret"}
    assert calls == ["secret"]  # the group's and the view's Depends: one call
    assert client.get("/api/admin/stats", headers={"X-Api-Key": "secret"}).json() == {"stats": 1}
    assert client.get("/open").text == "open"  # outside the group: nothing runs
    paths = docs.to_dict()["paths"]
    for url in ("/api/plain", "/api/admin/stats"):
        parameters = paths[url]["get"]["parameters"]
        assert [(p["name"].lower(), p["in"]) for p in parameters] == [("x-api-key", "header")]
        assert parameters[0]["description"] == "The client's key"
    assert "parameters" not in paths["/open"]["get"]


def test_app_dependencies_and_generator_cleanup_under_uvicorn():
    import httpx

    from dyne import Depends

    from .conftest import serve_in_thread

    events: list[str] = []

    def session():
        events.append("open")
        yield "session"
        events.append("close")

    app = dyne.App()
    app.add_dependencies(Depends(session))

    @app.route("/hello")
    def hello(req, resp):
        resp.text = "hello"

    with serve_in_thread(app) as url:
        assert httpx.get(url + "/hello").text == "hello"
    assert events == ["open", "close"]


def test_a_route_opts_out_of_its_groups_and_apps_dependencies():
    from dyne import Depends
    from dyne.ext.openapi import OpenAPI

    calls: list[str] = []
    api_key = _key_checker(calls)
    opened: list[str] = []

    def app_wide():
        opened.append("app")

    app = dyne.App()
    docs = OpenAPI(app, title="T", version="1")
    app.add_dependencies(Depends(app_wide))
    api = app.group("/api", dependencies=[Depends(api_key)])
    inner = api.group("/inner")

    @api.route("/health", dependencies=False)
    async def health(req, resp):
        resp.media = {"status": "ok"}

    @inner.route("/ping", dependencies=False)
    class Ping:
        async def on_get(self, req, resp):
            resp.text = "pong"

    @api.route("/own", dependencies=False)
    async def own(req, resp, *, key: str = Depends(api_key)):
        resp.media = {"key": key}  # the view's own Depends still runs

    @api.route("/data", dependencies=True)
    async def data(req, resp):
        resp.media = {"data": []}

    client = app.client
    assert client.get("/api/health").json() == {"status": "ok"}  # no key needed
    assert client.get("/api/inner/ping").text == "pong"  # a nested group's too
    assert calls == [] and opened == []  # neither the group's nor the app's provider ran
    assert client.get("/api/own").status_code == 400
    assert client.get("/api/own", headers={"X-Api-Key": "secret"}).json() == {"key": "secret"}
    assert opened == []
    assert client.get("/api/data").status_code == 400  # True is the default: the key is needed
    assert client.get("/api/data", headers={"X-Api-Key": "secret"}).json() == {"data": []}
    assert opened == ["app", "app"]  # the app's provider ran for both /api/data requests
    paths = docs.to_dict()["paths"]
    assert "parameters" not in paths["/api/health"]["get"]
    assert "parameters" not in paths["/api/inner/ping"]["get"]
    assert [p["name"].lower() for p in paths["/api/data"]["get"]["parameters"]] == ["x-api-key"]
    with pytest.raises(TypeError, match="takes False"):
        api.route("/x", dependencies=[Depends(api_key)])(lambda req, resp: None)


def test_group_dependencies_refuse_what_is_not_depends():
    from dyne import Depends

    with pytest.raises(TypeError, match="Depends"):
        dyne.App().group("/x", dependencies=[lambda: 1])
    app = dyne.App()
    group = app.group("/late")

    @group.route("/a")
    def a(req, resp):
        resp.text = "a"

    assert app.client.get("/late/a").text == "a"
    from dyne.scaffold import SetupFinishedError

    with pytest.raises(SetupFinishedError):
        group.add_dependencies(Depends(lambda: 1))
