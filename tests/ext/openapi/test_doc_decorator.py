"""``@doc``'s examples and extra operation fields, in valid documents of both
OpenAPI versions; misuse is refused when decorating, or when the document is
built for what only the whole operation shows."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import dyne
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.openapi import OpenAPI, doc
from tests.ext.openapi.conftest import operation, served


class Book(BaseModel):
    title: str
    price: float


def test_examples_and_extra_fields_are_in_a_valid_document(version):
    app = dyne.App()
    OpenAPI(app, openapi=version)

    @app.route("/books", methods=["POST"])
    @doc(summary="Add a book", operation_id="addBook", deprecated=True,
         examples={"cheap": {"title": "Dune", "price": 9.5},
                   "described": {"summary": "A classic", "value": {"title": "Emma", "price": 4.0}}},
         response_examples={201: {"created": {"title": "Dune", "price": 9.5}},
                            400: {"refused": {"errors": {"price": ["Input should be a number"]}}}},
         extra={"x-rate-limit": {"per_minute": 10}, "externalDocs": {"url": "https://example.com/books"}})
    @input(Book)
    @output(Book, status_code=201)
    async def add(req, resp, *, data):
        resp.obj = data

    document = served(app)  # validated by openapi-spec-validator
    add_book = operation(document, "/books", "post")
    assert (add_book["summary"], add_book["operationId"], add_book["deprecated"]) == \
        ("Add a book", "addBook", True)
    for media in add_book["requestBody"]["content"].values():
        assert media["examples"] == {
            "cheap": {"value": {"title": "Dune", "price": 9.5}},
            "described": {"summary": "A classic", "value": {"title": "Emma", "price": 4.0}}}
    created = add_book["responses"]["201"]["content"]["application/json"]
    assert created["examples"] == {"created": {"value": {"title": "Dune", "price": 9.5}}}
    refused = add_book["responses"]["400"]["content"]
    assert set(refused) == {"application/json", "text/plain"}
    assert all("refused" in media["examples"] for media in refused.values())
    assert add_book["x-rate-limit"] == {"per_minute": 10}
    assert add_book["externalDocs"] == {"url": "https://example.com/books"}


def test_doc_on_a_class_based_view_and_its_methods():
    app = dyne.App()
    api = OpenAPI(app)

    @app.route("/books/{id:int}")
    @doc(extra={"x-owner": "catalogue"})
    class BookView:
        @output(Book)
        @doc(response_examples={200: {"dune": {"title": "Dune", "price": 9.5}}}, extra={"x-cost": 1})
        async def on_get(self, req, resp, *, id):
            resp.obj = {"title": "Dune", "price": 9.5}

        async def on_delete(self, req, resp, *, id):
            pass

    document = api.to_dict()
    read = operation(document, "/books/{id}", "get")
    assert (read["x-owner"], read["x-cost"]) == ("catalogue", 1)
    assert "dune" in read["responses"]["200"]["content"]["application/json"]["examples"]
    assert operation(document, "/books/{id}", "delete")["x-owner"] == "catalogue"


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"extra": {"summary": "x"}}, ValueError,
     r"@doc\(extra=...\) may set x- extensions and callbacks, externalDocs, servers; not 'summary'"),
    ({"extra": ["x-a"]}, TypeError, r"@doc\(extra=...\) takes a dict"),
    ({"examples": {}}, TypeError, r"@doc\(examples=...\) takes a non-empty dict"),
    ({"examples": [1, 2]}, TypeError, r"@doc\(examples=...\) takes a non-empty dict"),
    ({"examples": {"": 1}}, TypeError, "example names are non-empty strings"),
    ({"response_examples": {"200": [1]}}, TypeError, r"response_examples\['200'\]"),
    ({"response_examples": {"OK": {"a": 1}}}, ValueError, "'OK' is not a status code"),
    ({"response_examples": {700: {"a": 1}}}, ValueError, "700 is not a status code"),
])
def test_bad_arguments_are_refused_at_once(arguments, error, message):
    with pytest.raises(error, match=message):
        doc(**arguments)


def test_examples_for_what_the_operation_does_not_document_are_refused():
    app = dyne.App()
    api = OpenAPI(app)

    @app.route("/ping", methods=["GET"])
    @doc(examples={"a": {"x": 1}})
    async def ping(req, resp):
        pass

    with pytest.raises(ValueError, match=r"@doc\(examples=...\) on GET /ping: the operation has no "
                                         "request body"):
        api.to_dict()
    app = dyne.App()
    api = OpenAPI(app)

    @app.route("/pong", methods=["GET"])
    @doc(response_examples={404: {"a": {"x": 1}}})
    @expect({404: "Not here"})
    async def pong(req, resp):
        pass

    with pytest.raises(ValueError, match=r"on GET /pong: no response 404 with a body is documented"):
        api.to_dict()


def test_stacked_docs_add_up():
    app = dyne.App()
    api = OpenAPI(app)

    @app.route("/books", methods=["POST"])
    @doc(extra={"x-a": 1}, response_examples={201: {"one": {"title": "A", "price": 1}}})
    @doc(summary="Add", extra={"x-b": 2})
    @input(Book)
    @output(Book, status_code=201)
    async def add(req, resp, *, data):
        resp.obj = data

    documented = operation(api.to_dict(), "/books", "post")
    assert (documented["summary"], documented["x-a"], documented["x-b"]) == ("Add", 1, 2)


def test_an_example_object_is_recognised_only_by_its_fields():
    app = dyne.App()
    api = OpenAPI(app)

    @app.route("/echo", methods=["POST"])
    @doc(examples={"literal": {"value": 1, "unit": "kg"}, "object": {"externalValue": "https://e.com/x"}})
    @input(Book)
    async def echo(req, resp, *, data):
        pass

    examples = operation(api.to_dict(), "/echo", "post")["requestBody"]["content"]["application/json"]
    assert examples["examples"] == {"literal": {"value": {"value": 1, "unit": "kg"}},
                                    "object": {"externalValue": "https://e.com/x"}}
