"""Mounting ASGI and WSGI applications under a prefix."""

import asyncio

import httpx
import pytest
from flask import Flask, request

import dyne
from dyne.mounts import Mount, is_wsgi_app, route_path
from dyne.testing import TestClient
from tests.conftest import serve_in_thread


def flask_app():
    flask = Flask(__name__)

    @flask.route("/")
    def hello():
        return "Hello from Flask!"

    @flask.route("/where")
    def where():
        return {"script_root": request.script_root, "path": request.path,
                "url": request.url, "args": request.args.to_dict()}

    @flask.route("/echo", methods=["POST"])
    def echo():
        return request.get_data()

    return flask


def test_flask_app_mounted_as_in_the_responder_testing_guide():
    app = dyne.App(allowed_hosts=["localhost"])
    app.mount("/flask", flask_app())
    client = TestClient(app, base_url="http://localhost")
    r = client.get("http://localhost/flask")
    assert r.status_code == 200
    assert "Hello from Flask" in r.text
    where = client.get("/flask/where?x=1").json()
    assert where == {"script_root": "/flask", "path": "/where",
                     "url": "http://localhost/flask/where?x=1", "args": {"x": "1"}}
    assert client.post("/flask/echo", content=b"payload").content == b"payload"
    client.close()


def test_mounted_app_does_not_see_other_paths_and_routes_still_work():
    app = dyne.App()
    app.mount("/flask", flask_app())

    @app.route("/flaskish")
    def not_mounted(req, resp):
        resp.text = "dyne"

    client = TestClient(app, base_url="http://localhost")
    assert client.get("/flaskish").text == "dyne"  # a prefix match needs a "/" boundary
    assert client.get("/flask/nothing").status_code == 404  # Flask's own 404
    client.close()


def test_asgi_app_gets_root_path_and_full_path():
    seen = {}

    async def raw_asgi(scope, receive, send):
        seen.update(path=scope["path"], root_path=scope["root_path"],
                    route=route_path(scope))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"raw"})

    app = dyne.App()
    app.mount("/raw", raw_asgi)
    assert app.client.get("/raw/a/b").text == "raw"
    assert seen == {"path": "/raw/a/b", "root_path": "/raw", "route": "/a/b"}


def test_mounting_a_starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def items(request):
        return JSONResponse({"url_for": str(request.url_for("items")),
                             "path": request.url.path})

    sub = Starlette(routes=[Route("/items", items, name="items")])
    app = dyne.App()
    app.mount("/star", sub)
    assert app.client.get("/star/items").json() == {"url_for": "http://;/star/items",
                                                    "path": "/star/items"}


def test_mounting_a_dyne_app_in_a_dyne_app_keeps_hooks_and_errors_separate():
    child = dyne.App()

    @child.route("/users/{id:int}")
    async def user(req, resp, *, id):
        resp.media = {"id": id, "base": req.base_url}

    @child.error_handler(404)
    async def child_404(req, resp, exc):
        resp.status_code = 404
        resp.text = "child 404"

    parent = dyne.App()
    parent.mount("/api", child)
    assert parent.client.get("/api/users/7").json() == {"id": 7, "base": "http://;/api/"}
    assert parent.client.get("/api/nothing").text == "child 404"
    assert parent.client.get("/nothing").text == "Not Found"
    # a path that repeats the prefix is not confused with it
    @child.route("/api/x")
    def nested(req, resp):
        resp.text = "nested"

    assert parent.client.get("/api/api/x").text == "nested"


def test_websockets_reach_mounted_asgi_apps():
    child = dyne.App()

    @child.route("/ws", websocket=True)
    async def ws_view(ws):
        await ws.accept()
        await ws.send_text("from child")
        await ws.close()

    parent = dyne.App()
    parent.mount("/child", child)
    with parent.client.websocket_connect("/child/ws") as ws:
        assert ws.receive_text() == "from child"


def test_longest_prefix_wins():
    def make(text):
        async def asgi(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": text})

        return asgi

    app = dyne.App()
    app.mount("/a", make(b"short"))
    app.mount("/a/b", make(b"long"))
    assert app.client.get("/a/b/c").text == "long"
    assert app.client.get("/a/c").text == "short"
    assert [m.prefix for m in app.mounts] == ["/a/b", "/a"]


def test_wsgi_detection():
    def wsgi(environ, start_response):
        return []

    async def asgi(scope, receive, send):
        pass

    class AsgiClass:
        async def __call__(self, scope, receive, send):
            pass

    assert is_wsgi_app(wsgi)
    assert is_wsgi_app(Flask(__name__))
    assert not is_wsgi_app(asgi)
    assert not is_wsgi_app(AsgiClass())
    assert not is_wsgi_app(dyne.App())
    assert Mount("/x", wsgi, wsgi=False).wsgi is False


@pytest.mark.parametrize("path, message", [
    ("flask", "must start with '/'"),
    ("/", "Cannot mount an application at '/'"),
    ("/{x}", "plain prefixes"),
])
def test_bad_mount_paths(path, message):
    with pytest.raises(ValueError, match=message):
        dyne.App().mount(path, flask_app())


def test_mount_errors():
    app = dyne.App()
    app.mount("/a", flask_app())
    with pytest.raises(ValueError, match="already mounted at '/a'"):
        app.mount("/a/", flask_app())
    with pytest.raises(TypeError, match="ASGI or WSGI application"):
        app.mount("/b", "not an app")


def test_body_limit_applies_to_mounted_apps():
    app = dyne.App(max_body_size=100)
    app.mount("/flask", flask_app())
    client = TestClient(app, base_url="http://localhost")
    assert client.post("/flask/echo", content=b"x" * 100).content == b"x" * 100
    too_big = client.post("/flask/echo", content=b"x" * 101)
    assert too_big.status_code == 413
    client.close()



def test_streamed_body_over_the_limit_is_413_for_a_mounted_asgi_app():
    read = []

    async def reader(scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # what a mounted app sees once the limit is passed
            read.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(sum(read)).encode()})

    app = dyne.App(max_body_size=100)
    app.mount("/reader", reader)
    chunks = iter([b"y" * 60, b"y" * 60, b"y" * 60])

    async def receive():
        chunk = next(chunks)
        return {"type": "http.request", "body": chunk, "more_body": True}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/reader/x", "raw_path": b"/reader/x",
             "query_string": b"", "headers": [(b"transfer-encoding", b"chunked")],
             "scheme": "http", "server": ("t", 80), "client": ("c", 1), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert read == [60]  # the chunk that passed the limit never reached the app


@pytest.mark.server
def test_flask_mount_over_loopback():
    app = dyne.App()
    app.mount("/flask", flask_app())

    @app.route("/")
    def index(req, resp):
        resp.text = "dyne"

    with serve_in_thread(app) as base:
        assert httpx.get(base + "/").text == "dyne"
        # Werkzeug redirects an empty PATH_INFO to "/", as it does behind any prefix
        assert httpx.get(base + "/flask", follow_redirects=True).text == "Hello from Flask!"
        where = httpx.get(base + "/flask/where").json()
        assert (where["script_root"], where["path"]) == ("/flask", "/where")


@pytest.mark.server
def test_app_behind_uvicorn_root_path():
    app = dyne.App()

    @app.route("/hello")
    def hello(req, resp):
        resp.media = {"path": req.path, "base": req.base_url}

    with serve_in_thread(app, root_path="/prefix") as base:
        response = httpx.get(base + "/hello")
        assert response.status_code == 200
        assert response.json()["base"].endswith("/prefix/")
