import pytest

import dyne
from dyne.testing import AsyncTestClient, TestClient


def test_app_client_matches_the_documented_example():
    app = dyne.App()
    hello = "hello, world!"

    @app.route("/some-url")
    def some_view(req, resp):
        resp.text = hello

    r = app.client.get(url=app.url_for(some_view))
    assert r.text == hello


def test_app_client_is_cached_and_restartable():
    app = dyne.App()
    starts = []
    app.add_event_handler("startup", lambda: starts.append(1))
    assert app.client is app.client
    app.client.get("/")
    app.client.get("/")
    assert starts == [1]
    app.client.stop()
    assert not app.client.started
    app.client.get("/")
    assert starts == [1, 1]
    app.client.close()


def test_clients_share_one_event_loop():
    first, second = dyne.App(), dyne.App()
    assert TestClient(first).portal is TestClient(second).portal


def test_absolute_urls_work():
    app = dyne.App()

    @app.route("/native-upload", methods=["POST"])
    def upload(req, resp):
        resp.text = req.url.hostname

    assert app.client.post("http://;/native-upload").text == ";"
    assert app.client.post("http://example.org/native-upload").text == "example.org"


async def test_async_client_without_lifespan():
    app = dyne.App()
    started = []
    app.add_event_handler("startup", lambda: started.append(1))

    @app.route("/")
    async def index(req, resp):
        resp.media = {"ok": True}

    async with AsyncTestClient(app, lifespan=False) as client:
        assert (await client.get("/")).json() == {"ok": True}
    assert started == []


# -- ``async with TestClient(app)`` (seed 002's test client) ---------------------------------


def _lifecycle_app():
    app = dyne.App()
    events: list[str] = []

    @app.on_event("startup")
    async def startup():
        events.append("startup")
        app.state.users = ["ada"]

    @app.on_event("shutdown")
    async def shutdown():
        events.append("shutdown")

    @app.route("/api/v1/users")
    async def users(req, resp):
        resp.media = req.app.state.users

    @app.route("/api/v1/users", methods=["POST"])
    async def create(req, resp):
        req.app.state.users.append((await req.media())["name"])
        resp.status_code = 201

    return app, events


@pytest.fixture
async def application():
    app, _ = _lifecycle_app()
    yield app


@pytest.fixture
async def client(application):
    async with TestClient(application) as c:
        yield c


async def test_get_users(client):
    """Seed 002's fixture pair and test, as written there."""
    res = await client.get("/api/v1/users")
    assert res.status_code == 200


async def test_async_with_test_client_runs_the_lifespan_around_awaitable_requests():
    app, events = _lifecycle_app()
    async with TestClient(app) as c:
        assert events == ["startup"]
        assert (await c.post("/api/v1/users", json={"name": "bo"})).status_code == 201
        assert (await c.get("/api/v1/users")).json() == ["ada", "bo"]
    assert events == ["startup", "shutdown"]
    # The synchronous client keeps working on the same app afterwards.
    assert app.client.get("/api/v1/users").json() == ["ada"]
    app.client.close()
    assert events == ["startup", "shutdown", "startup", "shutdown"]


async def test_async_with_refuses_a_client_already_started_synchronously():
    app, _ = _lifecycle_app()
    client = TestClient(app)
    client.start()
    try:
        with pytest.raises(RuntimeError, match="already in use"):
            async with client:
                pass
    finally:
        client.close()
