"""Per-route ``after_request=``, ``max_body_size=`` and ``timeout=``."""

import asyncio
import time

import pytest

import dyne


def test_after_request_hooks_run_after_the_view(app):
    calls = []

    def stamp(req, resp):
        calls.append(("sync", resp.text))
        resp.headers["X-After"] = "sync"

    async def audit(req, resp):
        calls.append(("async", resp.headers.get("X-After")))
        resp.headers["X-Audit"] = "yes"

    @app.after_request()
    def app_wide(req, resp):
        calls.append(("app", resp.headers.get("X-Audit")))

    @app.route("/a", after_request=[stamp, audit])
    def view(req, resp):
        resp.text = "body"

    @app.route("/b", after=stamp)
    def other(req, resp):
        resp.text = "b"

    @app.route("/boom", after_request=stamp)
    def boom(req, resp):
        raise dyne.HTTPException(418)

    response = app.client.get("/a")
    assert response.headers["x-after"] == "sync" and response.headers["x-audit"] == "yes"
    assert calls == [("sync", "body"), ("async", "sync"), ("app", "yes")]
    assert app.client.get("/b").headers["x-after"] == "sync"
    calls.clear()
    assert app.client.get("/boom").status_code == 418
    assert ("sync", None) not in calls and all(kind != "sync" for kind, _ in calls)
    with pytest.raises(TypeError, match="callables"):
        app.add_route("/bad", view, after_request=[42])


def test_route_body_limit(app):
    @app.route("/small", methods=["POST"], max_body_size=10)
    async def small(req, resp):
        resp.text = str(len(await req.content))

    @app.route("/big", methods=["POST"], max_body_size=None)
    async def big(req, resp):
        resp.text = str(len(await req.content))

    @app.route("/default", methods=["POST"])
    async def default(req, resp):
        resp.text = str(len(await req.content))

    assert app.client.post("/small", content=b"x" * 10).text == "10"
    assert app.client.post("/small", content=b"x" * 11).status_code == 413

    def chunks():
        yield b"x" * 6
        yield b"x" * 6

    # No Content-Length: refused while reading.
    assert app.client.post("/small", content=chunks()).status_code == 413
    app.max_body_size = 100
    assert app.client.post("/default", content=b"x" * 101).status_code == 413
    assert app.client.post("/big", content=b"x" * 1000).text == "1000"
    with pytest.raises(ValueError, match="max_body_size"):
        app.add_route("/neg", small, max_body_size=-1)


def test_timeout_answers_504(app):
    @app.route("/slow", timeout=0.2)
    async def slow(req, resp):
        await asyncio.sleep(5)
        resp.text = "late"

    @app.route("/slow-sync", timeout=0.2)
    def slow_sync(req, resp):
        time.sleep(1)
        resp.text = "late"

    @app.route("/quick", timeout=5)
    async def quick(req, resp):
        return {"ok": True}, 201

    started = time.monotonic()
    response = app.client.get("/slow")
    assert response.status_code == 504
    assert time.monotonic() - started < 3
    started = time.monotonic()
    assert app.client.get("/slow-sync").status_code == 504
    assert time.monotonic() - started < 0.9
    response = app.client.get("/quick")
    assert (response.status_code, response.json()) == (201, {"ok": True})
    with pytest.raises(ValueError, match="timeout"):
        app.add_route("/zero", quick, timeout=0)


def test_timeout_on_class_based_views(app):
    @app.route("/view", timeout=0.2)
    class Slow:
        async def on_get(self, req, resp):
            await asyncio.sleep(5)

    assert app.client.get("/view").status_code == 504
