"""msgspec Structs and attrs classes in the OpenAPI document: components from
msgspec's JSON schema, bodies, query parameters, responses; what a client
receives validates against what is documented."""

from __future__ import annotations

import attrs
import msgspec
from jsonschema import Draft202012Validator
from pydantic import BaseModel, create_model

import dyne
from dyne.ext.io.msgspec import expect, input, output
from dyne.ext.openapi import OpenAPI

from .conftest import component, operation, served


class Author(msgspec.Struct):
    name: str


class Book(msgspec.Struct, rename="camel"):
    title: str
    unit_price: float
    author: Author | None = None


@attrs.define
class Reader:
    name: str
    age: int = 0
    shelves: list[str] = attrs.field(factory=list)


class Filters(msgspec.Struct):
    q: str
    limit: int = 10
    tag: list[str] = []


class Problem(BaseModel):  # a pydantic model beside them, in the same namespace
    message: str


def make_app(version: str) -> dyne.App:
    app = dyne.App()
    app.extensions["test.api"] = OpenAPI(app, title="msgspec", openapi=version)

    @app.route("/books", methods=["POST"])
    @input(Book)
    @output(Book, status_code=201)
    @expect({409: (Problem, "Already there")})
    def create_book(req, resp, *, data):
        resp.obj = data

    @app.route("/readers")
    @input(Filters, location="query")
    @output(list[Reader])
    def readers(req, resp, *, query):
        resp.obj = [Reader(query.q, 3, ["a"])][: query.limit]

    return app


def test_structs_and_attrs_classes_are_documented_components(version):
    document = served(make_app(version))
    create = operation(document, "/books", "post")
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Book"}
    book = component(document, body)
    assert set(book["properties"]) == {"title", "unitPrice", "author"}  # the names on the wire
    assert book["required"] == ["title", "unitPrice"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == body
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"}
    assert "Author" in document["components"]["schemas"]

    listing = operation(document, "/readers", "get")
    assert [(p["name"], p["required"]) for p in listing["parameters"]] == [
        ("q", True), ("limit", False), ("tag", False)]
    many = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert many == {"type": "array", "items": {"$ref": "#/components/schemas/Reader"}}
    reader = document["components"]["schemas"]["Reader"]
    assert list(reader["properties"]) == ["name", "age", "shelves"]


def test_what_a_client_receives_matches_the_documented_schema():
    app = make_app("3.1.0")
    document = served(app)
    components = document["components"]
    checks = [
        (app.client.post("/books", json={"title": "Dune", "unitPrice": 9, "author": {"name": "F"}}),
         operation(document, "/books", "post")["responses"]["201"]),
        (app.client.get("/readers?q=Ann&tag=x&tag=y"),
         operation(document, "/readers", "get")["responses"]["200"]),
    ]
    for response, documented in checks:
        assert response.status_code < 300, response.text
        schema = {**documented["content"]["application/json"]["schema"], "components": components}
        assert not list(Draft202012Validator(schema).iter_errors(response.json()))


def test_a_name_taken_by_a_pydantic_model_gets_a_number(version):
    pydantic_book = create_model("Book", isbn=(str, ...))
    app = make_app(version)

    @app.route("/isbn")
    @output(pydantic_book)  # a pydantic model named Book: handed to pydantic
    def isbn(req, resp):
        resp.obj = {"isbn": "1"}

    document = served(app)
    schemas = document["components"]["schemas"]
    assert "isbn" in schemas["Book"]["properties"]
    assert "unitPrice" in schemas["Book2"]["properties"]
    body = operation(document, "/books", "post")["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Book2"}
