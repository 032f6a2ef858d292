"""dyne.testing.live_server and the live_server pytest fixture (the pytest11
plugin), run from a user's test file by pytester."""

from __future__ import annotations

import asyncio
import textwrap

import httpx
import pytest

import dyne
from dyne.testing import live_server

pytest_plugins = ["pytester"]


@pytest.mark.server
def test_live_server_serves_the_app_with_its_lifespan():
    app = dyne.App()
    events = []
    app.add_event_handler("startup", lambda: events.append("startup"))
    app.add_event_handler("shutdown", lambda: events.append("shutdown"))

    @app.route("/")
    def index(req, resp):
        resp.media = {"host": req.url.hostname, "port": req.url.port}

    @app.route("/ws", websocket=True)
    async def ws(ws):
        await ws.accept()
        await ws.send_text("hi")
        await ws.close()

    with live_server(app) as server:
        assert events == ["startup"]
        assert server.url == f"http://127.0.0.1:{server.port}" == str(server)
        assert httpx.get(server.url_for("/")).json() == {"host": "127.0.0.1", "port": server.port}

        from websockets.asyncio.client import connect

        async def greet():
            async with connect(server.ws_url + "/ws") as client:
                return await client.recv()

        assert asyncio.run(greet()) == "hi"
    assert events == ["startup", "shutdown"]
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url, timeout=2)


def test_a_server_that_cannot_start_is_reported():
    app = dyne.App()

    @app.on_event("startup")
    def fail():
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="stopped while starting"), live_server(app):
        pass


USER_CONFTEST = """
import pytest
import dyne

app = dyne.App()

@app.route("/hello")
def hello(req, resp):
    resp.text = "hello from " + req.url.hostname

@pytest.fixture
def dyne_app():
    return app
"""

USER_TESTS = """
import httpx

def test_home(live_server):
    r = httpx.get(live_server.url + "/hello")
    assert r.text == "hello from 127.0.0.1"

def test_each_test_gets_a_running_server(live_server):
    assert httpx.get(live_server.url_for("hello")).status_code == 200
"""


@pytest.mark.server
def test_the_fixture_in_a_users_test_suite(pytester):
    """One pytest subprocess (the plugin must be found through its pytest11
    entry point): a project whose conftest.py defines ``dyne_app``, and a
    folder without one, where the fixture's error says what to do."""
    project = pytester.mkpydir("project")
    (project / "conftest.py").write_text(USER_CONFTEST)
    (project / "test_user.py").write_text(USER_TESTS)
    plain = pytester.mkpydir("plain")
    (plain / "test_plain.py").write_text(textwrap.dedent("""
        def test_needs_an_app(live_server):
            pass

        def test_unrelated():
            pass
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*a `dyne_app` fixture returns: define that fixture in your conftest.py*"])
