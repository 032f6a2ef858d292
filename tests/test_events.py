"""The event bus (app.emit / @app.listener) and resp.background: work run
after the response has been sent."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

import dyne
from tests.conftest import serve_in_thread


def test_listeners_run_after_the_response_in_registration_order(app):
    order = []

    @app.listener("user.created")
    async def first(user, *, source):
        order.append(("first", user, source))

    @app.listener("user.created")
    def second(user, *, source):  # sync: in the thread pool
        order.append(("second", user, threading.current_thread().name != "MainThread"))

    @app.route("/users", methods=["POST"])
    async def create(req, resp):
        assert app.emit("user.created", "ada", source="signup") is None  # deferred
        order.append("view done")
        resp.status_code = 201

    assert app.client.post("/users").status_code == 201
    assert app.background.wait(5)
    assert order == ["view done", ("first", "ada", "signup"), ("second", "ada", True)]


def test_emit_from_a_sync_view_and_a_hook_is_deferred_too(app):
    order = []
    app.listener("seen")(order.append)

    @app.before_request
    def hook(req, resp):
        assert app.emit("seen", "hook") is None

    @app.route("/")
    def index(req, resp):  # runs in the thread pool: the context goes with it
        assert app.emit("seen", "view") is None
        order.append("view done")

    app.client.get("/")
    assert app.background.wait(5)
    assert order == ["view done", "hook", "view"]


def test_another_apps_event_emitted_during_a_request_runs_that_apps_listeners(app):
    other = dyne.App()
    got = []
    app.listener("mine")(lambda: got.append("app"))
    other.listener("theirs")(lambda: got.append("other"))

    @app.route("/")
    def index(req, resp):
        assert other.emit("theirs") is None  # deferred with this request's events
        app.emit("mine")

    app.client.get("/")
    assert app.background.wait(5)
    assert got == ["other", "app"]


def test_emit_outside_a_request_runs_at_once_and_returns_the_task(app):
    got = []

    @app.listener("tick")
    async def on_tick(n):
        got.append(n)

    async def main():
        task = app.emit("tick", 1)
        await task
        assert app.emit("nobody.listens", 2) is None

    asyncio.run(main())
    assert got == [1]


def test_a_failing_listener_is_logged_with_the_event_name_and_the_next_one_runs(app, caplog):
    got = []

    @app.listener("order.paid")
    def broken(order_id):
        raise ValueError("mail server down")

    @app.listener("order.paid")
    def still_runs(order_id):
        got.append(order_id)

    @app.route("/pay")
    def pay(req, resp):
        app.emit("order.paid", 42)
        resp.text = "paid"

    with caplog.at_level(logging.ERROR, logger="dyne.events"):
        assert app.client.get("/pay").text == "paid"  # the response is not affected
        assert app.background.wait(5)
    assert got == [42]
    (record,) = [r for r in caplog.records if r.name == "dyne.events"]
    assert "'order.paid'" in record.getMessage() and "broken" in record.getMessage()
    assert isinstance(record.exc_info[1], ValueError)


def test_events_emitted_in_a_failing_request_still_run(app):
    got = []
    app.listener("audit")(got.append)

    @app.route("/fail")
    def fail(req, resp):
        app.emit("audit", "attempt")
        dyne.abort(403)

    assert app.client.get("/fail").status_code == 403
    assert app.background.wait(5)
    assert got == ["attempt"]


def test_an_emit_from_a_task_that_outlives_the_request_is_not_lost(app):
    got = []
    app.listener("late")(got.append)
    release = threading.Event()

    @app.route("/")
    def index(req, resp):
        def later():
            release.wait(5)
            app.emit("late", "after the request")  # the request's context, already flushed

        app.background.run(later)
        resp.text = "ok"

    assert app.client.get("/").text == "ok"
    release.set()
    assert app.background.wait(5)
    assert got == ["after the request"]


def test_misuse_is_refused_at_registration(app):
    with pytest.raises(TypeError, match="non-empty strings"):
        app.listener("")
    with pytest.raises(TypeError, match="non-empty strings"):
        app.emit(None)
    with pytest.raises(TypeError, match="must be callable"):
        app.events.add_listener("x", "not a function")
    with pytest.raises(TypeError, match="needs a callable"):
        dyne.Response().background("not a function")


def test_remove_listener(app):
    got = []
    app.listener("e")(got.append)
    app.events.remove_listener("e", got.append)
    assert app.emit("e", 1) is None and got == []


def test_resp_background_runs_after_the_body_and_in_order(app, caplog):
    order = []

    async def notify(who):
        order.append(f"notify {who}")

    def explode():
        raise RuntimeError("task failed")

    @app.route("/")
    async def index(req, resp):
        resp.background(notify, "ada")
        resp.background(explode)

        @resp.background
        def cleanup():
            order.append("cleanup")

        @resp.stream
        async def body():
            yield "a"
            order.append("body sent")

    with caplog.at_level(logging.ERROR, logger="dyne.background"):
        assert app.client.get("/").text == "a"
        assert app.background.wait(5)
    assert order == ["body sent", "notify ada", "cleanup"]
    assert any("explode" in r.getMessage() for r in caplog.records)


def test_background_wait_refuses_to_block_the_event_loop(app):
    async def main():
        app.background.wait()

    with pytest.raises(RuntimeError, match="drain"):
        asyncio.run(main())


def test_events_are_drained_at_shutdown(app):
    got = []

    @app.listener("slow")
    async def slow(n):
        await asyncio.sleep(0.2)
        got.append(n)

    @app.route("/")
    def index(req, resp):
        app.emit("slow", 1)

    app.client.get("/")
    app.client.close()  # shutdown waits for pending background work
    assert got == [1]


def _raw_get(url: str, path: str) -> tuple[bytes, float]:
    """GET over a raw socket: the bytes up to the end of the body, and when
    they had all arrived (time.monotonic)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if data.endswith(b"0\r\n\r\n") or (b"content-length" in data.lower()
                                                 and data.endswith(b"end-of-body")):
                break
        return data, time.monotonic()


@pytest.mark.server
def test_under_uvicorn_the_client_has_the_whole_response_before_the_work_starts():
    app = dyne.App()
    started: dict[str, float] = {}

    def task_after_response():
        started["task"] = time.monotonic()

    @app.listener("page.viewed")
    def listener(path):
        started["listener"] = time.monotonic()

    @app.route("/")
    async def index(req, resp):
        resp.background(task_after_response)
        app.emit("page.viewed", "/")

        @resp.stream
        async def body():
            yield "x" * 100_000
            await asyncio.sleep(0.3)  # the last byte leaves 0.3 s after the first
            yield "end-of-body"

    with serve_in_thread(app) as url:
        data, received = _raw_get(url, "/")
        assert data.endswith(b"end-of-body\r\n0\r\n\r\n")
        deadline = time.monotonic() + 10
        while len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert started["task"] >= received - 0.05 and started["listener"] >= received - 0.05
