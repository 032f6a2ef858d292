"""The Dyne documentation's OpenAPI examples (shared seeds 001), run unchanged,
and the documents they produce, validated for OpenAPI 3.0 and 3.1.

The example texts of the IO sections are the ones pinned verbatim in
tests.ext.io.test_doc_examples.py (imported from there, so each is kept
once); the "Configuring the API Metadata" example is pinned here.
``dyne.ext.openapi`` and ``dyne.ext.auth`` are the real extensions. The
full example runs on the real ``dyne.ext.db.alchemical`` in
``test_full_example_with_the_real_database``; the other tests of it use the
IO tests' in-memory stand-in (ORM rows as plain objects), which needs no
tables and keeps them fast.
"""

from __future__ import annotations

import base64
import types

import pytest
import yaml

import dyne
from tests.ext.io import standins
from tests.ext.io.test_doc_examples import (
    EXPECT_DESCRIPTIONS,
    EXPECT_SCHEMAS,
    EXPECT_SCHEMAS_AND_DESCRIPTIONS,
    EXPLICIT_WEBHOOK,
    FULL_OPENAPI_EXAMPLE,
    GROUPING,
    IMPLICIT_WEBHOOK,
    WEBHOOK_WITH_INPUT,
    run,
)

from . import fakes
from .conftest import VERSIONS, component, operation, served, validate

# -- Configuring the API Metadata ---------------------------------------------------------------

API_METADATA = '''
import dyne
from dyne.ext.openapi import OpenAPI


description = """ 
User Management API
-------------------
This API allows for comprehensive management of users and books.

**Base URL:** `https://api.example.com/v1`
**Support:** `support@example.com`
"""

app = dyne.App()
api = OpenAPI(app, description=description)
'''

DESCRIPTION = """User Management API
-------------------
This API allows for comprehensive management of users and books.

**Base URL:** `https://api.example.com/v1`
**Support:** `support@example.com`"""


def test_api_metadata_example_serves_docs_and_schema():
    env = run(API_METADATA)
    app = env["app"]
    document = served(app)
    assert document["openapi"] == "3.0.3"
    assert document["info"] == {"title": "API", "version": "1.0", "description": DESCRIPTION}
    assert document["paths"] == {}
    docs = app.client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in docs.text
    assert app.client.get("/schema.json").json() == document


def test_api_metadata_other_variables():
    """The options the section lists after the example: title, version,
    terms_of_service, contact, license, openapi, theme."""
    from dyne.ext.openapi import OpenAPI

    app = dyne.App()
    OpenAPI(app, title="Book Store", version="1.0", terms_of_service="https://example.com/terms",
            contact={"name": "Support", "email": "support@example.com"},
            license={"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
            openapi="3.0.1", theme="redoc")
    document = served(app)
    assert document["openapi"] == "3.0.1"
    assert document["info"] == {
        "title": "Book Store", "version": "1.0", "termsOfService": "https://example.com/terms",
        "contact": {"name": "Support", "email": "support@example.com"},
        "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
    }
    assert "redoc.standalone.js" in app.client.get("/docs").text


# -- Full Example: Creating a Book with File Upload ---------------------------------------------------

def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def book_store(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uploads").mkdir()
    fakes.install_db(monkeypatch)
    env = run(FULL_OPENAPI_EXAMPLE, **standins.SQL_NAMES)
    yield env
    env["app"].client.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_full_example_document(book_store, version):
    api, app = book_store["api"], book_store["app"]
    api.openapi = version
    document = served(app)
    assert document["openapi"] == version
    assert document["info"]["description"] == DESCRIPTION

    create = operation(document, "/book", "post")
    assert create["summary"] == "Create a new Book"
    assert create["description"] == ("This endpoint allows admins to upload a book cover and metadata."
                                     "\n\nRequires the role `admin`.")
    assert create["operationId"] == "create_book"
    assert create["x-roles"] == [["admin"]]

    # The form with a FileField is a multipart body whose image is binary.
    assert list(create["requestBody"]["content"]) == ["multipart/form-data"]
    body = component(document, create["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert body["properties"]["image"] == {"type": "string", "format": "binary"}
    assert body["properties"]["price"]["type"] == "number"
    assert sorted(body["required"]) == ["price", "title"]

    # Security: HTTP Basic, its scheme in the components.
    assert create["security"] == [{"basicAuth": []}]
    assert document["components"]["securitySchemes"] == {"basicAuth": {"type": "http", "scheme": "basic"}}

    responses = create["responses"]
    assert list(responses) == ["201", "400", "401", "403"]
    created = component(document, responses["201"]["content"]["application/json"]["schema"])
    assert set(created["properties"]) == {"id", "price", "title", "cover_url"}
    assert created["properties"]["id"]["readOnly"] is True
    # @expect's descriptions, with the body dyne sends for invalid input.
    assert responses["400"]["description"] == "Invalid file format"
    errors = component(document, responses["400"]["content"]["application/json"]["schema"])
    assert errors["required"] == ["errors"]
    assert responses["401"]["description"] == "Unauthorized"
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert responses["403"]["description"] == "Forbidden"


def test_full_example_still_runs_and_matches_its_document(book_store, tmp_path):
    """The example's endpoint answers as its document says."""
    app = book_store["app"]
    document = served(app)
    responses = operation(document, "/book", "post")["responses"]
    client = app.client
    form = {"title": "Dune", "price": "9.5"}
    cover = {"image": ("dune.png", b"\x89PNG cover", "image/png")}
    created = client.post("/book", data=form, files=cover, headers=_basic("admin", "password123"))
    assert created.status_code == 201
    assert set(created.json()) <= set(component(
        document, responses["201"]["content"]["application/json"]["schema"])["properties"])
    denied = client.post("/book", data=form, files=cover, headers=_basic("john", "password"))
    assert str(denied.status_code) in responses
    refused = client.post("/book", data=form, files={"image": ("x.gif", b"GIF89a")},
                          headers=_basic("admin", "password123"))
    assert refused.status_code == 400 and "errors" in refused.json()
    assert client.post("/book", data=form).status_code == 401


def test_full_example_yaml_is_plain(book_store):
    """schema.yml is plain YAML: no anchors or aliases, string status codes."""
    text = book_store["app"].client.get("/schema.yml").text
    assert "&id" not in text and "*id" not in text
    assert "'201':" in text
    assert yaml.safe_load(text)["paths"]["/book"]["post"]["operationId"] == "create_book"


# -- Grouping Request & Response Decorators -----------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_grouping_example_document(monkeypatch, version):
    from pydantic import BaseModel, ConfigDict, Field

    fakes.install_db(monkeypatch)

    class Book(standins.Model):
        __tablename__ = "books"

    class PriceUpdateSchema(BaseModel):
        price: float = Field(gt=0)

    class BookSchema(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int
        title: str
        price: float

    env = run(GROUPING, Alchemical=standins.Alchemical, description="Books API", Book=Book,
              PriceUpdateSchema=PriceUpdateSchema, BookSchema=BookSchema)
    env["api"].openapi = version
    document = served(env["app"])
    update = operation(document, "/update-price/{id}", "patch")
    assert update["parameters"] == [{"name": "id", "in": "path", "required": True,
                                     "schema": {"type": "string", "minLength": 1}}]
    price = component(document, update["requestBody"]["content"]["application/json"]["schema"]
                      )["properties"]["price"]
    # gt=0: JSON Schema's numeric exclusiveMinimum in 3.1, the boolean form in 3.0.
    expected = {"exclusiveMinimum": 0} if version == "3.1.0" else {"minimum": 0, "exclusiveMinimum": True}
    assert {key: price[key] for key in expected} == expected
    assert set(update["responses"]) == {"200", "400", "403", "404", "415"}
    assert update["responses"]["403"]["description"] == "Insufficient permissions"
    assert update["responses"]["404"]["description"] == "Book not found"
    # The webhook: under "webhooks" in 3.1, "x-webhooks" in 3.0, keyed by its name.
    section = "webhooks" if version == "3.1.0" else "x-webhooks"
    hook = document[section]["update_book_price"]["patch"]
    assert hook["operationId"] == "update_book_price_webhook"
    assert hook["requestBody"] == update["requestBody"]
    assert "parameters" not in hook
    env["app"].client.close()


# -- Expected Responses ------------------------------------------------------------------------------

@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
@pytest.mark.parametrize("version", VERSIONS)
def test_expect_examples_document_their_responses(library, version):
    import importlib

    from dyne.ext.openapi import OpenAPI

    expect = importlib.import_module(f"dyne.ext.io.{library}").expect
    pydantic_schemas = run('''
from pydantic import BaseModel, Field

class InvalidTokenSchema(BaseModel):
    error: str = Field("token_expired", description="The error code")
    message: str = Field(..., description="Details about the token failure")

class InsufficientPermissionsSchema(BaseModel):
    error: str = "forbidden"
    required_role: str = "admin"
''')
    marshmallow_schemas = run('''
from marshmallow import Schema, fields

class InvalidTokenSchema(Schema):
    error = fields.String(
        dump_default="token_expired",
        metadata={"description": "The error code"},
    )
    message = fields.String(
        required=True,
        metadata={"description": "Details about the token failure"},
    )

class InsufficientPermissionsSchema(Schema):
    error = fields.String(
        dump_default="forbidden",
        metadata={"description": "Error code"},
    )
    required_role = fields.String(
        dump_default="admin",
        metadata={"description": "Role required to access this resource"},
    )
''')
    schemas = pydantic_schemas if library == "pydantic" else marshmallow_schemas
    names = {"pydantic": ("InvalidTokenSchema", "InsufficientPermissionsSchema"),
             "marshmallow": ("InvalidToken", "InsufficientPermissions")}[library]

    app = dyne.App()
    OpenAPI(app, openapi=version)
    run(EXPECT_DESCRIPTIONS, app=app, expect=expect)
    responses = operation(served(app), "/secure-data", "get")["responses"]
    assert responses == {"200": {"description": "Successful response"},
                         "401": {"description": "Invalid access or refresh token"},
                         "403": {"description": "Insufficient permissions"}}

    for source, descriptions in ((EXPECT_SCHEMAS, ("Unauthorized", "Forbidden")),
                                 (EXPECT_SCHEMAS_AND_DESCRIPTIONS,
                                  ("Invalid access or refresh token",
                                   "Requires elevated administrative privileges"))):
        app = dyne.App()
        OpenAPI(app, openapi=version)
        run(source, app=app, expect=expect, InvalidTokenSchema=schemas["InvalidTokenSchema"],
            InsufficientPermissionsSchema=schemas["InsufficientPermissionsSchema"])
        document = served(app)
        responses = operation(document, "/secure-data", "get")["responses"]
        assert (responses["401"]["description"], responses["403"]["description"]) == descriptions
        token = responses["401"]["content"]["application/json"]["schema"]
        assert token == {"$ref": f"#/components/schemas/{names[0]}"}
        properties = component(document, token)["properties"]
        assert properties["error"]["description"] == "The error code"
        assert properties["message"]["description"] == "Details about the token failure"
        assert component(document, token)["required"] == ["message"]
        assert responses["403"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{names[1]}"}


# -- Webhooks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_webhook_examples_document_webhooks(version):
    from pydantic import BaseModel

    from dyne.ext.io.pydantic import input, webhook
    from dyne.ext.openapi import OpenAPI

    class BookSchema(BaseModel):
        title: str

    app = dyne.App()
    OpenAPI(app, openapi=version)
    env = run(IMPLICIT_WEBHOOK, app=app, webhook=webhook)
    env = run(EXPLICIT_WEBHOOK, **env)
    other = dyne.App()
    OpenAPI(other, openapi=version)
    run(WEBHOOK_WITH_INPUT, app=other, webhook=webhook, input=input, BookSchema=BookSchema,
        time=types.SimpleNamespace(sleep=lambda seconds: None))

    section = "webhooks" if version == "3.1.0" else "x-webhooks"
    document = served(app)
    assert set(document[section]) == {"handle_event", "transaction_callback"}
    assert list(document[section]["transaction_callback"]) == ["post"]
    # Still an endpoint of the API, under paths.
    assert operation(document, "/events", "post")["operationId"] == "handle_event"

    document = served(other)
    hook = document[section]["transaction"]["post"]
    assert hook["summary"] == "Receives a book purchase notification and processes it asynchronously."
    assert component(document, hook["requestBody"]["content"]["application/json"]["schema"]
                     )["required"] == ["title"]
    other.client.close()


def test_documents_of_the_examples_validate_for_both_versions(book_store):
    api, app = book_store["api"], book_store["app"]
    for version in VERSIONS:
        api.openapi = version
        assert validate(api.to_dict())["openapi"] == version
        assert served(app, "/schema.json")["openapi"] == version


# -- The full example with the real database extension ------------------------------------------------

def test_full_example_with_the_real_database(tmp_path, monkeypatch):
    """The same example on the real ``dyne.ext.db.alchemical`` (SQLite in the
    working directory, as printed): its document, and a book really stored.
    The example creates no tables itself; the test does, before using it."""
    from sqlalchemy import Column, Float, Integer, String

    from dyne.ext.db.alchemical import Model
    from dyne.testing import _shared_portal

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALCHEMICAL_DATABASE_URL", raising=False)
    (tmp_path / "uploads").mkdir()
    env = run(FULL_OPENAPI_EXAMPLE, Column=Column, Integer=Integer, Float=Float, String=String,
              __name__="docs_openapi_full")
    app, db = env["app"], env["db"]
    try:
        for version in VERSIONS:
            env["api"].openapi = version
            create = operation(served(app), "/book", "post")
            assert list(create["requestBody"]["content"]) == ["multipart/form-data"]
            assert create["security"] == [{"basicAuth": []}]
            assert list(create["responses"]) == ["201", "400", "401", "403"]

        async def create_tables():
            await db.create_all()

        _shared_portal().call(create_tables)
        created = app.client.post("/book", data={"title": "Dune", "price": "9.5"},
                                  files={"image": ("dune.png", b"\x89PNG", "image/png")},
                                  headers=_basic("admin", "password123"))
        assert (created.status_code, created.json()) == (201, {"id": 1, "price": 9.5, "title": "Dune"})
        assert (tmp_path / "app.db").is_file()
    finally:
        app.client.close()
        Model.metadata.remove(env["Book"].__table__)
