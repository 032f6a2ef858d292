"""``@app.route(..., request_model=, response_model=)`` (Responder's options)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import dyne


class ItemIn(BaseModel):
    name: str
    price: float


class ItemOut(BaseModel):
    id: int
    name: str
    price: float


def test_responder_example(app):
    @app.route("/items", methods=["POST"], request_model=ItemIn, response_model=ItemOut)
    async def create_item(req, resp):
        data = await req.media()
        resp.media = {"id": 1, **data}

    response = app.client.post("/items", json={"name": "Pen", "price": "1.5", "color": "red"})
    assert (response.status_code, response.json()) == (200, {"id": 1, "name": "Pen", "price": 1.5})


def test_invalid_input_is_422_with_details(app):
    @app.route("/items", methods=["POST"], request_model=ItemIn)
    async def create_item(req, resp):
        raise AssertionError("the view must not run")

    response = app.client.post("/items", json={"price": "cheap"})
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "price"],
         "msg": "Input should be a valid number, unable to parse string as a number",
         "type": "float_parsing"},
    ]}
    malformed = app.client.post("/items", content=b"{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


def test_the_view_sees_validated_data_with_or_without_await(app):
    @app.route("/items", methods=["PUT"], request_model=ItemIn)
    def replace_item(req, resp):
        resp.media = {"data": req.media()}

    assert app.client.put("/items", json={"name": "Pen", "price": "2", "extra": 1}).json() == {
        "data": {"name": "Pen", "price": 2.0}}


def test_list_models_and_bodyless_methods(app):
    @app.route("/items", methods=["GET", "POST"], request_model=list[ItemIn])
    async def items(req, resp):
        resp.media = {"method": req.method, "body": await req.media() if req.method == "POST" else None}

    assert app.client.get("/items").json() == {"method": "GET", "body": None}
    assert app.client.post("/items", json=[{"name": "a", "price": 1}]).json()["body"] == [
        {"name": "a", "price": 1.0}]
    invalid = app.client.post("/items", json=[{"name": "a"}])
    assert invalid.json()["detail"][0]["loc"] == ["body", 0, "price"]


def test_response_model_filters_media_and_obj(app):
    class Row:
        id, name, price, secret = 3, "Pen", 2, "hidden"

    @app.route("/media", response_model=ItemOut)
    async def media(req, resp):
        resp.media = {"id": "1", "name": "Pen", "price": 2, "secret": "x"}

    @app.route("/obj", response_model=ItemOut)
    async def obj(req, resp):
        resp.obj = Row()

    @app.route("/many", response_model=ItemOut)
    async def many(req, resp):
        resp.media = [{"id": 1, "name": "a", "price": 1}, {"id": 2, "name": "b", "price": 2}]

    @app.route("/text", response_model=ItemOut)
    async def text(req, resp):
        resp.text = "left alone"

    @app.route("/wrong", response_model=ItemOut)
    async def wrong(req, resp):
        resp.media = {"name": "no id"}

    assert app.client.get("/media").json() == {"id": 1, "name": "Pen", "price": 2.0}
    assert app.client.get("/obj").json() == {"id": 3, "name": "Pen", "price": 2.0}
    assert [item["id"] for item in app.client.get("/many").json()] == [1, 2]
    assert app.client.get("/text").text == "left alone"
    assert app.client.get("/wrong").status_code == 500


def test_options_are_recorded_for_openapi(app):
    route = app.add_route("/items", lambda req, resp: None, methods=["POST"],
                          request_model=ItemIn, response_model=ItemOut)
    assert route.spec.meta == {"io.request_model": ItemIn, "io.response_model": ItemOut}


def test_non_models_are_refused_at_registration():
    app = dyne.App()
    with pytest.raises(TypeError, match="request_model= needs a pydantic model"):
        @app.route("/x", request_model=object())
        async def view(req, resp):
            pass
