"""The debug error page: dyne's own, only in debug mode, escaped."""

from __future__ import annotations

import httpx
import pytest

import dyne
from dyne.testing import TestClient


def failing_app(debug: bool) -> dyne.App:
    app = dyne.App(debug=debug)

    @app.route("/items/{item_id:int}/{name}", methods=["GET"])
    def show(req, resp, *, item_id, name):
        raise ValueError(f"no item {item_id} called {name}")

    @app.route("/chained", methods=["GET"])
    def chained(req, resp):
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc

    @app.route("/echo", methods=["GET"])
    def echo(req, resp):
        raise RuntimeError(req.params.get("q", ""))

    return app


def client(app: dyne.App) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


HTML = {"accept": "text/html,application/xhtml+xml"}


def test_debug_page_names_dyne_exception_request_route_and_source():
    response = client(failing_app(True)).get("/items/42/widget?colour=red", headers=HTML)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert page.startswith("<!doctype html>")
    assert "<title>ValueError · dyne debugger</title>" in page
    assert "Starlette" not in page
    assert f"dyne {dyne.__version__}" in page
    assert "no item 42 called widget" in page
    # the request, its query and the matched route with typed parameters
    assert "/items/42/widget?colour=red" in page
    assert "<th>colour</th><td><code>red</code>" in page
    assert "/items/{item_id:int}/{name}" in page
    assert "<th>item_id</th><td><code>42</code>" in page
    assert "<th>name</th><td><code>&#x27;widget&#x27;</code>" in page
    assert "tests.test_debug.failing_app.&lt;locals&gt;.show" in page
    # the traceback with this file's source around the raising line
    assert __file__ in page
    assert 'raise ValueError(f&quot;no item {item_id} called {name}&quot;)' in page
    assert 'class="line current"' in page


def test_debug_page_shows_the_cause_chain():
    page = client(failing_app(True)).get("/chained", headers=HTML).text
    assert page.index("KeyError") < page.index("direct cause") < page.rindex("lookup failed")


def test_client_controlled_text_is_escaped_and_credentials_hidden():
    attack = "<script>alert(1)</script>"
    response = client(failing_app(True)).get(
        "/echo", params={"q": attack},
        headers={**HTML, "authorization": "Bearer s3cret", "cookie": "session=s3cret",
                 "x-evil": '"><img src=x onerror=alert(2)>'})
    page = response.text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "s3cret" not in page
    assert "<th>authorization</th><td><code>(hidden)</code>" in page


def test_clients_not_asking_for_html_get_text():
    response = client(failing_app(True)).get("/items/1/a", headers={"accept": "application/json"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith(f"dyne {dyne.__version__} debug: ValueError: no item 1 called a")
    assert "Traceback (most recent call last)" in response.text


def test_error_before_routing_has_no_route():
    app = dyne.App(debug=True)

    @app.before_request()
    def broken(req, resp):
        raise LookupError("in a hook")

    page = client(app).get("/anything", headers=HTML).text
    assert "LookupError" in page and "No route matched" in page


def test_production_stays_a_plain_500():
    response = client(failing_app(False)).get("/items/42/widget", headers=HTML)
    assert (response.status_code, response.text) == (500, "500 Internal Server Error")
    assert "Traceback" not in response.text


def test_exception_still_reaches_the_test_client():
    with pytest.raises(ValueError, match="no item 7"):
        failing_app(True).client.get("/items/7/x")


def test_debug_page_under_uvicorn(server):
    with server(failing_app(True)) as url:
        response = httpx.get(f"{url}/items/5/bolt?x=<b>", headers=HTML)
        assert response.status_code == 500
        assert "dyne debugger" in response.text
        assert "no item 5 called bolt" in response.text
        assert "&lt;b&gt;" in response.text and "x=<b>" not in response.text
        # the server keeps serving after the error
        assert httpx.get(f"{url}/items/6/nut", headers=HTML).status_code == 500
    with server(failing_app(False)) as url:
        response = httpx.get(f"{url}/items/5/bolt", headers=HTML)
        assert (response.status_code, response.text) == (500, "500 Internal Server Error")
