"""The test client takes the ``httpx`` package's auth objects, as the
published Dyne 2.0.5's (Starlette's httpx client) does."""

import asyncio

import httpx
import pytest

import dyne
from dyne.ext.auth import BasicAuth, DigestAuth, authenticate
from dyne.testing import AsyncTestClient


@pytest.fixture
def app():
    app = dyne.App()
    basic = BasicAuth()
    digest = DigestAuth()

    @basic.verify_password
    async def verify(username, password):
        return username if password == "pw" else None

    @digest.get_password
    async def password_of(username):
        return "pw" if username == "ada" else None

    @app.route("/basic")
    @authenticate(basic)
    async def with_basic(req, resp):
        resp.text = "basic ok"

    @app.route("/digest")
    @authenticate(digest)
    async def with_digest(req, resp):
        resp.text = "digest ok"

    return app


def test_httpx_basic_and_digest_auth_with_app_client(app):
    assert app.client.get("/basic", auth=httpx.BasicAuth("u", "pw")).text == "basic ok"
    assert app.client.get("/basic", auth=httpx.BasicAuth("u", "no")).status_code == 401
    assert app.client.get("/digest", auth=httpx.DigestAuth("ada", "pw")).text == "digest ok"
    assert app.client.get("/digest", auth=httpx.DigestAuth("ada", "no")).status_code == 401
    assert app.client.get("/basic", auth=("u", "pw")).status_code == 200


def test_httpx_auth_for_a_whole_session(app):
    session = app.session(auth=httpx.DigestAuth("ada", "pw"))
    assert session.get("/digest").text == "digest ok"
    assert app.session().get("/basic", auth=httpx.BasicAuth("u", "pw")).status_code == 200


def test_httpx_auth_with_the_async_client(app):
    async def run():
        async with AsyncTestClient(app) as client:
            return (await client.get("/digest", auth=httpx.DigestAuth("ada", "pw"))).text

    assert asyncio.run(run()) == "digest ok"
