import contextlib

import pytest

import dyne
from dyne.testing import AsyncTestClient


def test_startup_and_shutdown_events_sync_and_async():
    app = dyne.App()
    calls = []

    @app.on_event("startup")
    async def startup():
        app.state.admin_email = "admin@example.com"
        calls.append("startup-async")

    @app.on_event("startup")
    def startup_sync():
        calls.append("startup-sync")

    @app.on_event("shutdown")
    async def shutdown():
        calls.append("shutdown")

    @app.route("/config")
    async def get_config(req, resp):
        resp.media = {"contact": req.app.state.admin_email}

    with app.client as client:
        assert client.get("/config").json() == {"contact": "admin@example.com"}
        assert calls == ["startup-async", "startup-sync"]
    assert calls == ["startup-async", "startup-sync", "shutdown"]


def test_lifespan_context_is_entered_first_and_left_last():
    calls = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        calls.append("enter")
        yield {"pool": "the-pool"}
        calls.append("exit")

    app = dyne.App(lifespan=lifespan)

    @app.on_event("startup")
    def startup():
        calls.append("startup")

    @app.on_event("shutdown")
    def shutdown():
        calls.append("shutdown")

    @app.route("/")
    def index(req, resp):
        resp.text = req.app.state.pool

    with app.client as client:
        assert client.get("/").text == "the-pool"
    assert calls == ["enter", "startup", "shutdown", "exit"]


def test_async_generator_lifespan():
    calls = []

    async def lifespan(app):
        calls.append("up")
        yield
        calls.append("down")

    app = dyne.App(lifespan=lifespan)
    with app.client:
        pass
    assert calls == ["up", "down"]


def test_startup_failure_is_reported():
    app = dyne.App()

    @app.on_event("startup")
    def broken():
        raise RuntimeError("cannot connect")

    with pytest.raises(RuntimeError, match="cannot connect"):
        app.client.get("/")


def test_unknown_event_name(app):
    with pytest.raises(ValueError, match="Unknown event"):
        app.on_event("startupp")


def test_app_state_missing_attribute_raises(app):
    with pytest.raises(AttributeError, match="no attribute 'db'"):
        app.state.db  # noqa: B018
    assert getattr(app.state, "db", "default") == "default"
    app.state.db = 1
    del app.state.db
    assert "db" not in app.state


async def test_async_test_client_runs_lifespan():
    app = dyne.App()
    calls = []

    @app.on_event("startup")
    async def up():
        calls.append("up")

    @app.on_event("shutdown")
    async def down():
        calls.append("down")

    @app.route("/")
    async def index(req, resp):
        resp.media = {"calls": list(calls)}

    async with AsyncTestClient(app) as client:
        response = await client.get("/")
        assert response.json() == {"calls": ["up"]}
    assert calls == ["up", "down"]


def test_lifespan_protocol_under_a_real_server(server):
    calls = []
    app = dyne.App()
    app.add_event_handler("startup", lambda: calls.append("startup"))
    app.add_event_handler("shutdown", lambda: calls.append("shutdown"))

    import httpx

    with server(app) as url:
        assert httpx.get(url + "/").status_code == 404
        assert calls == ["startup"]
    assert calls == ["startup", "shutdown"]
