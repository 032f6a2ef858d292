"""The published Dyne 2.0.5's import paths (tried against 2.0.5)."""

import importlib

import pytest


@pytest.mark.parametrize("module, names", [
    ("dyne.statics", ["DEFAULT_CORS_PARAMS", "DEFAULT_ENCODING", "DEFAULT_SECRET_KEY",
                      "DEFAULT_SESSION_COOKIE"]),
    ("dyne.ext.auth.stateless.exceptions", ["AuthenticationError"]),
    ("dyne.ext.auth.stateless.backends", ["AuthenticationError", "BasicAuth", "DigestAuth",
                                          "MultiAuth", "TokenAuth"]),
    ("dyne.ext.graphql.templates", ["GRAPHIQL"]),
    ("dyne.ext.graphql.graphene.schema", ["ExecutionResult", "GraphQLSchema", "Schema"]),
    ("dyne.ext.graphql.strawberry.schema", ["ExecutionResult", "GraphQLSchema", "Schema"]),
    ("dyne.ext.graphql.base", ["GraphQLSchema", "ExecutionResult"]),
    ("dyne.ext.io.base", ["BaseIO", "File", "SchemaAdapter", "UploadFile"]),
    ("dyne.ext.io.utils", []),
    ("dyne.ext.io.utils.filename", ["INVALID_CHARS", "secure_filename"]),
    ("dyne.ext.io.validators", []),
    ("dyne.ext.io.validators.file", ["secure_filename", "validate_filename"]),
    ("dyne.ext.io.pydantic", ["FileField", "input", "output", "expect", "webhook"]),
    ("dyne.ext.io.marshmallow", ["FileField", "input", "output", "expect", "webhook"]),
    ("dyne.routes", ["BaseRoute", "Route", "Router", "WebSocketRoute"]),
])
def test_module_imports_with_its_names(module, names):
    imported = importlib.import_module(module)
    for name in names:
        assert hasattr(imported, name), f"{module}.{name}"


def test_reexports_are_dyne_s_own_classes():
    from dyne.ext.graphql import graphene, strawberry
    from dyne.ext.graphql.base import BackendSchema, GraphQLSchema
    from dyne.ext.graphql.graphene.schema import Schema as GrapheneSchema
    from dyne.ext.graphql.strawberry.schema import Schema as StrawberrySchema
    from dyne.ext.io import marshmallow, pydantic
    from dyne.ext.io.marshmallow.fields import FileField as MarshmallowFileField
    from dyne.ext.io.pydantic.fields import FileField as PydanticFileField
    from dyne.routes import BaseRoute as PublishedBaseRoute
    from dyne.routing import BaseRoute

    assert GrapheneSchema is graphene.Schema and StrawberrySchema is strawberry.Schema
    assert GraphQLSchema is BackendSchema and issubclass(GrapheneSchema, GraphQLSchema)
    assert pydantic.FileField is PydanticFileField
    assert marshmallow.FileField is MarshmallowFileField
    assert PublishedBaseRoute is BaseRoute


def test_statics_values():
    from dyne import statics

    assert statics.DEFAULT_ENCODING == "utf-8"
    assert statics.DEFAULT_SESSION_COOKIE == "dyne-Session"
    assert statics.DEFAULT_SECRET_KEY is None  # no built-in key (migration page)
    assert statics.DEFAULT_CORS_PARAMS["allow_methods"] == ("GET",) or \
        list(statics.DEFAULT_CORS_PARAMS["allow_methods"]) == ["GET"]


def test_graphiql_template_renders_with_the_endpoint():
    import dyne
    from dyne.ext.graphql.templates import GRAPHIQL

    page = dyne.App().template_string(GRAPHIQL, endpoint="/graphql")
    assert 'createFetcher({ url: "/graphql" })' in page
    assert "/_dyne/graphiql/" in page


def test_authentication_error_refuses_credentials():
    import dyne
    from dyne.ext.auth import BasicAuth, authenticate
    from dyne.ext.auth.stateless.exceptions import AuthenticationError

    app = dyne.App()
    basic = BasicAuth()

    @basic.verify_password
    def verify(username, password):
        if username == "banned":
            raise AuthenticationError("banned")
        return username

    @app.route("/private")
    @authenticate(basic)
    async def private(req, resp):
        resp.text = "ok"

    assert app.client.get("/private", auth=("ada", "x")).text == "ok"
    refused = app.client.get("/private", auth=("banned", "x"))
    assert refused.status_code == 401 and "www-authenticate" in refused.headers
