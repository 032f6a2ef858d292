"""The error responses the document describes are the ones dyne sends: real
error responses (400 validation, malformed body, 401, 404, 415, 422) are
checked against the documented schema of their content type with jsonschema,
with and without ``problem_details=True``, in OpenAPI 3.0 and 3.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

import dyne
from dyne.ext.auth import BasicAuth, authenticate
from dyne.ext.io.pydantic import input
from dyne.ext.openapi import OpenAPI

from ...conftest import serve_in_thread
from .conftest import operation, served


class Book(BaseModel):
    title: str
    price: float = Field(gt=0)


class Page(BaseModel):
    page: int = 1


def make_app(problem_details: bool) -> dyne.App:
    app = dyne.App(problem_details=problem_details)
    app.extensions["test.api"] = OpenAPI(app, title="Errors")
    basic = BasicAuth()

    @basic.verify_password
    def verify(username, password):
        return username if (username, password) == ("john", "secret") else None

    @app.route("/books", methods=["POST"])
    @authenticate(basic)
    @input(Book)
    async def create_book(req, resp, *, data):
        resp.media = data

    @app.route("/books/{id:int}")
    @input(Page, location="query")
    async def book(req, resp, *, id, query):
        if id != 1:
            dyne.abort(404, f"No book {id}")
        resp.media = {"id": id}

    @app.route("/legacy", methods=["POST"], request_model=Book)
    async def legacy(req, resp):
        resp.media = await req.media()

    return app


AUTH = ("john", "secret")


def error_responses(client: Any) -> list[tuple[str, str, httpx.Response]]:
    """(path, method, response) of each error a client can cause."""
    json_type = {"Content-Type": "application/json"}
    return [
        ("/books", "post", client.post("/books", json={"price": 0}, auth=AUTH)),
        ("/books", "post", client.post("/books", json=["a"], auth=AUTH)),
        ("/books", "post", client.post("/books", content=b'{"title": ', headers=json_type, auth=AUTH)),
        ("/books", "post", client.post("/books", content=b"x", headers={"Content-Type": "text/csv"},
                                       auth=AUTH)),
        ("/books", "post", client.post("/books", json={"title": "t", "price": 1})),
        ("/books", "post", client.post("/books", json={"title": "t", "price": 1}, auth=("john", "no"))),
        ("/books/{id}", "get", client.get("/books/2")),
        ("/books/{id}", "get", client.get("/books/1?page=first")),
        ("/legacy", "post", client.post("/legacy", json={"title": "t", "price": -1})),
    ]


def check_documented(document: dict[str, Any], path: str, method: str,
                     response: httpx.Response) -> str:
    """Assert ``response`` is described by ``document``: its status, its
    content type, and its body against that content's schema. Returns the
    content type."""
    responses = operation(document, path, method)["responses"]
    status = str(response.status_code)
    assert status in responses, (path, method, status, response.text)
    content = responses[status]["content"]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, (path, status, media_type, list(content))
    body = response.text if media_type == "text/plain" else response.json()
    schema = {**content[media_type]["schema"], "components": document.get("components", {})}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
    assert not errors, (path, status, body, errors)
    return media_type


@pytest.mark.parametrize("problem_details", [False, True])
def test_error_responses_match_the_documented_schemas(problem_details):
    app = make_app(problem_details)
    app.extensions["test.api"].openapi = "3.0.3"
    served(app)  # valid OpenAPI 3.0
    app.extensions["test.api"].openapi = "3.1.0"
    document = served(app)  # valid 3.1, whose schemas are JSON Schema 2020-12
    seen = []
    for path, method, response in error_responses(app.client):
        assert response.status_code >= 400
        seen.append((response.status_code, check_documented(document, path, method, response)))
    statuses = sorted({status for status, _ in seen})
    assert statuses == [400, 401, 404, 415, 422]
    media_types = {media for _, media in seen}
    if problem_details:
        assert media_types == {"application/problem+json"}
    else:
        assert media_types == {"application/json", "text/plain"}


def test_problem_details_are_reusable_components_with_the_sent_shape():
    app = make_app(True)
    document = served(app)
    schemas = document["components"]["schemas"]
    problem = schemas["ProblemDetails"]
    assert problem["required"] == ["type", "title", "status"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance"}
    responses = operation(document, "/books", "post")["responses"]
    ref = {"$ref": "#/components/schemas/ProblemDetails"}
    assert responses["401"]["content"] == {"application/problem+json": {"schema": ref}}
    assert responses["415"]["content"] == {"application/problem+json": {"schema": ref}}
    assert responses["400"]["content"]["application/problem+json"]["schema"] == {"anyOf": [
        {"$ref": "#/components/schemas/ValidationProblemDetails"}, ref]}
    query_only = operation(document, "/books/{id}", "get")["responses"]
    assert query_only["400"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationProblemDetails"}
    assert query_only["404"]["content"] == {"application/problem+json": {"schema": ref}}
    # Nothing says application/json for an error any more.
    for path in document["paths"].values():
        for op in path.values():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert list(response.get("content", {})) == ["application/problem+json"]


def test_validation_problem_is_what_a_client_receives():
    app = make_app(True)
    response = app.client.post("/books", json={"price": 0}, auth=AUTH)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Bad Request", "status": 400,
                               "errors": {"title": ["Field required"],
                                          "price": ["Input should be greater than 0"]}}


def test_a_real_client_gets_the_documented_errors_over_http():
    app = make_app(True)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        document = client.get("/schema.json").json()
        for path, method, response in error_responses(client):
            assert check_documented(document, path, method, response) == "application/problem+json"


def test_statuses_the_app_answers_itself_are_documented_without_a_body():
    app = make_app(True)

    @app.error_handler(404)
    def not_found(req, resp, exc):
        resp.media = {"error": "Not Found"}

    document = served(app)
    book = operation(document, "/books/{id}", "get")["responses"]
    assert book["404"] == {"description": "Not Found"}  # the handler's body, not dyne's
    assert "application/problem+json" in book["400"]["content"]
    assert app.client.get("/books/2").json() == {"error": "Not Found"}

    @app.error_handler(Exception)  # answers every HTTPException too
    def everything(req, resp, exc):
        resp.media = {"error": str(exc)}

    document = served(app)
    for path in document["paths"].values():
        for op in path.values():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert "content" not in response, (status, response)
