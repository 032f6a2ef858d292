"""App helpers of the published Dyne 2.0.5 (tried against 2.0.5)."""

import asyncio
import os

import pytest

import dyne
from dyne.testing import TestClient


def test_session_is_a_test_client_with_its_own_cookies():
    app = dyne.App(secret_key="s")

    @app.route("/count")
    def count(req, resp):
        req.session["n"] = req.session.get("n", 0) + 1
        resp.media = {"n": req.session["n"]}

    first, second = app.session(), app.session()
    assert isinstance(first, TestClient)
    assert [first.get("/count").json()["n"] for _ in range(2)] == [1, 2]
    assert second.get("/count").json() == {"n": 1}
    remote = app.session(base_url="http://example.com")
    assert str(remote.get("/count").url) == "http://example.com/count"


def test_redirect_helper():
    app = dyne.App()

    @app.route("/old")
    def old(req, resp):
        app.redirect(resp, location="/new")

    @app.route("/moved")
    def moved(req, resp):
        app.redirect(resp, location="/new", status_code=301)

    @app.route("/quiet")
    def quiet(req, resp):
        app.redirect(resp, location="/new", set_text=False)

    response = app.client.get("/old", follow_redirects=False)
    # Dyne 2.0.5 defaults to 301; dyne to 302 (see the migration page).
    assert (response.status_code, response.headers["location"]) == (302, "/new")
    assert response.text == "Redirecting to: /new"
    assert app.client.get("/moved", follow_redirects=False).status_code == 301
    assert app.client.get("/quiet", follow_redirects=False).content == b""


def test_resp_redirect_sends_the_published_body():
    app = dyne.App()

    @app.route("/go")
    def go(req, resp):
        resp.redirect("/there")

    response = app.client.get("/go", follow_redirects=False)
    assert response.text == "Redirecting to: /there"
    assert response.headers["content-type"].startswith("text/plain")


def test_path_matches_route():
    app = dyne.App()

    @app.route("/users/{id:int}")
    def user(req, resp, *, id):
        pass

    route = app.path_matches_route({"type": "http", "path": "/users/3", "method": "GET"})
    assert route is not None and route.endpoint is user
    # As published: the path decides, whatever the method.
    assert app.path_matches_route({"type": "http", "path": "/users/3", "method": "POST"}) is route
    assert app.path_matches_route({"type": "http", "path": "/nope", "method": "GET"}) is None
    assert app.path_matches_route({"type": "http", "path": "/users/x", "method": "GET"}) is None


def test_auto_escape_is_accepted_and_templates_stay_escaped(tmp_path):
    (tmp_path / "page.html").write_text("{{ x }}")
    for flag in (True, False):
        app = dyne.App(auto_escape=flag, templates_dir=tmp_path)
        assert app.template("page.html", x="<b>") == "&lt;b&gt;"
        assert app.template_string("{{ x }}", x="<b>") == "&lt;b&gt;"


def test_static_route_none_falls_back_to_the_static_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("assets")
    (tmp_path / "assets" / "a.txt").write_text("A")
    app = dyne.App(static_dir="assets", static_route=None)
    assert app.static_route == "/assets"
    assert app.client.get("/assets/a.txt").text == "A"
    assert dyne.App(static_route=None).static_route == "/static"


def test_router_trigger_event_runs_lifespan_handlers():
    app = dyne.App()
    events = []

    @app.on_event("startup")
    async def start():
        events.append("startup")

    @app.on_event("shutdown")
    def stop():
        events.append("shutdown")

    asyncio.run(app.router.trigger_event("startup"))
    assert events == ["startup"]
    asyncio.run(app.router.trigger_event("shutdown"))
    assert events == ["startup", "shutdown"]
    with pytest.raises(ValueError, match="Unknown event"):
        asyncio.run(app.router.trigger_event("reload"))
