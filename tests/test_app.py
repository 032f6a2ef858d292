import subprocess
import sys
import textwrap

import pytest
from starlette.middleware.base import BaseHTTPMiddleware

import dyne
from dyne.status import is_400, is_500

# -- hooks ---------------------------------------------------------------------------


def test_before_request_runs_before_every_request(app):
    @app.route(before_request=True)
    def prepare_response(req, resp):
        resp.headers["X-Pizza"] = "42"

    @app.route("/")
    def index(req, resp):
        resp.text = "hello"

    assert app.client.get("/").headers["x-pizza"] == "42"
    assert app.client.get("/not-there").headers["x-pizza"] == "42"


def test_before_hook_that_sets_a_status_short_circuits(app):
    calls = []

    @app.before_request
    async def guard(req, resp):
        if req.headers.get("Authorization") != "Bearer ok":
            resp.status_code = 401
            resp.media = {"error": "unauthorized"}

    @app.route("/")
    def index(req, resp):
        calls.append("view")
        resp.text = "secret"

    response = app.client.get("/")
    assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})
    assert calls == []
    assert app.client.get("/", headers={"Authorization": "Bearer ok"}).text == "secret"
    assert calls == ["view"]


def test_route_local_before_hooks(app):
    def require_role(*roles):
        def check(req, resp):
            if req.headers.get("X-Role") not in roles:
                resp.status_code = 403
                resp.media = {"error": "Insufficient permissions"}

        return check

    @app.route("/admin/users", before_request=require_role("admin"))
    def list_all_users(req, resp):
        resp.media = {"users": []}

    @app.route("/public", before_request=[lambda req, resp: None])
    def public(req, resp):
        resp.text = "open"

    # ``before=`` is the former name of ``before_request=``.
    with pytest.warns(DeprecationWarning, match="use before_request"):
        @app.route("/old", before=require_role("admin"))
        def old(req, resp):
            resp.text = "old"

    assert app.client.get("/admin/users").status_code == 403
    assert app.client.get("/admin/users", headers={"X-Role": "admin"}).json() == {"users": []}
    assert app.client.get("/public").text == "open"
    assert app.client.get("/old").status_code == 403


def test_after_request_runs_for_every_response_including_errors(app):
    log = []

    @app.after_request()
    def log_errors(req, resp):
        if is_400(resp.status_code) or is_500(resp.status_code):
            log.append(f"Error: {req.method} {req.url.path} -> {resp.status_code}")

    @app.after_request
    async def served_by(req, resp):
        resp.headers["X-Served-By"] = "dyne"

    @app.route("/")
    def index(req, resp):
        resp.text = "ok"

    assert app.client.get("/").headers["x-served-by"] == "dyne"
    assert app.client.get("/missing").headers["x-served-by"] == "dyne"
    assert log == ["Error: GET /missing -> 404"]


def test_failing_after_hook_becomes_a_500(app):
    @app.after_request
    def broken(req, resp):
        raise RuntimeError("after hook bug")

    @app.route("/")
    def index(req, resp):
        resp.text = "ok"

    assert app.client.get("/").status_code == 500


# -- middleware -------------------------------------------------------------------------

class SecurityHeadersMiddleware:
    """Pure ASGI middleware, as in the Responder middleware guide."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-frame-options", b"DENY")]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TimingMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, header="X-Process"):
        super().__init__(app)
        self.header = header

    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers[self.header] = "done"
        return response


def test_add_middleware_pure_asgi_and_starlette_style(app):
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TimingMiddleware, header="X-Timing")

    @app.route("/")
    def index(req, resp):
        resp.text = "ok"

    response = app.client.get("/")
    assert response.text == "ok"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-timing"] == "done"


def test_last_added_middleware_is_outermost(app):
    order = []

    def tracer(name):
        class Tracer:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                if scope["type"] == "http":
                    order.append(name)
                await self.app(scope, receive, send)

        return Tracer

    app.add_middleware(tracer("first"))
    app.add_middleware(tracer("second"))
    app.client.get("/")
    assert order == ["second", "first"]


def test_middleware_cannot_be_added_once_serving(app):
    app.client.get("/")
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware(SecurityHeadersMiddleware)


def test_error_in_middleware_is_a_plain_500_in_production(app):
    class Broken:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http":
                raise RuntimeError("middleware bug")
            await self.app(scope, receive, send)

    app.add_middleware(Broken)
    from dyne.testing import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error"
    client.close()


# -- websockets (basic dispatch; the websocket guide has the rest) --------------------------

def test_websocket_route_and_before_hook(app):
    @app.route(before_request=True, websocket=True)
    async def accept_all(ws):
        await ws.accept()

    @app.route("/ws/{room}", websocket=True)
    async def chat(ws, *, room):
        name = await ws.receive_text()
        await ws.send_json({"room": room, "hello": name})
        await ws.close()

    with app.client.websocket_connect("/ws/lobby") as ws:
        ws.send_text("ann")
        assert ws.receive_json() == {"room": "lobby", "hello": "ann"}


def test_websocket_error_closes_with_1011(app):
    from starlette.websockets import WebSocketDisconnect

    @app.route("/ws", websocket=True)
    async def broken(ws):
        await ws.accept()
        raise RuntimeError("ws bug")

    with app.client.websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    assert info.value.code == 1011


# -- extension surface ----------------------------------------------------------------

def test_extensions_registry_and_state(app):
    class Extension:
        def __init__(self, app):
            app.extensions["mine"] = self
            app.state.mine = self

    extension = Extension(app)
    assert app.extensions["mine"] is extension
    assert app.state.mine is extension


def test_compatibility_import_paths():
    from dyne.app import App
    from dyne.config import Config
    from dyne.exceptions import abort
    from dyne.models import Request, Response
    from dyne.routes import Route, WebSocketRoute

    assert App is dyne.App
    assert Request is dyne.Request and Response is dyne.Response
    assert callable(abort) and Config and Route and WebSocketRoute


def test_status_codes_alias(app):
    assert app.status_codes.HTTP_416 == 416
    assert app.status_codes.HTTP_404_NOT_FOUND == 404
    from dyne.status_codes import HTTP_201_CREATED, is_200

    assert HTTP_201_CREATED == 201 and is_200(204)


OPTIONAL = ("pydantic", "marshmallow", "apispec", "strawberry", "graphene", "graphql",
            "sqlalchemy", "alchemical", "alembic", "asyncpg", "aiosqlite", "jinja2",
            "starlette", "yaml", "msgpack", "itsdangerous", "httpx", "httpx2", "uvicorn",
            "loguru", "prometheus_client", "opentelemetry", "redis")


def test_import_is_light_and_fast():
    code = textwrap.dedent(f"""
        import sys, time
        started = time.process_time()  # CPU time: other processes on the machine don't count
        import dyne
        elapsed = time.process_time() - started
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({OPTIONAL!r}))
        print(elapsed, ",".join(heavy))
    """)
    timings = []
    for _ in range(5):
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()
        timings.append(float(output[0]))
        assert len(output) == 1, f"import dyne pulled in: {output[1]}"
    assert min(timings) < 0.15, timings  # the benchmark harness tracks the real number


# -- teardown ---------------------------------------------------------------------------

def test_teardown_sees_success_and_failure(app):
    seen = []

    @app.teardown_request
    async def record(req, resp, exc):
        seen.append((req.url.path, resp.status_code, type(exc).__name__ if exc else None))

    @app.route("/ok")
    def ok(req, resp):
        resp.text = "ok"

    @app.route("/abort")
    def aborted(req, resp):
        from dyne.exceptions import abort

        abort(409)

    @app.route("/crash")
    def crash(req, resp):
        raise RuntimeError("x")

    app.client.get("/ok")
    app.client.get("/abort")
    app.client.get("/crash")
    assert seen == [("/ok", 200, None), ("/abort", 409, "HTTPException"),
                    ("/crash", 500, "RuntimeError")]


def test_teardown_runs_even_when_debug_reraises():
    app = dyne.App(debug=True)
    seen = []
    app.teardown_request(lambda req, resp, exc: seen.append(type(exc).__name__))

    @app.route("/crash")
    def crash(req, resp):
        raise KeyError("x")

    with pytest.raises(KeyError):
        app.client.get("/crash")
    assert seen == ["KeyError"]


def test_failing_teardown_turns_success_into_500(app):
    @app.teardown_request
    def commit(req, resp, exc):
        raise RuntimeError("commit failed")

    @app.route("/")
    def index(req, resp):
        resp.text = "saved"

    response = app.client.get("/")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error")
