"""Controllers (dyne.controllers): seed 002's controller examples, pinned.

Each test named ``test_seed_*`` is an example of seed 002 (PyJolt) written
with ``dyne.controllers``; where the seed's text is pseudo-code (a database
call, an undefined name) the adaptation is noted beside it.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import dyne
from dyne import Request
from dyne import Response as DyneResponse
from dyne.controllers import (
    Controller,
    Descriptor,
    HttpStatus,
    MediaType,
    Response,
    after_request,
    before_request,
    consumes,
    delete,
    development,
    get,
    open_api_docs,
    patch,
    path,
    post,
    produces,
    put,
    socket,
    werkzeug_path,
)
from tests.conftest import serve_in_thread


class UserData(BaseModel):
    email: str
    fullname: str


class ErrorResponse(BaseModel):
    message: str
    details: Any | None = None


# The seed's first controller (app/api/users/user_api.py).
@path("/api/v1/users")
class UsersApi(Controller):
    @get("/<int:user_id>")
    @produces(MediaType.APPLICATION_JSON)
    async def get_user(self, req: Request, user_id: int) -> Response:
        """Returns a user by user_id"""
        # some logic to load the user
        return req.response.json({
            "id": user_id,
            "fullname": "John Doe",
            "email": "johndoe@email.com",
        }).status(HttpStatus.OK)

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    async def create_user(self, req: Request, user_data: UserData) -> Response[UserData]:
        """Creates new user"""
        # logic for creating and storing user
        return req.response.json(user_data).status(HttpStatus.CREATED)


@pytest.fixture
def users_app() -> dyne.App:
    app = dyne.App()
    app.add_controller(UsersApi)
    return app


def test_seed_users_api_get_user(users_app):
    response = users_app.client.get("/api/v1/users/7")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 7, "fullname": "John Doe", "email": "johndoe@email.com"}
    # <int:user_id> converts: a non-number does not match the route.
    assert users_app.client.get("/api/v1/users/seven").status_code == 404


def test_seed_users_api_create_user_validates_and_injects_the_model(users_app):
    created = users_app.client.post("/api/v1/users", json={"email": "a@example.com", "fullname": "Ada"})
    assert created.status_code == 201
    assert created.json() == {"email": "a@example.com", "fullname": "Ada"}
    invalid = users_app.client.post("/api/v1/users", json={"email": "a@example.com"})
    assert invalid.status_code == 422
    assert invalid.json() == {"detail": [{"loc": ["body", "fullname"], "msg": "Field required",
                                          "type": "missing"}]}
    malformed = users_app.client.post("/api/v1/users", content=b"{oops",
                                      headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    other_type = users_app.client.post("/api/v1/users", content=b"email=a",
                                       headers={"Content-Type": "text/plain"})
    assert other_type.status_code == 415


def test_consumes_checks_each_requests_content_type(users_app):
    """The accepted types are checked request by request, whatever the
    route answered before (parameters such as charset do not matter)."""
    client = users_app.client
    body = b'{"email": "a@example.com", "fullname": "Ada"}'
    for content_type, status in [("application/json", 201), ("text/plain", 415),
                                 ("application/json; charset=utf-8", 201), ("TEXT/PLAIN", 415),
                                 ("Application/JSON", 201), ("application/json", 201)]:
        answer = client.post("/api/v1/users", content=body, headers={"Content-Type": content_type})
        assert answer.status_code == status, content_type
    assert client.post("/api/v1/users", content=body).status_code == 415  # no Content-Type


def test_produces_fills_in_or_warns_about_the_media_type(caplog):
    @path("/p")
    class Produced(Controller):
        @get("/csv")
        @produces(MediaType.TEXT_CSV)
        async def csv(self, req: Request) -> Response:
            return req.response.send_file(b"a,b\n1,2\n")  # no content type given

        @get("/declared")
        @produces(MediaType.APPLICATION_JSON, MediaType.APPLICATION_PROBLEM_JSON)
        async def declared(self, req, resp):
            resp.media = {"problem": True}
            resp.mimetype = "application/problem+json"

        @get("/other")
        @produces(MediaType.APPLICATION_JSON)
        async def other(self, req: Request) -> Response:
            return req.response.text("plain")

        @get("/empty")
        @produces(MediaType.APPLICATION_JSON)
        async def empty(self, req: Request) -> Response:
            return req.response.no_content()

        @get("/dict")
        @produces(MediaType.APPLICATION_JSON)
        async def as_dict(self, req: Request, ) -> dict[str, int]:
            return {"n": 1}

    app = dyne.App()
    app.add_controller(Produced)
    client = app.client
    csv = client.get("/p/csv")
    assert (csv.headers["content-type"], csv.text) == ("text/csv", "a,b\n1,2\n")
    declared = client.get("/p/declared")
    assert declared.headers["content-type"] == "application/problem+json"
    assert declared.json() == {"problem": True}
    with caplog.at_level("WARNING", logger="dyne"):
        other = client.get("/p/other")
    assert other.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Produced.other produced text/plain, not the declared application/json" in caplog.text
    empty = client.get("/p/empty")
    assert empty.status_code == 204 and "content-type" not in empty.headers
    as_dict = client.get("/p/dict")
    assert (as_dict.headers["content-type"], as_dict.json()) == ("application/json", {"n": 1})


def test_a_wrapped_controller_view_runs_its_wrapper(users_app):
    """A controller route's view, wrapped with ``functools.wraps`` and
    registered again, runs through the wrapper."""
    import functools

    view = next(route for route in users_app.routes if route.name == "UsersApi.get_user").endpoint

    @functools.wraps(view)
    async def wrapped(req, resp, **kwargs):
        await view(req, resp, **kwargs)
        resp.headers["X-Wrapped"] = "yes"

    users_app.add_route("/wrapped/{user_id:int}", wrapped)
    answer = users_app.client.get("/wrapped/4")
    assert answer.json()["id"] == 4
    assert answer.headers["x-wrapped"] == "yes"


def test_controller_routes_are_named_for_url_for(users_app):
    assert users_app.url_for("UsersApi.get_user", user_id=3) == "/api/v1/users/3"
    assert users_app.url_for("UsersApi.create_user") == "/api/v1/users"


class TestModel(BaseModel):
    __test__ = False  # the seed's name; not a pytest class
    name: str
    age: int


class ResponseModel(BaseModel):
    message: str
    status: str
    data: Any | None = None


def test_seed_consumes_and_produces_with_a_response_model():
    @path("/api/v1/items")
    class Items(Controller):
        @post("/")
        @consumes(MediaType.APPLICATION_JSON)
        @produces(MediaType.APPLICATION_JSON)
        async def create_user(self, req: Request, data: TestModel) -> Response[ResponseModel]:
            """Consumes and produces json"""
            assert isinstance(data, TestModel)
            # Extra keys are dropped by Response[ResponseModel] serialization.
            return req.response.json({"message": f"hi {data.name}", "status": "success",
                                      "data": data.age, "secret": "x"}).status(HttpStatus.CREATED)

    app = dyne.App()
    app.add_controller(Items)
    response = app.client.post("/api/v1/items", json={"name": "Ada", "age": "36"})
    assert response.status_code == 201
    assert response.json() == {"message": "hi Ada", "status": "success", "data": 36}


class Login(BaseModel):
    username: str
    remember: bool = False


def test_dyne_response_annotation_works_like_pyjolts():
    """``from dyne import Request, Response`` as in the seed: ``Response[Model]``
    is the fluent response typed with the model."""

    @path("/typed")
    class Typed(Controller):
        @get("/")
        async def index(self, req: Request) -> DyneResponse[UserData]:
            return req.res.json({"email": "e", "fullname": "f", "extra": 1})

    app = dyne.App()
    app.add_controller(Typed)
    assert DyneResponse[UserData] == Response[UserData]
    assert app.client.get("/typed").json() == {"email": "e", "fullname": "f"}


def test_consumes_form_and_text_bodies():
    @path("/forms")
    class Forms(Controller):
        @post("/login")
        @consumes(MediaType.APPLICATION_X_WWW_FORM_URLENCODED, MediaType.APPLICATION_JSON)
        async def login(self, req: Request, data: Login) -> Response:
            return req.response.json({"user": data.username, "remember": data.remember})

        @post("/note")
        @consumes(MediaType.TEXT_PLAIN)
        async def note(self, req: Request, text: str) -> Response:
            return req.response.text(text.upper())

    app = dyne.App(csrf=False)
    app.add_controller(Forms)
    form = app.client.post("/forms/login", data={"username": "ada", "remember": "true"})
    assert form.json() == {"user": "ada", "remember": True}
    as_json = app.client.post("/forms/login", json={"username": "bo"})
    assert as_json.json() == {"user": "bo", "remember": False}
    note = app.client.post("/forms/note", content=b"hello", headers={"Content-Type": "text/plain"})
    assert note.text == "HELLO"
    assert app.client.post("/forms/note", json={"a": 1}).status_code == 415


def test_dyne_form_methods_and_all_http_methods():
    @path("/books")
    class Books(Controller):
        @get("/{book_id:int}")
        async def show(self, req, resp, *, book_id):
            resp.media = {"id": book_id, "via": self.app.__class__.__name__}

        @put("/{book_id:int}")
        async def replace(self, req, resp, *, book_id):
            resp.media = {"replaced": book_id}

        @patch("/{book_id:int}")
        def touch(self, req, resp, *, book_id):  # a plain method runs in the thread pool
            resp.media = {"patched": book_id}

        @delete("/{book_id:int}")
        async def remove(self, req, book_id: int) -> Response:
            return req.res.no_content()

        @get("/files/<path:rest>")
        async def files(self, req, rest):
            return {"rest": rest}  # a plain return value becomes the body, as in views

    app = dyne.App(csrf=False)
    app.add_controller(Books)
    client = app.client
    assert client.get("/books/1").json() == {"id": 1, "via": "App"}
    assert client.put("/books/2").json() == {"replaced": 2}
    assert client.patch("/books/3").json() == {"patched": 3}
    assert client.delete("/books/4").status_code == 204
    assert client.get("/books/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}
    assert client.post("/books/1").status_code == 405


def test_werkzeug_paths_convert_at_registration():
    assert werkzeug_path("/u/<int:user_id>") == "/u/{user_id:int}"
    assert werkzeug_path("/u/<string:name>/<x>") == "/u/{name}/{x}"
    assert werkzeug_path("/p/<path:p>") == "/p/{p:path}"
    assert werkzeug_path("/f/<float:v>/<uuid:u>") == "/f/{v:float}/{u:uuid}"
    assert werkzeug_path("/d/{id:int}") == "/d/{id:int}"
    with pytest.raises(ValueError, match="unknown convertor"):
        werkzeug_path("/x/<any:y>")
    with pytest.raises(ValueError, match="arguments"):
        werkzeug_path("/x/<string(length=2):y>")


def test_seed_request_and_response_objects(tmp_path):
    (tmp_path / "report.txt").write_text("the report")

    @path("/api")
    class Inspect(Controller):
        @get("/things/<string:thing>")
        async def thing(self, req: Request, thing: str) -> Response:
            return (req.response.json({
                "route_parameters": req.route_parameters,
                "method": req.method,
                "path": req.path,
                "query_params": req.query_params,
                "user": req.user,
                "agent": req.headers["x-agent"],
            }).set_header("X-Thing", thing).set_cookie("seen", thing, max_age=60))

        @get("/text")
        async def text(self, req: Request) -> Response:
            return req.res.text("plain").status(HttpStatus.ACCEPTED)

        @get("/greeting")
        async def greeting(self, req: Request) -> Response:
            return req.res.html_from_string("<p>Hello {{ name }}</p>", {"name": "<Ada>"})

        @get("/away")
        async def away(self, req: Request) -> Response:
            return req.res.redirect(self.app.url_for("Inspect.text"))

        @get("/report")
        async def report(self, req: Request) -> Response:
            return req.res.send_file(tmp_path / "report.txt", headers={"X-Report": "1"})

        @get("/raw")
        async def raw(self, req: Request) -> Response:
            return req.res.send_file(b"\x00\x01", content_type="application/octet-stream")

        @get("/logout")
        async def logout(self, req: Request) -> Response:
            return req.res.delete_cookie("seen").no_content()

    app = dyne.App()
    app.add_controller(Inspect)
    client = app.client
    response = client.get("/api/things/lamp?color=red", headers={"X-Agent": "t"})
    assert response.json() == {"route_parameters": {"thing": "lamp"}, "method": "GET",
                               "path": "/api/things/lamp", "query_params": {"color": "red"},
                               "user": None, "agent": "t"}
    assert response.headers["x-thing"] == "lamp"
    assert "seen=lamp" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    text = client.get("/api/text")
    assert (text.status_code, text.text, text.headers["content-type"]) == (202, "plain",
                                                                            "text/plain; charset=utf-8")
    greeting = client.get("/api/greeting")
    assert greeting.text == "<p>Hello &lt;Ada&gt;</p>"
    assert greeting.headers["content-type"].startswith("text/html")
    away = client.get("/api/away", follow_redirects=False)
    assert (away.status_code, away.headers["location"]) == (303, "/api/text")
    report = client.get("/api/report")
    assert (report.text, report.headers["x-report"]) == ("the report", "1")
    assert client.get("/api/raw").content == b"\x00\x01"
    logout = client.get("/api/logout")
    assert logout.status_code == 204 and "seen=" in logout.headers["set-cookie"]


def test_seed_template_response(tmp_path):
    (tmp_path / "my_template.html").write_text("<h1>{{ name }} #{{ user_id }}</h1>")

    @path("/users")
    class Pages(Controller):
        @get("/<int:user_id>")
        @produces(MediaType.TEXT_HTML)
        async def get_user(self, req: Request, user_id: int) -> Response:
            """Returns a user by user_id"""
            context: dict[str, Any] = {"name": "Ada", "user_id": user_id}
            return await (req.response.html("my_template.html", context)).status(HttpStatus.OK)

        @get("/missing/<int:user_id>")
        async def missing(self, req: Request, user_id: int) -> Response:
            # the other order: await first, then chain
            rendered = await req.response.html("my_template.html", {"name": "?", "user_id": user_id})
            return rendered.status(HttpStatus.NOT_FOUND)

    app = dyne.App(templates_dir=tmp_path)
    app.add_controller(Pages)
    page = app.client.get("/users/5")
    assert (page.status_code, page.text) == (200, "<h1>Ada #5</h1>")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    missing = app.client.get("/users/missing/9")
    assert (missing.status_code, missing.text) == (404, "<h1>? #9</h1>")


def test_seed_before_and_after_request_methods():
    # The seed's get_users loads users from a database (pseudo-code here): the
    # adaptation returns a fixed list and records the hooks' order instead.
    calls: list[str] = []

    @path("/api/v1/users", tags=["Users"])
    class UsersApi(Controller):
        @before_request
        async def before_request_method(self, req: Request):
            """Some before request logic"""
            calls.append("before")
            req.state.started = True

        @after_request
        async def after_request_method(self, res: Response):
            """Some after request logic"""
            calls.append("after")
            res.set_header("X-After", "yes")

        @get("/")
        @produces(MediaType.APPLICATION_JSON)
        async def get_users(self, req: Request) -> Response[ResponseModel]:
            """Endpoint for returning all app users"""
            calls.append("endpoint")
            assert req.state.started
            response = ResponseModel(message="All users fetched.", status="success", data=None)
            return req.response.json(response).status(HttpStatus.OK)

    app = dyne.App()
    app.add_controller(UsersApi)
    answer = app.client.get("/api/v1/users")
    assert answer.json() == {"message": "All users fetched.", "status": "success", "data": None}
    assert answer.headers["x-after"] == "yes"
    assert calls == ["before", "endpoint", "after"]


def test_before_request_may_answer_and_runs_in_alphabetical_order():
    order: list[str] = []

    @path("/guarded")
    class Guarded(Controller):
        @before_request
        def b_check(self, req, resp):
            order.append("b")
            if req.params.get("deny"):
                resp.status_code = 403
                resp.media = {"denied": True}

        @before_request
        async def a_first(self, req):
            order.append("a")

        @get("/")
        async def index(self, req) -> Response:
            order.append("view")
            return req.res.text("ok")

    app = dyne.App()
    app.add_controller(Guarded)
    assert app.client.get("/guarded").text == "ok"
    assert order == ["a", "b", "view"]
    denied = app.client.get("/guarded?deny=1")
    assert (denied.status_code, denied.json()) == (403, {"denied": True})
    assert order == ["a", "b", "view", "a", "b"]


def test_seed_development_endpoints_are_unreachable_unless_debug():
    @path("/beta")
    class Beta(Controller):
        @get("/feature")
        @development
        async def feature(self, req) -> Response:
            return req.res.text("beta")

        @get("/stable")
        async def stable(self, req) -> Response:
            return req.res.text("stable")

    @development
    @path("/lab")
    class Lab(Controller):
        @get("/")
        async def index(self, req) -> Response:
            return req.res.text("lab")

    production = dyne.App(debug=False)
    production.add_controller(Beta)
    production.add_controller(Lab)
    assert production.client.get("/beta/feature").status_code == 404
    assert production.client.get("/lab").status_code == 404
    assert production.client.get("/beta/stable").text == "stable"

    development_app = dyne.App(debug=True)
    development_app.add_controller(Beta)
    development_app.add_controller(Lab)
    assert development_app.client.get("/beta/feature").text == "beta"
    assert development_app.client.get("/lab").text == "lab"
    # Documented only where reachable (debug mode when registered).
    documented = {route.name: route.include_in_schema for route in production.routes}
    assert documented == {"Beta.feature": False, "Beta.stable": True, "Lab.index": False}
    assert all(route.include_in_schema for route in development_app.routes)


def test_seed_websocket_handler():
    @path("/api/v1/users", tags=["Users"])
    class UsersApi(Controller):
        @socket("/ws")
        async def socket_handler(self, req: Request) -> None:
            """Example socket handler"""
            await req.accept()
            while True:
                data = await req.receive()
                if data["type"] == "websocket.disconnect":
                    break
                if data["type"] == "websocket.receive":
                    await req.res.send({
                        "type": "websocket.send",
                        "text": "Hello from server. Echo: " + data.get("text", ""),
                    })

    app = dyne.App()
    app.add_controller(UsersApi)
    with app.client.websocket_connect("/api/v1/users/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "Hello from server. Echo: hi"


# -- Authentication ---------------------------------------------------------------------


def _login_app() -> tuple[dyne.App, Any]:
    from dyne.ext.auth import LoginManager

    app = dyne.App(csrf=False)
    app.config["SECRET_KEY"] = "k" * 32
    auth = LoginManager(app, login_url=None)
    people = {"1": {"id": 1, "name": "ada", "roles": ["admin"]},
              "2": {"id": 2, "name": "bo", "roles": ["user"]}}

    @auth.user_loader
    async def load(user_id):
        return people.get(user_id)

    @auth.get_user_roles
    async def roles(user):
        return user["roles"]

    @app.route("/login/{user_id}", methods=["POST"])
    async def login(req, resp, *, user_id):
        await auth.login(req, resp, people[user_id])
        resp.text = "in"

    return app, auth


def test_seed_class_level_login_required_and_role_required():
    from dyne.controllers import login_required, role_required

    app, _auth = _login_app()

    @path("/api/v1/admin", tags=["Admin"])
    @login_required
    @role_required("admin", "superuser")
    class AdminApi(Controller):
        """All endpoints are protected"""

        @get("/me")
        async def me(self, req: Request) -> Response:
            return req.response.json({"name": req.user["name"]})

    app.add_controller(AdminApi)
    client = app.client
    assert client.get("/api/v1/admin/me").status_code == 401
    client.post("/login/2")
    assert client.get("/api/v1/admin/me").status_code == 403
    client.post("/login/1")
    assert client.get("/api/v1/admin/me").json() == {"name": "ada"}


def test_seed_auth_decorators_on_methods_and_authenticate_on_the_class():
    from dyne.ext.auth import BasicAuth, authenticate

    app, auth = _login_app()

    @path("/api/v1/users")
    class UsersApi(Controller):
        @get("/<int:user_id>")
        @produces(MediaType.APPLICATION_JSON)
        @auth.login_required
        @auth.role_required("admin", "superuser")
        async def get_user(self, req: Request, user_id: int) -> Response:
            """Returns a user by user_id"""
            return req.response.json({"id": user_id, "by": req.user["name"]}).status(HttpStatus.OK)

    basic = BasicAuth()

    @basic.verify_password
    def verify(username, password):
        return username if password == "pw" else None

    @path("/api/v1/machines")
    @authenticate(basic)
    class Machines(Controller):
        @get("/")
        async def index(self, req: Request) -> Response:
            return req.res.json({"machine": req.user})

    app.add_controller(UsersApi)
    app.add_controller(Machines)
    client = app.client
    assert client.get("/api/v1/users/4").status_code == 401
    client.post("/login/2")
    assert client.get("/api/v1/users/4").status_code == 403
    client.post("/login/1")
    assert client.get("/api/v1/users/4").json() == {"id": 4, "by": "ada"}
    assert client.get("/api/v1/machines", auth=("m1", "no")).status_code == 401
    assert client.get("/api/v1/machines", auth=("m1", "pw")).json() == {"machine": "m1"}


def test_login_required_without_a_login_manager_is_a_registration_error():
    from dyne.controllers import login_required

    @path("/x")
    @login_required
    class Locked(Controller):
        @get("/")
        async def index(self, req) -> Response:
            return req.res.text("x")

    with pytest.raises(TypeError, match="LoginManager"):
        dyne.App().add_controller(Locked)


# -- Registration -----------------------------------------------------------------------


def test_add_controller_by_import_string(tmp_path, monkeypatch):
    package = tmp_path / "shop_app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text(textwrap.dedent("""
        from dyne.controllers import Controller, path, get

        @path("/shop")
        class ShopApi(Controller):
            @get("/")
            async def index(self, req):
                return req.response.json({"shop": True})

        NOT_A_CONTROLLER = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    app = dyne.App()
    app.add_controller("shop_app.api:ShopApi")
    assert app.client.get("/shop").json() == {"shop": True}
    with pytest.raises(TypeError, match="Controller subclass"):
        app.add_controller("shop_app.api:NOT_A_CONTROLLER")
    with pytest.raises(ImportError, match="no 'Missing'"):
        app.add_controller("shop_app.api:Missing")
    with pytest.raises(ImportError, match="Cannot import"):
        app.add_controller("shop_app.nowhere:ShopApi")
    with pytest.raises(ValueError, match=r"package\.module:Class"):
        app.add_controller("shop_app.api.ShopApi")
    with pytest.raises(ValueError, match="already registered"):
        app.add_controller("shop_app.api:ShopApi")
    sys.modules.pop("shop_app.api", None)
    sys.modules.pop("shop_app", None)


def test_registration_errors_are_clear():
    class NotAController:
        pass

    app = dyne.App()
    with pytest.raises(TypeError, match="Controller subclass"):
        app.add_controller(NotAController)

    class Empty(Controller):
        pass

    with pytest.raises(TypeError, match="no endpoints"):
        app.add_controller(Empty)

    class NoBodyParameter(Controller):
        @post("/x")
        @consumes(MediaType.APPLICATION_JSON)
        async def create(self, req) -> Response:
            return req.res.text("x")

    with pytest.raises(TypeError, match="@consumes"):
        app.add_controller(NoBodyParameter)

    class NoRequest(Controller):
        @get("/y")
        async def index(self):
            pass

    with pytest.raises(TypeError, match="must take the request"):
        app.add_controller(NoRequest)

    with pytest.raises(TypeError, match="tags"):
        get("/z", tags="Users")
    with pytest.raises(TypeError, match="Controller subclass"):
        path("/p")(NotAController)


def test_controllers_and_function_views_share_one_app():
    app = dyne.App()

    @app.route("/hello")
    async def hello(req, resp):
        resp.text = "hello"

    app.add_controller(UsersApi)
    assert app.client.get("/hello").text == "hello"
    assert app.client.get("/api/v1/users/1").json()["id"] == 1
    assert {route.name for route in app.routes} >= {"hello", "UsersApi.get_user", "UsersApi.create_user"}


def test_function_views_get_no_controller_steps():
    """A plain view's handler stays the direct call (no pipeline), whether or
    not the app has controllers."""
    app = dyne.App()

    @app.route("/plain")
    async def plain(req, resp):
        resp.text = "plain"

    app.add_controller(UsersApi)
    assert app.client.get("/plain").text == "plain"
    route = next(route for route in app.routes if route.name == "plain")
    assert route.handler.__name__ == "direct_async"


# -- OpenAPI ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_openapi_document_of_controllers_and_function_views_validates(version):
    from openapi_spec_validator import validate

    from dyne.ext.io.pydantic import input, output
    from dyne.ext.openapi import OpenAPI

    app = dyne.App()
    api = OpenAPI(app, title="Mixed", version="1.0", openapi=version)

    class Book(BaseModel):
        title: str

    @app.route("/books", methods=["POST"])
    @input(Book)
    @output(Book, status_code=201)
    async def create_book(req, resp, *, data):
        resp.obj = data

    @path("/api/v1/users", tags=["Users"])
    class Users(Controller):
        @get("/<int:user_id>", tags=["Reading"])
        @produces(MediaType.APPLICATION_JSON)
        @open_api_docs(
            Descriptor(status=HttpStatus.NOT_FOUND, description="User not found", body=ErrorResponse),
            Descriptor(status=HttpStatus.BAD_REQUEST, description="Bad request", body=ErrorResponse))
        async def get_user(self, req: Request, user_id: int) -> Response[UserData]:
            """Endpoint logic"""
            return req.res.json({"email": "e", "fullname": "f"})

        @post("/")
        @consumes(MediaType.APPLICATION_JSON)
        async def create_user(self, req: Request, user_data: UserData) -> Response[UserData]:
            """Creates new user"""
            return req.res.json(user_data).status(HttpStatus.CREATED)

        @get("/hidden", open_api_spec=False)
        async def hidden(self, req) -> Response:
            return req.res.text("h")

        @socket("/ws")
        async def ws(self, req) -> None:
            await req.accept()

    @path("/internal", open_api_spec=False)
    class Internal(Controller):
        @get("/")
        async def index(self, req) -> Response:
            return req.res.text("i")

    app.add_controller(Users)
    app.add_controller(Internal)
    document = api.to_dict()
    validate(document)
    assert document["openapi"] == version
    assert set(document["paths"]) == {"/books", "/api/v1/users/{user_id}", "/api/v1/users"}
    read = document["paths"]["/api/v1/users/{user_id}"]["get"]
    assert read["tags"] == ["Reading"]
    assert read["summary"] == "Endpoint logic"
    assert read["operationId"] == "Users.get_user"
    assert read["parameters"][0]["name"] == "user_id"
    assert read["parameters"][0]["schema"]["type"] == "integer"
    assert read["responses"]["404"]["description"] == "User not found"
    assert read["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("UserData")
    create = document["paths"]["/api/v1/users"]["post"]
    assert create["tags"] == ["Users"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("UserData")
    assert {"415", "422"} <= set(create["responses"])


# -- A real server ----------------------------------------------------------------------


def test_controllers_under_uvicorn():
    app = dyne.App()

    @app.route("/plain")
    async def plain(req, resp):
        resp.text = "plain"

    app.add_controller(UsersApi)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/plain").text == "plain"
        user = client.get("/api/v1/users/12")
        assert user.status_code == 200 and user.json()["id"] == 12
        created = client.post("/api/v1/users", json={"email": "e@x", "fullname": "E"})
        assert (created.status_code, created.json()) == (201, {"email": "e@x", "fullname": "E"})
        assert client.post("/api/v1/users", json={"email": "e@x"}).status_code == 422


# -- One injection engine: controller methods read their signature as views do ----------


class Search(BaseModel):
    term: str


def test_controller_methods_read_query_header_dependencies_and_typed_paths_like_views():
    calls: list[str] = []

    async def current_user(x_user: str = dyne.Header("anon")) -> str:
        calls.append(x_user)
        return x_user

    @path("/shop")
    class Shop(Controller):
        @get("/<item_id>")
        async def show(self, req: Request, item_id: int, limit: int = 10,
                       user: str = dyne.Depends(current_user),
                       again: str = dyne.Depends(current_user)) -> Response:
            return req.response.json({"id": item_id, "limit": limit, "user": user, "again": again})

        @get("/legacy/{code}")
        async def legacy(self, req, resp, *, code, verbose: bool = False):
            resp.media = {"code": code, "verbose": verbose}

        @post("/search")
        async def search(self, req: Request, body: Search) -> Response:
            return req.response.json({"term": body.term})

    from dyne.ext.openapi import OpenAPI

    app = dyne.App()
    api = OpenAPI(app, title="Shop", version="1")
    app.add_controller(Shop)
    shown = app.client.get("/shop/7?limit=3", headers={"X-User": "ada"})
    assert shown.json() == {"id": 7, "limit": 3, "user": "ada", "again": "ada"}
    assert calls == ["ada"]  # one call per request per provider
    assert app.client.get("/shop/7").json()["limit"] == 10
    # The engine's 400, in @input's shape: a typed path parameter and a query value.
    wrong = app.client.get("/shop/seven?limit=many")
    assert wrong.status_code == 400 and set(wrong.json()["errors"]) >= {"item_id", "limit"}
    assert app.client.get("/shop/legacy/x?verbose=true").json() == {"code": "x", "verbose": True}
    # A model parameter without @consumes is the body, validated by the engine.
    assert app.client.post("/shop/search", json={"term": "tea"}).json() == {"term": "tea"}
    assert app.client.post("/shop/search", json={}).status_code == 400
    document = api.to_dict()
    parameters = {p["name"]: p for p in document["paths"]["/shop/{item_id}"]["get"]["parameters"]}
    assert parameters["limit"]["in"] == "query" and parameters["limit"]["schema"]["type"] == "integer"
    headers = {name.lower().replace("-", "_") for name, p in parameters.items() if p["in"] == "header"}
    assert headers == {"x_user"}
    assert "requestBody" in document["paths"]["/shop/search"]["post"]


def test_a_controller_parameter_nothing_fills_is_refused_at_registration():
    @path("/bad")
    class Bad(Controller):
        @get("/")
        async def index(self, req, resp, *, mystery):
            resp.text = "never"

    with pytest.raises(TypeError, match="mystery"):
        dyne.App().add_controller(Bad)
