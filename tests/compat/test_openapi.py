"""The OpenAPI extension's Dyne 2.0.5 arguments (tried against 2.0.5)."""

import pytest
from marshmallow import Schema, fields
from pydantic import BaseModel

import dyne
from dyne.ext.openapi import OpenAPI


def test_positional_title_version_and_published_route_names():
    app = dyne.App()
    api = OpenAPI(app, "Pets", "2.1", openapi_route="/openapi.yml", static_route="/docs-static",
                  docs_route="/docs", plugins=[])
    document = app.client.get("/openapi.yml")
    assert document.status_code == 200
    assert "title: Pets" in document.text and "version: '2.1'" in document.text
    assert app.client.get("/schema.yml").status_code == 404
    assert app.client.get("/docs").status_code == 200
    assert api.static_route == "/docs-static" and api.plugins == []


def test_named_schemas_are_components():
    app = dyne.App()
    api = OpenAPI(app, title="Pets", version="1")

    @api.schema("Pet")
    class PetSchema(Schema):
        name = fields.Str()

    class Toy(BaseModel):
        kind: str

    assert api.add_schema("Toy", Toy) is None
    assert api.schemas == {"Pet": PetSchema, "Toy": Toy}
    schemas = app.client.get("/schema.json").json()["components"]["schemas"]
    assert schemas["Pet"]["properties"] == {"name": {"type": "string"}}
    assert schemas["Toy"]["properties"]["kind"]["type"] == "string"
    with pytest.raises(ValueError, match="already registered"):
        api.add_schema("Toy", Toy)
    api.add_schema("Toy", Toy, check_existing=False)
    with pytest.raises(TypeError, match="pydantic model or a marshmallow schema"):
        api.add_schema("Nothing", object())
