"""Routing as in the published Dyne 2.0.5, with the standard's HEAD, OPTIONS and Allow.

Tried against dyne 2.0.5: a route without ``methods=`` answers GET and refuses
POST/PUT/PATCH/DELETE with 405; a class-based view answers its ``on_<method>``
handlers, and one with ``on_request`` answers every method.
"""

import pytest

import dyne


@pytest.fixture
def app():
    app = dyne.App()

    @app.route("/notes")
    async def notes(req, resp):
        resp.media = ["a note"]

    @app.route("/notes", methods=["POST"])
    async def create(req, resp):
        resp.status_code = 201

    @app.route("/items/{id:int}")
    class Item:
        async def on_get(self, req, resp, *, id):
            resp.media = {"id": id}

        async def on_post(self, req, resp, *, id):
            resp.text = "posted"

    @app.route("/any")
    class Any:
        async def on_request(self, req, resp):
            resp.text = f"{req.method} by on_request"

    return app


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_route_without_methods_answers_get_only(app, method):
    assert app.client.get("/notes").json() == ["a note"]
    assert app.client.post("/notes").status_code == 201
    response = app.client.request(method, "/notes")
    assert response.status_code == 405
    # Published Dyne sends no Allow header; RFC 9110 requires one with a 405.
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_get_route_answers_head_and_options(app):
    head = app.client.head("/notes")
    assert head.status_code == 200 and head.content == b""
    options = app.client.options("/notes")
    assert options.status_code == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_class_based_view_answers_its_handlers(app):
    assert app.client.get("/items/3").json() == {"id": 3}
    assert app.client.post("/items/3").text == "posted"
    refused = app.client.delete("/items/3")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_class_based_view_answers_options_with_its_allow_header(app):
    # Before: 405 to OPTIONS while the Allow header listed OPTIONS.
    response = app.client.options("/items/3")
    assert response.status_code == 200
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_cors_preflight_to_a_class_based_view():
    app = dyne.App(cors=True, cors_params={"allow_origins": ["https://front.example"],
                                           "allow_methods": ["GET", "POST"]})

    @app.route("/items")
    class Items:
        async def on_post(self, req, resp):
            resp.media = {"created": True}

    preflight = app.client.options("/items", headers={
        "Origin": "https://front.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://front.example"
    # A plain OPTIONS (no CORS headers) reaches the view: answered, not 405.
    assert app.client.options("/items").status_code == 200
    response = app.client.post("/items", headers={"Origin": "https://front.example"})
    assert response.json() == {"created": True}
    assert response.headers["access-control-allow-origin"] == "https://front.example"


def test_class_based_view_with_on_request_answers_every_standard_method(app):
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = app.client.request(method, "/any")
        assert response.text == f"{method} by on_request"


def test_explicit_options_handler_of_a_view_wins():
    app = dyne.App()

    @app.route("/custom")
    class Custom:
        async def on_get(self, req, resp):
            resp.text = "get"

        async def on_options(self, req, resp):
            resp.headers["X-Custom"] = "yes"

    assert app.client.options("/custom").headers["x-custom"] == "yes"


def test_two_get_views_on_one_path_are_refused():
    app = dyne.App()

    @app.route("/dup")
    async def first(req, resp):
        pass

    with pytest.raises(ValueError, match="already has a GET handler"):
        @app.route("/dup")
        async def second(req, resp):
            pass


def test_openapi_document_agrees_with_the_server(app):
    from dyne.ext.openapi import OpenAPI

    OpenAPI(app, title="Notes", version="1")
    paths = app.client.get("/schema.json").json()["paths"]
    assert set(paths["/notes"]) == {"get", "post"}
    assert set(paths["/items/{id}"]) == {"get", "post"}
