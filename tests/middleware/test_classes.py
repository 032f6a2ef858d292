"""Middleware classes (seed 002's ``MiddlewareBase``): ``await self.next(req)``,
short-circuits, order (first registered outermost), errors reaching the app's
error handlers, registration errors, and a real server."""

from __future__ import annotations

import time

import httpx
import pytest

import dyne
from dyne.middleware import MiddlewareBase
from tests.conftest import serve_in_thread


class TimingMW(MiddlewareBase):
    """Seed 002's example, verbatim but for the imports."""

    async def middleware(self, req):
        t0 = time.perf_counter()
        res = await self.next(req)  # pass down
        res.headers["x-process-time-ms"] = str(int((time.perf_counter() - t0) * 1000))
        return res


def recorder(name, log):
    class Recorder(MiddlewareBase):
        async def middleware(self, req):
            log.append(f"{name} in")
            try:
                return await self.next(req)
            finally:
                log.append(f"{name} out")

    Recorder.__qualname__ = f"Recorder{name}"
    return Recorder


@pytest.fixture
def app():
    app = dyne.App()

    @app.route("/")
    async def index(req, resp):
        resp.media = {"hello": "world"}

    @app.route("/boom")
    async def boom(req, resp):
        raise LookupError("no such thing")

    return app


def test_the_seed_timing_middleware_adds_its_header(app):
    app.add_middleware_class(TimingMW)
    response = app.client.get("/")
    assert response.json() == {"hello": "world"}
    assert response.headers["x-process-time-ms"].isdigit()


def test_first_registered_is_outermost(app):
    log = []
    app.add_middleware_class(recorder("A", log))
    app.add_middleware_class(recorder("B", log))
    assert app.client.get("/").status_code == 200
    assert log == ["A in", "B in", "B out", "A out"]
    assert [cls.__qualname__ for cls in app.middleware_classes] == ["RecorderA", "RecorderB"]


def test_short_circuit_with_a_response_skips_the_view_and_inner_middleware(app):
    log = []
    seen = []

    class Guard(MiddlewareBase):
        async def middleware(self, req):
            if req.headers.get("x-token") != "secret":
                resp = dyne.Response()  # the chain gives it the request
                resp.status_code = 401
                resp.media = {"error": "token required"}
                return resp
            return await self.next(req)

    @app.route("/seen")
    async def seen_view(req, resp):
        seen.append(True)

    app.add_middleware_class(Guard)
    app.add_middleware_class(recorder("inner", log))
    assert app.client.get("/seen", headers={"x-token": "wrong", "Accept": "application/yaml"}
                          ).text == "error: token required\n"
    refused = app.client.get("/seen")
    assert (refused.status_code, refused.json()) == (401, {"error": "token required"})
    assert seen == [] and log == []
    assert app.client.get("/seen", headers={"x-token": "secret"}).status_code == 200
    assert seen == [True] and log == ["inner in", "inner out"]


@pytest.mark.parametrize(("returned", "status", "body"), [
    ({"denied": True}, 200, b'{"denied":true}'),
    (({"denied": True}, 403), 403, b'{"denied":true}'),
    (("maintenance", 503, {"Retry-After": "60"}), 503, b"maintenance"),
    (b"raw", 200, b"raw"),
])
def test_short_circuit_with_what_a_view_may_return(app, returned, status, body):
    class Answer(MiddlewareBase):
        async def middleware(self, req):
            return returned

    app.add_middleware_class(Answer)
    response = app.client.get("/")
    assert (response.status_code, response.content) == (status, body)
    if status == 503:
        assert response.headers["retry-after"] == "60"


def test_outer_middleware_sees_the_response_an_inner_one_built(app):
    class Outer(MiddlewareBase):
        async def middleware(self, req):
            resp = await self.next(req)
            resp.headers["x-outer"] = str(resp.status_code)
            return resp

    class Inner(MiddlewareBase):
        async def middleware(self, req):
            return {"from": "inner"}, 202

    app.add_middleware_class(Outer)
    app.add_middleware_class(Inner)
    response = app.client.get("/")
    assert response.json() == {"from": "inner"}
    assert response.headers["x-outer"] == "202"


def test_view_errors_go_through_the_middleware_to_the_error_handlers(app):
    class Timing(MiddlewareBase):
        async def middleware(self, req):
            t0 = time.perf_counter()
            try:
                return await self.next(req)
            finally:
                req.state.elapsed = time.perf_counter() - t0

    @app.error_handler(LookupError)
    async def not_found(req, resp, exc):
        resp.status_code = 404
        resp.media = {"error": str(exc), "timed": req.state.elapsed >= 0}

    app.add_middleware_class(Timing)
    response = app.client.get("/boom")
    assert (response.status_code, response.json()) == (404, {"error": "no such thing",
                                                             "timed": True})


def test_http_errors_reach_status_handlers_through_the_chain(app):
    app.add_middleware_class(TimingMW)

    @app.error_handler(404)
    async def missing(req, resp, exc):
        resp.media = {"missing": req.path}

    response = app.client.get("/nowhere")
    assert (response.status_code, response.json()) == (404, {"missing": "/nowhere"})
    # The error escaped the middleware (which therefore added no header).
    assert "x-process-time-ms" not in response.headers


def test_errors_raised_by_a_middleware_reach_the_error_handlers(app):
    class Broken(MiddlewareBase):
        async def middleware(self, req):
            raise PermissionError("middleware says no")

    @app.error_handler(PermissionError)
    def forbidden(req, resp, exc):
        resp.status_code = 403
        resp.text = str(exc)

    app.add_middleware_class(Broken)
    response = app.client.get("/")
    assert (response.status_code, response.text) == (403, "middleware says no")


def test_an_error_handled_inside_the_middleware_never_reaches_the_handlers(app):
    handled = []

    class Catch(MiddlewareBase):
        async def middleware(self, req):
            try:
                return await self.next(req)
            except LookupError:
                return {"caught": True}, 410

    @app.error_handler(LookupError)
    def handler(req, resp, exc):
        handled.append(exc)

    app.add_middleware_class(Catch)
    response = app.client.get("/boom")
    assert (response.status_code, response.json()) == (410, {"caught": True})
    assert handled == []


def test_returning_nothing_is_a_server_error_naming_the_middleware(app, caplog):
    class Forgetful(MiddlewareBase):
        async def middleware(self, req):
            await self.next(req)

    app.add_middleware_class(Forgetful)
    assert app.client.get("/").status_code == 500
    assert "Forgetful.middleware returned None" in caplog.text

    debug_app = dyne.App(debug=True)
    debug_app.add_route("/", lambda req, resp: None)
    debug_app.add_middleware_class(Forgetful)
    with pytest.raises(TypeError, match=r"Forgetful.middleware returned None: return await "
                                        r"self.next\(req\)"):
        debug_app.client.get("/")


def test_returning_an_unknown_value_names_the_middleware():
    class Odd(MiddlewareBase):
        async def middleware(self, req):
            return 42

    app = dyne.App(debug=True)
    app.add_middleware_class(Odd)
    with pytest.raises(TypeError, match=r"Odd\.middleware returned int; return a Response"):
        app.client.get("/")


def test_middleware_sees_the_app_and_keeps_one_instance(app):
    instances = []

    class Counter(MiddlewareBase):
        def __init__(self, app, next):
            super().__init__(app, next)
            instances.append(self)
            self.count = 0

        async def middleware(self, req):
            self.count += 1
            resp = await self.next(req)
            resp.headers["x-app-routes"] = str(len(self.app.routes))
            resp.headers["x-count"] = str(self.count)
            return resp

    app.add_middleware_class(Counter)
    assert app.client.get("/").headers["x-count"] == "1"
    second = app.client.get("/")
    assert second.headers["x-count"] == "2" and second.headers["x-app-routes"] == "2"
    assert len(instances) == 1 and instances[0].app is app


def test_import_string_registration(app):
    app.add_middleware_class("tests.middleware.test_classes:TimingMW")
    assert "x-process-time-ms" in app.client.get("/").headers


def test_registration_errors(app):
    class NoMethod(MiddlewareBase):
        pass

    class SyncMethod(MiddlewareBase):
        def middleware(self, req):  # type: ignore[override]
            return None

    with pytest.raises(TypeError, match=r"subclass dyne\.middleware\.MiddlewareBase"):
        app.add_middleware_class(dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="NoMethod must define async def middleware"):
        app.add_middleware_class(NoMethod)
    with pytest.raises(TypeError, match=r"SyncMethod\.middleware must be async"):
        app.add_middleware_class(SyncMethod)
    with pytest.raises(ImportError, match="has no attribute 'Nope'"):
        app.add_middleware_class("tests.middleware.test_classes:Nope")
    app.add_middleware_class(TimingMW)
    with pytest.raises(ValueError, match="TimingMW is already registered"):
        app.add_middleware_class(TimingMW)
    app.client.get("/")
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware_class(recorder("late", []))


def test_websockets_are_not_routed_through_middleware_classes(app):
    log = []
    app.add_middleware_class(recorder("mw", log))

    @app.route("/ws", websocket=True)
    async def ws(ws):
        await ws.accept()
        await ws.send_text("hi")
        await ws.close()

    with app.client.websocket_connect("/ws") as connection:
        assert connection.receive_text() == "hi"
    assert log == []


def test_under_a_real_server(app):
    class Guard(MiddlewareBase):
        async def middleware(self, req):
            if req.path.startswith("/admin"):
                return {"error": "forbidden"}, 403
            return await self.next(req)

    app.add_middleware_class(TimingMW)
    app.add_middleware_class(Guard)
    with serve_in_thread(app) as url:
        ok = httpx.get(f"{url}/")
        refused = httpx.get(f"{url}/admin/users")
    assert ok.json() == {"hello": "world"} and ok.headers["x-process-time-ms"].isdigit()
    assert refused.status_code == 403 and refused.json() == {"error": "forbidden"}
    assert refused.headers["x-process-time-ms"].isdigit()
