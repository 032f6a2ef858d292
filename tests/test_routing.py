import uuid

import pytest

import dyne
from dyne.exceptions import NoRouteFound
from dyne.routing import Convertor, Route, Router, register_convertor


def view(req, resp, **params):
    resp.media = params


# -- templates and convertors ---------------------------------------------------------

@pytest.mark.parametrize("path, url, expected", [
    ("/users/{id:int}", "/users/42", {"id": 42}),
    ("/price/{x:float}", "/price/3.25", {"x": 3.25}),
    ("/price/{x:float}", "/price/3", {"x": 3.0}),
    ("/files/{p:path}", "/files/a/b/c.txt", {"p": "a/b/c.txt"}),
    ("/things/{u:uuid}", "/things/6f1c1b4e-2d9a-4f6b-9a4e-0c5d9b7a1e23",
     {"u": "6f1c1b4e-2d9a-4f6b-9a4e-0c5d9b7a1e23"}),
    ("/hello/{name}", "/hello/dyne", {"name": "dyne"}),
    ("/hello/{name:str}", "/hello/dyne", {"name": "dyne"}),
    ("/report/{name}.{ext}", "/report/q3.pdf", {"name": "q3", "ext": "pdf"}),
    ("/v{version:int}/status", "/v2/status", {"version": 2}),
])
def test_typed_parameters_reach_the_view_converted(app, path, url, expected):
    seen = {}

    @app.route(path)
    def endpoint(req, resp, **params):
        seen.update(params)

    assert app.client.get(url).status_code == 200
    if "u" in expected:
        assert seen["u"] == uuid.UUID(expected["u"])
    else:
        assert seen == expected
        assert {type(v) for v in seen.values()} == {type(v) for v in expected.values()}


@pytest.mark.parametrize("path, url", [
    ("/users/{id:int}", "/users/abc"),
    ("/users/{id:int}", "/users/-1"),
    ("/price/{x:float}", "/price/nan"),
    ("/things/{u:uuid}", "/things/not-a-uuid"),
    ("/hello/{name}", "/hello/"),
])
def test_parameter_that_does_not_convert_is_404(app, path, url):
    app.add_route(path, view)
    response = app.client.get(url, follow_redirects=False)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_unknown_path_is_plain_text_404(app):
    response = app.client.get("/nowhere")
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"].startswith("text/plain")


def test_literal_segment_beats_parameter_whatever_the_order(app):
    @app.route("/users/{name}")
    def by_name(req, resp, *, name):
        resp.text = f"user {name}"

    @app.route("/users/me")
    def me(req, resp):
        resp.text = "me"

    assert app.client.get("/users/me").text == "me"
    assert app.client.get("/users/bob").text == "user bob"


def test_int_parameter_is_tried_before_str_and_falls_back(app):
    @app.route("/items/{name}")
    def by_name(req, resp, *, name):
        resp.text = f"name:{name}"

    @app.route("/items/{id:int}")
    def by_id(req, resp, *, id):
        resp.text = f"id:{id + 1}"

    assert app.client.get("/items/41").text == "id:42"
    assert app.client.get("/items/widget").text == "name:widget"


def test_backtracking_across_segments(app):
    @app.route("/a/{x}/c")
    def first(req, resp, *, x):
        resp.text = f"first {x}"

    @app.route("/a/b/d")
    def second(req, resp):
        resp.text = "second"

    assert app.client.get("/a/b/c").text == "first b"
    assert app.client.get("/a/b/d").text == "second"


def test_path_parameter_in_the_middle(app):
    @app.route("/repo/{tree:path}/raw")
    def raw(req, resp, *, tree):
        resp.text = tree

    assert app.client.get("/repo/src/dyne/app.py/raw").text == "src/dyne/app.py"


def test_custom_convertor():
    class Slug(Convertor):
        regex = "[a-z0-9-]+"

        def convert(self, value):
            return value.upper()

    app = dyne.App()
    app.register_convertor("slug", Slug())

    @app.route("/posts/{s:slug}")
    def post(req, resp, *, s):
        resp.text = s

    assert app.client.get("/posts/hello-world").text == "HELLO-WORLD"
    assert app.client.get("/posts/Hello").status_code == 404
    with pytest.raises(TypeError, match=r"needs a dyne\.routing\.Convertor instance"):
        app.register_convertor("bad", object())
    with pytest.raises(ValueError, match="identifiers"):
        app.register_convertor("no good", Slug())
    # Another app does not see it: convertors are per app.
    with pytest.raises(ValueError, match="Unknown convertor 'slug'"):
        dyne.App().add_route("/posts/{s:slug}", post)


def test_process_wide_convertor_applies_to_apps_created_afterwards(monkeypatch):
    from dyne.routing import CONVERTORS

    class Upper(Convertor):
        regex = "[a-z]+"

        def convert(self, value):
            return value.upper()

    before = dyne.App()
    monkeypatch.setitem(CONVERTORS, "upper_test", Upper())  # restored after the test
    register_convertor("upper_test", Upper())
    after = dyne.App()

    @after.route("/w/{w:upper_test}")
    def word(req, resp, *, w):
        resp.text = w

    assert after.client.get("/w/abc").text == "ABC"
    with pytest.raises(ValueError, match="Unknown convertor"):
        before.add_route("/w/{w:upper_test}", word)


@pytest.mark.parametrize("path, message", [
    ("users", "must start with '/'"),
    ("/users/{id:nope}", "Unknown convertor 'nope'"),
    ("/users/{1id}", "Invalid parameter name"),
    ("/users/{id}/{id}", "appears twice"),
    ("/users/{id", "Unbalanced braces"),
])
def test_bad_templates_fail_at_registration(app, path, message):
    with pytest.raises(ValueError, match=message):
        app.add_route(path, view)


# -- methods ------------------------------------------------------------------------

def test_route_without_methods_answers_get_head_and_options_only(app):
    @app.route("/notes")
    def notes(req, resp):
        resp.media = ["first note"]

    assert app.client.get("/notes").json() == ["first note"]
    head = app.client.head("/notes")
    assert head.status_code == 200 and head.content == b""
    options = app.client.options("/notes")
    assert options.status_code == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"
    assert options.content == b""
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = app.client.request(method, "/notes")
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_wrong_method_is_405_with_allow(app):
    @app.route("/only-post", methods=["POST"])
    def only_post(req, resp):
        resp.text = "posted"

    response = app.client.get("/only-post")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert response.headers["allow"] == "OPTIONS, POST"
    assert app.client.post("/only-post").text == "posted"


def test_unknown_and_dangerous_methods_are_refused(app):
    @app.route("/any")
    def anything(req, resp):
        resp.text = "ok"

    for method in ("TRACE", "CONNECT", "BREW", "PROPFIND"):
        response = app.client.request(method, "/any")
        assert response.status_code == 405, method
    assert app.client.request("BREW", "/missing").status_code == 404


def test_head_answers_like_get_without_a_body(app):
    @app.route("/doc", methods=["GET"])
    def doc(req, resp):
        resp.text = "x" * 100

    response = app.client.head("/doc")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "100"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_options_answers_with_allow(app):
    @app.get("/thing")
    def get_thing(req, resp):
        pass

    @app.delete("/thing")
    def delete_thing(req, resp):
        pass

    response = app.client.options("/thing")
    assert response.status_code == 200
    assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_explicit_method_routes_share_a_path_with_a_catch_all(app):
    # The docs register GET /users (no methods) and POST /users separately.
    @app.route("/users")
    async def list_users(req, resp):
        resp.media = ["alice"]

    @app.route("/users", methods=["POST"])
    async def create_user(req, resp):
        resp.status_code = 201

    assert app.client.get("/users").json() == ["alice"]
    assert app.client.post("/users").status_code == 201


def test_shortcut_decorators(app):
    for name in ("get", "post", "put", "patch", "delete"):
        def endpoint(req, resp, name=name):
            resp.text = name

        getattr(app, name)("/verb")(endpoint)
    for name in ("get", "post", "put", "patch", "delete"):
        assert app.client.request(name.upper(), "/verb").text == name


def test_registering_the_same_method_twice_is_an_error(app):
    app.add_route("/dup", view, methods=["GET"])
    with pytest.raises(ValueError, match="already has a GET handler"):
        app.add_route("/dup", view, methods=["get"])
    app.add_route("/dup2", view)
    with pytest.raises(ValueError, match="already has a GET handler"):
        app.add_route("/dup2", view)

    class View:
        def on_get(self, req, resp):
            pass

    app.add_route("/dup3", View)
    with pytest.raises(ValueError, match="already has a class-based view"):
        app.add_route("/dup3", View)


# -- views ----------------------------------------------------------------------------

def test_sync_views_run_off_the_event_loop(app):
    import threading

    threads = {}

    @app.route("/sync")
    def sync_view(req, resp):
        threads["sync"] = threading.current_thread().name

    @app.route("/async")
    async def async_view(req, resp):
        threads["async"] = threading.current_thread().name

    app.client.get("/sync")
    app.client.get("/async")
    assert threads["sync"] != threads["async"]


@pytest.mark.parametrize("returned, body, content_type", [
    ({"a": 1}, b'{"a":1}', "application/json"),
    ([1, 2], b"[1,2]", "application/json"),
    ("hi", b"hi", "text/plain; charset=utf-8"),
    (b"\x00\x01", b"\x00\x01", "application/octet-stream"),
])
def test_return_values_become_the_body(app, returned, body, content_type):
    @app.route("/r")
    async def endpoint(req, resp):
        return returned

    response = app.client.get("/r")
    assert response.content == body
    assert response.headers["content-type"] == content_type


def test_returning_none_keeps_what_the_view_set(app):
    @app.route("/r")
    def endpoint(req, resp):
        resp.text = "kept"
        return

    assert app.client.get("/r").text == "kept"


def test_unsupported_return_value_is_a_500_not_a_crash(app):
    @app.route("/r")
    def endpoint(req, resp):
        return 42

    response = app.client.get("/r")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error"


def test_class_based_view(app):
    @app.route("/greeting/{name}")
    class Greeting:
        def on_get(self, req, resp, *, name):
            resp.text = f"hello {name}"

        async def on_post(self, req, resp, *, name):
            resp.status_code = 201
            resp.media = {"created": name}

    assert app.client.get("/greeting/ann").text == "hello ann"
    assert app.client.post("/greeting/ann").json() == {"created": "ann"}
    assert app.client.head("/greeting/ann").status_code == 200
    response = app.client.delete("/greeting/ann")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_class_based_view_on_request_runs_for_every_method_then_on_method(app):
    calls = []

    @app.route("/resource")
    class Resource:
        def on_request(self, req, resp):
            calls.append(("request", str(req.method)))
            resp.headers["X-Life"] = "42"

        def on_get(self, req, resp):
            calls.append(("get",))
            resp.text = "got"

    response = app.client.get("/resource")
    assert response.text == "got"
    assert response.headers["x-life"] == "42"
    assert app.client.put("/resource").headers["x-life"] == "42"
    assert calls == [("request", "GET"), ("get",), ("request", "PUT")]


def test_class_based_view_gets_a_fresh_instance_per_request(app):
    instances = set()

    @app.route("/fresh")
    class Fresh:
        def on_get(self, req, resp):
            instances.add(id(self))
            self.mutable = True

    app.client.get("/fresh")
    app.client.get("/fresh")
    assert len(instances) == 2


def test_view_object_instance(app):
    class Counter:
        def __init__(self):
            self.count = 0

        def on_get(self, req, resp):
            self.count += 1
            resp.media = {"count": self.count}

    app.add_route("/count", Counter())
    app.client.get("/count")
    assert app.client.get("/count").json() == {"count": 2}


def test_view_that_cannot_take_path_params_fails_at_registration(app):
    with pytest.raises(TypeError, match="does not accept path parameter"):
        @app.route("/users/{id:int}")
        def bad(req, resp):
            pass

    with pytest.raises(TypeError, match=r"must accept \(req, resp\)"):
        @app.route("/one")
        def one_arg(req):
            pass


def test_before_request_true_does_not_need_a_path(app):
    with pytest.raises(TypeError, match="needs a path"):
        app.route()(view)


# -- url_for -------------------------------------------------------------------------

def test_url_for_by_view_and_by_name(app):
    @app.route("/users/{id:int}", name="user-detail")
    def user(req, resp, *, id):
        pass

    assert app.url_for(user, id=7) == "/users/7"
    assert app.url_for("user-detail", id=7) == "/users/7"


def test_url_for_percent_encodes_values_and_appends_extras_as_query(app):
    @app.route("/search/{term}")
    def search(req, resp, *, term):
        resp.text = term

    @app.route("/files/{p:path}")
    def files(req, resp, *, p):
        resp.text = p

    url = app.url_for(search, term="a b/c?d", page=2)
    assert url == "/search/a%20b%2Fc%3Fd?page=2"
    assert app.client.get(url).text == "a b/c?d"
    assert app.url_for(files, p="docs/read me.txt") == "/files/docs/read%20me.txt"


def test_url_for_errors_are_clear(app):
    @app.route("/users/{id:int}")
    def user(req, resp, *, id):
        pass

    with pytest.raises(NoRouteFound, match="No route found for endpoint 'nope'"):
        app.url_for("nope")
    with pytest.raises(NoRouteFound, match="needs parameter"):
        app.url_for(user)
    with pytest.raises(NoRouteFound, match="Bad value"):
        app.url_for(user, id="abc")
    assert issubclass(NoRouteFound, LookupError)


def test_url_for_class_based_view(app):
    @app.route("/things/{id:int}")
    class Thing:
        def on_get(self, req, resp, *, id):
            pass

    assert app.url_for(Thing, id=3) == "/things/3"
    assert app.url_for("Thing", id=3) == "/things/3"


# -- trailing slashes --------------------------------------------------------------

def test_missing_or_extra_trailing_slash_redirects(app):
    @app.route("/docs/")
    def docs(req, resp):
        resp.text = "docs"

    @app.route("/api")
    def api(req, resp):
        resp.text = "api"

    response = app.client.get("/docs?x=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/docs/?x=1"
    assert app.client.get("/api/").text == "api"


# -- scale ---------------------------------------------------------------------------

def test_lookup_does_not_scan_every_route():
    router = Router()
    for i in range(2000):
        router.add(Route(f"/static{i}", view))
        router.add(Route(f"/dyn{i}/{{id:int}}", view))
    router.add(Route("/users/{name}/posts/{post:int}", view))
    found = router.match("/dyn1999/5")
    assert found is not None and found[1] == {"id": 5}
    assert router.match("/static1999")[0].routes[0].path == "/static1999"
    # The root of the tree branches on the first literal segment: a request for the
    # last route only looks at its own branch.
    assert len(router._http.root.static) == 2001
    branch = router._http.root.static["dyn1999"]
    assert len(branch.dynamic) == 1
    assert router.match("/users/ann/posts/3")[1] == {"name": "ann", "post": 3}


def test_url_for_on_router_unknown_type():
    router = Router()
    with pytest.raises(NoRouteFound):
        router.url_for(object())


def test_int_parameters_stop_at_64_bits(app):
    app.add_route("/n/{n:int}", view)
    assert app.client.get("/n/9223372036854775807").json() == {"n": 9223372036854775807}
    assert app.client.get("/n/9223372036854775808").status_code == 404
    assert app.client.get("/n/99999999999999999999999").status_code == 404


@pytest.mark.parametrize("path, good, expected, bad", [
    # one parameter filling the segment
    ("/n/{x:int}", "/n/7", {"x": 7}, ["/n/7a", "/n/99999999999999999999", "/n/%C2%B2"]),
    ("/u/{x:uuid}", "/u/6f1c1b4e2d9a4f6b9a4e0c5d9b7a1e23",
     {"x": uuid.UUID("6f1c1b4e-2d9a-4f6b-9a4e-0c5d9b7a1e23")}, ["/u/6f1c1b4e"]),
    # several parameters, or literal text around one
    ("/v/{major:int}.{minor:int}", "/v/3.12", {"major": 3, "minor": 12}, ["/v/3.x", "/v/3"]),
    ("/f/{name}.json", "/f/data.json", {"name": "data"}, ["/f/data.xml"]),
    # the rest of the path
    ("/t/{rest:path}", "/t/a/b", {"rest": "a/b"}, []),
])
def test_every_shape_of_path_segment_converts_or_is_404(app, path, good, expected, bad):
    seen = {}

    @app.route(path)
    def endpoint(req, resp, **params):
        seen.update(params)

    assert app.client.get(good).status_code == 200
    assert seen == expected
    for url in bad:
        assert app.client.get(url, follow_redirects=False).status_code == 404, url


def test_convertor_raising_type_error_does_not_match(app):
    class Picky(Convertor):
        regex = "[a-z]+"

        def convert(self, value):
            if value == "no":
                raise TypeError("refused")
            return value.upper()

    app.register_convertor("picky_test", Picky())
    app.add_route("/p/{word:picky_test}", view)
    assert app.client.get("/p/yes").json() == {"word": "YES"}
    assert app.client.get("/p/no").status_code == 404


# -- what mutation testing found unpinned (scripts/mutation.py routing) -------------------

def test_routes_sharing_a_dynamic_segment_or_a_tail(app):
    @app.route("/items/{id:int}", methods=["GET"])
    def show(req, resp, *, id):
        resp.text = f"show {id}"

    @app.route("/items/{id:int}", methods=["DELETE"])
    def remove(req, resp, *, id):
        resp.text = f"remove {id}"

    @app.route("/items/{id:int}/edit")
    def edit(req, resp, *, id):
        resp.text = f"edit {id}"

    @app.route("/files/{rest:path}", methods=["GET"])
    def read(req, resp, *, rest):
        resp.text = f"read {rest}"

    @app.route("/files/{rest:path}", methods=["PUT"])
    def write(req, resp, *, rest):
        resp.text = f"write {rest}"

    # Registered after the catch-all, yet more specific: tried first.
    @app.route("/files/{rest:path}.zip")
    def archive(req, resp, *, rest):
        resp.text = f"archive {rest}"

    client = app.client
    assert client.get("/items/3").text == "show 3"
    assert client.delete("/items/3").text == "remove 3"
    assert client.get("/items/3/edit").text == "edit 3"
    assert client.get("/files/a/b.txt").text == "read a/b.txt"
    assert client.put("/files/a/b.txt").text == "write a/b.txt"
    assert client.get("/files/a/b.zip").text == "archive a/b"
    with pytest.raises(ValueError, match=r"/items/\{id:int\}' already has a GET handler \('show'\)"):
        app.add_route("/items/{id:int}", view)


def test_an_encoded_slash_in_either_case_stays_in_its_segment(app):
    @app.route("/search/{term}")
    def search(req, resp, *, term):
        resp.text = term

    assert app.client.get("/search/a%2Fb").text == "a/b"
    assert app.client.get("/search/a%2fb").text == "a/b"


def test_url_for_zero_lists_and_refused_values(app):
    @app.route("/items/{id:int}")
    def item(req, resp, *, id):
        pass

    @app.route("/hello/{name}")
    def hello(req, resp, *, name):
        pass

    assert app.url_for(item, id=0) == "/items/0"
    assert app.url_for(item, id=1, tag=["a", "b"]) == "/items/1?tag=a&tag=b"
    with pytest.raises(NoRouteFound, match="an int path parameter cannot be negative"):
        app.url_for(item, id=-1)
    with pytest.raises(NoRouteFound, match="a str path parameter cannot be empty"):
        app.url_for(hello, name="")


def test_url_for_a_wrapped_view_a_view_object_and_an_unhashable_endpoint(app):
    import functools

    @app.route("/plain")
    def plain(req, resp):
        pass

    @functools.wraps(plain)
    def wrapper(req, resp):
        pass

    class Widget:
        def on_get(self, req, resp):
            resp.text = "widget"

    app.add_route("/widget", Widget())
    assert app.url_for(wrapper) == "/plain"
    assert app.url_for("Widget") == "/widget"
    with pytest.raises(NoRouteFound, match=r"No route found for endpoint \[\]"):
        app.url_for([])


def test_a_class_view_with_methods_answers_405_for_a_method_it_lacks(app):
    class OnlyGet:
        def on_get(self, req, resp):
            resp.text = "got"

    app.add_route("/only", OnlyGet, methods=["GET", "DELETE"])
    assert app.client.get("/only").text == "got"
    answer = app.client.delete("/only")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"



def test_a_parameter_with_literal_text_beats_a_bare_one_whatever_the_order(app):
    @app.route("/doc/{name}")
    def page(req, resp, *, name):
        resp.text = f"page {name}"

    @app.route("/doc/{name}.json")
    def data(req, resp, *, name):
        resp.text = f"data {name}"

    assert app.client.get("/doc/a.json").text == "data a"
    assert app.client.get("/doc/a").text == "page a"


def test_methods_may_be_one_string_but_not_empty(app):
    app.add_route("/one", view, methods="post")
    assert app.client.post("/one").json() == {}
    assert app.client.get("/one").status_code == 405
    with pytest.raises(ValueError, match=r"methods= must name at least one HTTP method"):
        app.add_route("/none", view, methods=[])


def test_a_second_websocket_route_on_a_path_is_an_error(app):
    async def chat(ws):
        await ws.accept()

    app.add_route("/chat/{room}", chat, websocket=True)
    with pytest.raises(ValueError, match=r"A websocket route is already registered on '/chat/\{room\}'"):
        app.add_route("/chat/{room}", chat, websocket=True)
