"""Component schemas: pydantic and marshmallow in one document, named
uniquely, referenced with ``$ref``, in the dialect of the OpenAPI version."""

from __future__ import annotations

import enum
import types

import pytest
from marshmallow import Schema, fields
from pydantic import BaseModel, Field, computed_field

import dyne
from dyne.ext.io.marshmallow import input as m_input
from dyne.ext.io.marshmallow import output as m_output
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.openapi import OpenAPI
from dyne.ext.openapi.schemas import to_openapi_30

from .conftest import component, operation, served


def new_app(version="3.0.3"):
    app = dyne.App()
    OpenAPI(app, openapi=version)
    return app


def refs(document):
    """Every $ref in the document."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "$ref":
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return found


def assert_refs_resolve(document):
    names = set(document.get("components", {}).get("schemas", {}))
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in names, ref


# -- one library, the other, both ---------------------------------------------------------------

class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str | None = None


class Person(BaseModel):
    name: str = Field(min_length=1, examples=["Ada"])
    color: Color = Color.RED
    address: Address | None = None
    tags: tuple[int, str] | None = None

    @computed_field
    def initials(self) -> str:
        return self.name[:1]


def pydantic_app(version):
    app = new_app(version)

    @app.route("/people", methods=["POST"])
    @input(Person)
    @output(Person, status_code=201)
    async def create(req, resp, *, data):
        resp.obj = Person(**data)

    return app


class AuthorSchema(Schema):
    name = fields.Str(required=True)


class ArticleSchema(Schema):
    id = fields.Int(dump_only=True)
    title = fields.Str(required=True, allow_none=True)
    authors = fields.List(fields.Nested(AuthorSchema))


def marshmallow_app(version):
    app = new_app(version)

    @app.route("/articles", methods=["POST"])
    @m_input(ArticleSchema)
    @m_output(ArticleSchema, status_code=201)
    async def create(req, resp, *, data):
        resp.obj = {"id": 1, **data}

    return app


@pytest.mark.parametrize("library", ["pydantic", "marshmallow", "both"])
def test_apps_of_either_library_or_both_validate(library, version):
    if library == "pydantic":
        app = pydantic_app(version)
    elif library == "marshmallow":
        app = marshmallow_app(version)
    else:
        app = pydantic_app(version)

        @app.route("/articles", methods=["POST"])
        @m_input(ArticleSchema)
        @m_output(ArticleSchema, status_code=201)
        async def create_article(req, resp, *, data):
            resp.obj = {"id": 1, **data}

    document = served(app)
    assert_refs_resolve(document)
    schemas = document["components"]["schemas"]
    if library in ("pydantic", "both"):
        # Input and output differ (the computed field): two components.
        assert {"Person-Input", "Person-Output", "Address", "Color"} <= set(schemas)
        assert "initials" in schemas["Person-Output"]["properties"]
        assert "initials" not in schemas["Person-Input"]["properties"]
        post = operation(document, "/people", "post")
        assert post["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Person-Input"}
    if library in ("marshmallow", "both"):
        assert {"Article", "Author"} <= set(schemas)
        assert schemas["Article"]["properties"]["id"]["readOnly"] is True
        assert schemas["Article"]["properties"]["authors"]["items"] == {
            "$ref": "#/components/schemas/Author"}


def test_openapi_30_dialect_of_pydantic_schemas():
    document = served(pydantic_app("3.0.3"))
    person = document["components"]["schemas"]["Person-Input"]["properties"]
    assert person["name"]["example"] == "Ada" and "examples" not in person["name"]
    # Optional[Address]: a nullable reference.
    assert person["address"]["nullable"] is True
    assert person["address"]["allOf"] == [{"$ref": "#/components/schemas/Address"}]
    # A $ref with a default next to it.
    assert person["color"]["allOf"] == [{"$ref": "#/components/schemas/Color"}]
    assert person["color"]["default"] == "red"
    # A tuple: an array of either item type.
    assert person["tags"]["items"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_openapi_31_keeps_json_schema():
    document = served(pydantic_app("3.1.0"))
    person = document["components"]["schemas"]["Person-Input"]["properties"]
    assert person["name"]["examples"] == ["Ada"]
    assert {"type": "null"} in person["address"]["anyOf"]
    assert "prefixItems" in person["tags"]["anyOf"][0]


def test_marshmallow_nullable_in_each_version():
    three = served(marshmallow_app("3.0.3"))["components"]["schemas"]["Article"]["properties"]["title"]
    one = served(marshmallow_app("3.1.0"))["components"]["schemas"]["Article"]["properties"]["title"]
    assert three == {"type": "string", "nullable": True}
    assert one == {"type": ["string", "null"]}


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
    ({"type": ["string", "integer"]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    ({"type": "null"}, {"enum": [None], "nullable": True}),
    ({"const": "a", "type": "string"}, {"enum": ["a"], "type": "string"}),
    ({"anyOf": [{"const": "a"}, {"type": "null"}]}, {"enum": ["a", None], "nullable": True}),
    ({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
     {"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True}),
    ({"exclusiveMaximum": 5, "type": "number"}, {"maximum": 5, "exclusiveMaximum": True, "type": "number"}),
    ({"type": "array"}, {"type": "array", "items": {}}),
    ({"type": "string", "contentEncoding": "base64"}, {"type": "string", "format": "byte"}),
    ({"$ref": "#/components/schemas/A", "description": "d"},
     {"allOf": [{"$ref": "#/components/schemas/A"}], "description": "d"}),
    ({"type": "object", "patternProperties": {"^x": {}}, "x-keep": 1, "$schema": "x"},
     {"type": "object", "x-keep": 1}),
    ({"type": "object", "properties": {"a": {"type": ["integer", "null"]}},
      "additionalProperties": {"const": 1}},
     {"type": "object", "properties": {"a": {"type": "integer", "nullable": True}},
      "additionalProperties": {"enum": [1]}}),
])
def test_to_openapi_30(schema, expected):
    assert to_openapi_30(schema) == expected


# -- names ----------------------------------------------------------------------------------

def _module(name, source):
    module = types.ModuleType(name)
    exec(source, module.__dict__)
    return module


def test_same_class_name_from_two_modules_never_collides(version):
    shop = _module("shop.models",
                   "from pydantic import BaseModel\nclass Item(BaseModel):\n    price: float\n")
    blog = _module("blog.models", "from pydantic import BaseModel\nclass Item(BaseModel):\n    text: str\n")
    m_shop = _module("shop.schemas", "from marshmallow import Schema, fields\n"
                                     "class ItemSchema(Schema):\n    sku = fields.Str()\n")
    m_blog = _module("blog.schemas", "from marshmallow import Schema, fields\n"
                                     "class ItemSchema(Schema):\n    slug = fields.Str()\n")
    app = new_app(version)

    @app.route("/a", methods=["GET"])
    @output(shop.Item)
    @expect({404: blog.Item, 409: m_shop.ItemSchema, 410: m_blog.ItemSchema})
    async def a(req, resp):
        pass

    document = served(app)
    assert_refs_resolve(document)
    responses = operation(document, "/a", "get")["responses"]
    shown = {status: component(document, responses[status]["content"]["application/json"]["schema"])
             for status in ("200", "404", "409", "410")}
    assert set(shown["200"]["properties"]) == {"price"}
    assert set(shown["404"]["properties"]) == {"text"}
    assert set(shown["409"]["properties"]) == {"sku"}
    assert set(shown["410"]["properties"]) == {"slug"}
    names = [responses[s]["content"]["application/json"]["schema"]["$ref"] for s in shown]
    assert len(set(names)) == 4
    # The first marshmallow one keeps the short name; the second is qualified by its module.
    assert names[2:] == ["#/components/schemas/Item", "#/components/schemas/blog.schemas.Item"]


def test_marshmallow_instances_with_modifiers_get_their_own_component(version):
    app = new_app(version)

    @app.route("/summary", methods=["GET"])
    @m_output(ArticleSchema(only=("id", "title")))
    @expect({404: ArticleSchema})
    async def summary(req, resp):
        pass

    document = served(app)
    responses = operation(document, "/summary", "get")["responses"]
    ok = component(document, responses["200"]["content"]["application/json"]["schema"])
    full = component(document, responses["404"]["content"]["application/json"]["schema"])
    assert set(ok["properties"]) == {"id", "title"}
    assert set(full["properties"]) == {"id", "title", "authors"}


def test_marshmallow_and_pydantic_with_the_same_name(version):
    class Book(BaseModel):
        title: str

    class BookSchema(Schema):  # "Book" in the components, as apispec names it
        isbn = fields.Str()

    app = new_app(version)

    @app.route("/b", methods=["POST"])
    @m_input(BookSchema)
    @output(Book)
    async def b(req, resp, *, data):
        pass

    document = served(app)
    post = operation(document, "/b", "post")
    body = component(document, post["requestBody"]["content"]["application/json"]["schema"])
    out = component(document, post["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == {"isbn"}
    assert set(out["properties"]) == {"title"}


def test_unused_and_parameter_only_schemas_are_not_components(version):
    class Filters(BaseModel):
        q: str = ""

    app = new_app(version)

    @app.route("/find", methods=["GET"])
    @input(Filters, location="query")
    async def find(req, resp, *, query):
        pass

    document = served(app)
    assert "Filters" not in document.get("components", {}).get("schemas", {})
    assert operation(document, "/find", "get")["parameters"][0]["name"] == "q"
