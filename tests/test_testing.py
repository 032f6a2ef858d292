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
