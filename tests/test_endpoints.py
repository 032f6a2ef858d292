"""The contract extensions build on: endpoint specs, steps and route options."""

import functools

import pytest

import dyne
from dyne.endpoints import (
    PHASE_AUTH,
    PHASE_INPUT,
    get_endpoint_spec,
    register_route_option,
)
from dyne.exceptions import abort


def inject(name, value, phase=PHASE_INPUT, log=None):
    """A decorator in the style of @input: declares a step, does not wrap."""

    def decorator(view):
        async def step(req, resp, kwargs):
            if log is not None:
                log.append(name)
            kwargs[name] = value

        get_endpoint_spec(view).add_step(step, phase)
        get_endpoint_spec(view).meta.setdefault("injected", []).append(name)
        return view

    return decorator


def test_steps_inject_keyword_arguments_and_leave_the_view_unwrapped(app):
    async def view(req, resp, *, data, query):
        resp.media = {"data": data, "query": query}

    decorated = inject("query", "q")(inject("data", "d")(view))
    assert decorated is view
    app.add_route("/", decorated)
    assert app.client.get("/").json() == {"data": "d", "query": "q"}
    assert get_endpoint_spec(view).meta["injected"] == ["data", "query"]


def test_steps_run_in_phase_order_whatever_the_decorator_order(app):
    log = []

    @app.route("/")
    @inject("data", 1, phase=PHASE_INPUT, log=log)
    @inject("user", 2, phase=PHASE_AUTH, log=log)
    def view(req, resp, *, data, user):
        log.append("view")

    app.client.get("/")
    assert log == ["user", "data", "view"]


def test_a_step_that_fills_the_response_stops_the_request(app):
    log = []

    def deny(view):
        async def step(req, resp, kwargs):
            resp.status_code = 401
            resp.text = "Invalid credentials"

        get_endpoint_spec(view).add_step(step, PHASE_AUTH)
        return view

    @app.route("/")
    @inject("data", 1, log=log)
    @deny
    def view(req, resp, *, data):
        log.append("view")

    response = app.client.get("/")
    assert (response.status_code, response.text) == (401, "Invalid credentials")
    assert log == []


def test_a_step_may_abort(app):
    def refuse(view):
        async def step(req, resp, kwargs):
            abort(400, detail="bad input")

        get_endpoint_spec(view).add_step(step)
        return view

    @app.route("/")
    @refuse
    def view(req, resp):
        pass

    response = app.client.get("/")
    assert (response.status_code, response.text) == (400, "bad input")


def test_after_steps_see_what_the_view_left(app):
    def serialize(view):
        async def after(req, resp):
            resp.media = {"serialized": resp.obj}

        get_endpoint_spec(view).add_after(after)
        return view

    @app.route("/")
    @serialize
    async def view(req, resp):
        resp.obj = "object"

    assert app.client.get("/").json() == {"serialized": "object"}


def test_injected_arguments_never_leak_into_path_params(app):
    def after_only(view):
        async def after(req, resp):
            resp.media = {"view": resp.obj, "path_params": req.path_params}

        get_endpoint_spec(view).add_after(after)
        return view

    @app.route("/a/{id:int}")
    @inject("extra", "x")
    async def with_step(req, resp, *, id, extra):
        resp.media = {"id": id, "extra": extra, "path_params": req.path_params}

    @app.route("/b/{id:int}")
    @after_only
    async def with_after_step(req, resp, *, id):
        resp.obj = id

    assert app.client.get("/a/1").json() == {"id": 1, "extra": "x", "path_params": {"id": 1}}
    assert app.client.get("/a/2").json() == {"id": 2, "extra": "x", "path_params": {"id": 2}}
    assert app.client.get("/b/3").json() == {"view": 3, "path_params": {"id": 3}}


def test_metadata_survives_functools_wraps(app):
    def wrapping(view):
        @functools.wraps(view)
        async def wrapper(req, resp, **kwargs):
            resp.headers["X-Wrapped"] = "yes"
            return await view(req, resp, **kwargs)

        return wrapper

    @app.route("/")
    @wrapping
    @inject("data", "d")
    async def view(req, resp, *, data):
        resp.text = data

    response = app.client.get("/")
    assert (response.text, response.headers["x-wrapped"]) == ("d", "yes")


def test_class_based_view_methods_carry_their_own_specs(app):
    @app.route("/thing")
    class Thing:
        @inject("data", "posted")
        async def on_post(self, req, resp, *, data):
            resp.text = data

        def on_get(self, req, resp):
            resp.text = "plain"

    assert app.client.post("/thing").text == "posted"
    assert app.client.get("/thing").text == "plain"


def deny_unless_header(view):
    """A decorator in the style of @authenticate: a step that answers 401."""

    async def step(req, resp, kwargs):
        if req.headers.get("x-pass") != "yes":
            resp.status_code = 401

    get_endpoint_spec(view).add_step(step, PHASE_AUTH)
    return view


def test_a_decorated_class_based_view_applies_to_every_method(app):
    @app.route("/guarded")
    @deny_unless_header
    class Guarded:
        def on_get(self, req, resp):
            resp.text = "got"

        @inject("data", "posted")
        async def on_post(self, req, resp, *, data):
            resp.text = data

    assert app.client.get("/guarded").status_code == 401
    assert app.client.post("/guarded").status_code == 401
    assert app.client.head("/guarded").status_code == 401
    passing = {"x-pass": "yes"}
    assert app.client.get("/guarded", headers=passing).text == "got"
    assert app.client.post("/guarded", headers=passing).text == "posted"


def test_a_class_decoration_runs_once_with_on_request(app):
    calls = []

    def counting(view):
        async def step(req, resp, kwargs):
            calls.append(req.method)

        get_endpoint_spec(view).add_step(step, PHASE_AUTH)
        return view

    @app.route("/counted")
    @counting
    class Counted:
        def on_request(self, req, resp):
            resp.headers["X-Seen"] = "1"

        def on_get(self, req, resp):
            resp.text = "got"

    assert app.client.get("/counted").text == "got"
    assert calls == ["GET"]


def test_class_decorations_are_inherited_not_shared(app):
    @deny_unless_header
    class Base:
        def on_get(self, req, resp):
            resp.text = type(self).__name__

    class Child(Base):
        pass

    @inject("data", "child-only")
    class Decorated(Base):
        async def on_post(self, req, resp, *, data):
            resp.text = data

    @inject("data", "object-only")
    class Plain:
        async def on_post(self, req, resp, *, data):
            resp.text = data

    app.add_route("/base", Base)
    app.add_route("/child", Child)
    app.add_route("/decorated", Decorated)
    app.add_route("/object", Plain())
    assert app.client.get("/child").status_code == 401  # inherited from Base
    assert app.client.get("/child", headers={"x-pass": "yes"}).text == "Child"
    assert app.client.post("/decorated", headers={"x-pass": "yes"}).text == "child-only"
    assert app.client.post("/object").text == "object-only"
    # Decorating the subclass did not add its step to the base class.
    assert get_endpoint_spec(Base).meta == {}
    assert len(get_endpoint_spec(Base).steps) == 1


def test_a_view_object_with_its_own_decoration(app):
    class Greeter:
        def on_get(self, req, resp):
            resp.text = "hi"

    guarded = deny_unless_header(Greeter())
    app.add_route("/guarded-object", guarded)
    app.add_route("/open-object", Greeter())
    assert app.client.get("/guarded-object").status_code == 401
    assert app.client.get("/open-object").text == "hi"


def test_websocket_routes_refuse_request_steps(app):
    @deny_unless_header
    async def chat(ws):
        await ws.accept()

    with pytest.raises(TypeError, match="do not run for websocket routes"):
        app.add_route("/chat", chat, websocket=True)


def test_route_options_registry(app):
    seen = []

    def tagged(route, value):
        seen.append((route.path, value))
        route.spec.meta["tags"] = value

    app.register_route_option("tags", tagged)

    @app.route("/tagged", tags=["books"])
    def view(req, resp):
        pass

    assert seen == [("/tagged", ["books"])]
    assert app.router.lookup(view).spec.meta["tags"] == ["books"]
    with pytest.raises(TypeError, match="Unknown route option 'colour'"):
        app.add_route("/x", view, colour="red")
    # Options are per app.
    with pytest.raises(TypeError, match="Unknown route option 'tags'"):
        dyne.App().add_route("/tagged", view, tags=["books"])
    with pytest.raises(ValueError, match="keyword of route"):
        app.register_route_option("methods", tagged)


def test_process_wide_route_option_applies_to_apps_created_afterwards(monkeypatch):
    from dyne.endpoints import ROUTE_OPTIONS

    def flag(route, value):
        route.spec.meta["flag"] = value

    before = dyne.App()
    monkeypatch.setitem(ROUTE_OPTIONS, "flag_test", flag)  # restored after the test
    register_route_option("flag_test", flag)

    def view(req, resp):
        pass

    assert dyne.App().add_route("/", view, flag_test=1).spec.meta["flag"] == 1
    with pytest.raises(TypeError, match="Unknown route option 'flag_test'"):
        before.add_route("/", view, flag_test=1)


def test_spec_of_builtin_is_refused():
    with pytest.raises(TypeError, match="Cannot attach endpoint metadata"):
        get_endpoint_spec(len)
    assert get_endpoint_spec(lambda: None, create=False) is None


# -- route_operations ----------------------------------------------------------------------

def _tag(value):
    def decorate(view):
        get_endpoint_spec(view).meta.setdefault("tags", []).append(value)
        return view

    return decorate


def test_route_operations_of_function_views(app):
    from dyne.endpoints import route_operations

    @_tag("view")
    def view(req, resp):
        pass

    default = app.add_route("/default", view)  # no methods=: GET (HEAD answered by it)
    (operation,) = route_operations(default)
    assert operation.method == "GET" and operation.view is view
    assert [spec.meta["tags"] for spec in operation.specs] == [["view"]]

    some = app.add_route("/some", view, methods=["post", "GET", "HEAD"])
    # HEAD is answered by the GET view, so it is not an operation of its own.
    assert [op.method for op in route_operations(some)] == ["GET", "POST"]
    head_only = app.add_route("/head", view, methods=["HEAD"])
    assert [op.method for op in route_operations(head_only)] == ["HEAD"]


def test_route_operations_of_class_views_gather_every_declaration(app):
    from dyne.endpoints import route_operations

    @_tag("base")
    class Base:
        @_tag("on_request")
        async def on_request(self, req, resp):
            pass

    @_tag("class")
    class Things(Base):
        @_tag("get")
        async def on_get(self, req, resp):
            pass

        async def on_head(self, req, resp):
            pass

        async def on_post(self, req, resp):
            pass

    route = app.add_route("/things", Things, methods=["GET", "POST"])
    operations = route_operations(route)
    assert [(op.method, op.view) for op in operations] == [("GET", Things.on_get),
                                                           ("POST", Things.on_post)]
    assert [s.meta["tags"] for s in operations[0].specs] == [["base"], ["class"], ["on_request"],
                                                             ["get"]]
    assert [s.meta["tags"] for s in operations[1].specs] == [["base"], ["class"], ["on_request"]]

    class OnlyRequest:
        async def on_request(self, req, resp):
            resp.text = "any"

    only = app.add_route("/only", OnlyRequest())
    assert [(op.method, op.view) for op in route_operations(only)] == [
        (None, OnlyRequest.on_request)]
    assert app.client.delete("/only").text == "any"
