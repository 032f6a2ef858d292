"""``OpenAPI(app, ...)``: routes, options, configuration, a document always
in sync with the routes, caching, and clear errors for misuse."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml
from pydantic import BaseModel

import dyne
from dyne.ext.io.pydantic import expect, output
from dyne.ext.openapi import OpenAPI
from dyne.ext.openapi import builder as builder_module
from tests.conftest import ROOT

from .conftest import operation, served, validate


class Item(BaseModel):
    name: str


def test_default_routes_and_formats():
    app = dyne.App()
    api = OpenAPI(app)

    @app.get("/items")
    async def items(req, resp):
        pass

    as_yaml = app.client.get("/schema.yml")
    as_json = app.client.get("/schema.json")
    assert as_yaml.headers["content-type"] == "application/yaml; charset=utf-8"
    assert as_json.headers["content-type"] == "application/json"
    assert yaml.safe_load(as_yaml.text) == as_json.json() == api.to_dict()
    assert json.loads(api.to_json()) == yaml.safe_load(api.to_yaml()) == api.to_dict()
    assert app.client.head("/schema.yml").status_code == 200
    assert app.client.post("/schema.yml").status_code == 405
    page = app.client.get("/docs")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in page.headers
    assert '"url": "/schema.json"' in page.text
    assert app.extensions["openapi"] is api


def test_routes_are_configurable():
    app = dyne.App()
    OpenAPI(app, docs_route="/api/docs", schema_route="/api/openapi.yaml", schema_json_route=None,
            theme="elements")
    assert app.client.get("/schema.yml").status_code == 404
    assert app.client.get("/schema.json").status_code == 404
    validate(yaml.safe_load(app.client.get("/api/openapi.yaml").text))
    page = app.client.get("/api/docs").text
    assert 'apiDescriptionUrl="/api/openapi.yaml"' in page

    bare = dyne.App()
    OpenAPI(bare, docs_route=None)
    assert bare.client.get("/docs").status_code == 404
    assert bare.client.get("/schema.json").status_code == 200


def test_init_app_later():
    api = OpenAPI(title="Later")
    with pytest.raises(RuntimeError, match="not attached to an app"):
        api.to_dict()
    app = dyne.App()
    api.init_app(app)
    assert served(app)["info"]["title"] == "Later"
    with pytest.raises(RuntimeError, match="already attached"):
        api.init_app(dyne.App())


def test_two_documents_on_one_app():
    """A public and an internal document: both work, the assets route is shared."""
    app = dyne.App()
    OpenAPI(app, title="Public")
    OpenAPI(app, title="Internal", docs_route="/internal/docs", schema_route="/internal/schema.yml",
            schema_json_route=None)
    assert served(app)["info"]["title"] == "Public"
    assert served(app, "/internal/schema.yml")["info"]["title"] == "Internal"
    assert app.client.get("/_dyne/openapi/redoc-2.5.2/LICENSE").status_code == 200


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"openapi": "2.0"}, ValueError, "OpenAPI 3.0.x or 3.1.x"),
    ({"openapi": "3.2.0"}, ValueError, "OpenAPI 3.0.x or 3.1.x"),
    ({"theme": "dark"}, ValueError, "Unknown theme 'dark'; use one of 'swaggerui', 'redoc'"),
    ({"docs_route": "docs"}, ValueError, "docs_route must be a path starting with '/'"),
    ({"schema_route": None, "schema_json_route": None}, ValueError, "docs_route needs the document"),
    ({"contact": {"phone": "1"}}, ValueError, "contact= has unknown field"),
    ({"license": 3}, TypeError, "license= must be a dict or a string"),
    ({"servers": [{"description": "no url"}]}, ValueError, "servers= takes OpenAPI Server objects"),
    ({"tags": [{"description": "no name"}]}, ValueError, "tags= takes tag names"),
])
def test_misuse_is_a_clear_error(options, error, message):
    with pytest.raises(error, match=message):
        OpenAPI(dyne.App(), **options)


@pytest.mark.parametrize(("given", "written"), [
    ("3.0.0", "3.0.0"), ("3.0.4", "3.0.4"), ("3.0", "3.0.3"), ("3.0.x", "3.0.3"), ("3.1", "3.1.0"),
    ("3.1.1", "3.1.1"),
])
def test_openapi_versions(given, written):
    app = dyne.App()
    OpenAPI(app, openapi=given)
    assert served(app)["openapi"] == written


def test_metadata_and_options():
    app = dyne.App()
    api = OpenAPI(app, title="Shop", version="2.0", contact="The team", license="Apache-2.0",
                  servers=[{"url": "https://api.example.com", "description": "Production"}],
                  tags=["items", {"name": "admin", "description": "Staff only"}],
                  external_docs={"url": "https://example.com/guide"})
    document = served(app)
    assert document["info"] == {"title": "Shop", "version": "2.0", "contact": {"name": "The team"},
                                "license": {"name": "Apache-2.0"}}
    assert document["servers"] == [{"url": "https://api.example.com", "description": "Production"}]
    assert document["tags"] == [{"name": "items"}, {"name": "admin", "description": "Staff only"}]
    assert document["externalDocs"] == {"url": "https://example.com/guide"}
    # Attributes can be changed: the next document says so.
    api.description = """
        Shop API
        --------
        Indented text is dedented.
        """
    assert served(app)["info"]["description"] == "Shop API\n--------\nIndented text is dedented."


def test_options_from_configuration(monkeypatch):
    class Settings:
        OPENAPI_TITLE = "From config"
        OPENAPI_VERSION = "3.2"
        OPENAPI_DESCRIPTION = "Configured"
        OPENAPI_TERMS_OF_SERVICE = "https://example.com/tos"
        OPENAPI_SPEC_VERSION = "3.1.0"
        OPENAPI_THEME = "rapidoc"

    app = dyne.App()
    app.config.from_object(Settings)
    OpenAPI(app, version="9.9")  # an argument wins over the configuration
    document = served(app)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "From config", "version": "9.9", "description": "Configured",
                                "termsOfService": "https://example.com/tos"}
    assert "rapidoc-min.js" in app.client.get("/docs").text

    monkeypatch.setenv("OPENAPI_THEME", "nope")
    with pytest.raises(ValueError, match="Unknown theme 'nope'"):
        OpenAPI(dyne.App())


def test_root_path_is_the_default_server():
    app = dyne.App()
    OpenAPI(app)
    from dyne.testing import TestClient

    client = TestClient(app, root_path="/api")
    document = yaml.safe_load(client.get("/schema.yml").text)
    assert document["servers"] == [{"url": "/api"}]
    page = client.get("/docs").text
    assert '"url": "/api/schema.json"' in page
    assert 'href="/api/_dyne/openapi/swagger-ui-dist-5.35.0/swagger-ui.css"' in page
    # Without a root path, no servers: the document is relative to where it is served.
    assert "servers" not in served(app)
    client.close()


# -- in sync, cached --------------------------------------------------------------------------------

def test_document_follows_routes_added_later_and_changed_metadata():
    app = dyne.App()
    api = OpenAPI(app)

    @app.get("/first")
    @output(Item)
    async def first(req, resp):
        pass

    assert list(served(app)["paths"]) == ["/first"]

    @app.get("/second")
    async def second(req, resp):
        pass

    assert list(served(app)["paths"]) == ["/first", "/second"]
    # A decorator applied after registration (metadata changed in place).
    expect({418: "I'm a teapot"})(second)
    assert operation(served(app), "/second", "get")["responses"]["418"] == {"description": "I'm a teapot"}
    api.title = "Renamed"
    assert served(app)["info"]["title"] == "Renamed"


def test_document_is_built_once_until_something_changes(monkeypatch):
    app = dyne.App()
    OpenAPI(app)
    calls = []
    real_build = builder_module.build

    def counting_build(drafts, options):
        calls.append(1)
        return real_build(drafts, options)

    monkeypatch.setattr("dyne.ext.openapi.extension.build", counting_build)

    @app.get("/x")
    async def x(req, resp):
        pass

    for _ in range(3):
        app.client.get("/schema.yml")
        app.client.get("/schema.json")
    assert len(calls) == 1

    @app.get("/y")
    async def y(req, resp):
        pass

    app.client.get("/schema.json")
    assert len(calls) == 2


def test_etag_and_not_modified():
    app = dyne.App()
    OpenAPI(app)
    first = app.client.get("/schema.json")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = app.client.get("/schema.json", headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")

    @app.get("/new")
    async def new(req, resp):
        pass

    changed = app.client.get("/schema.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_normal_requests_do_not_build_the_document(monkeypatch):
    app = dyne.App()
    OpenAPI(app)

    def fail(*args, **kwargs):
        raise AssertionError("collect() called")

    monkeypatch.setattr("dyne.ext.openapi.extension.collect", fail)

    @app.get("/hello")
    async def hello(req, resp):
        resp.text = "hi"

    assert app.client.get("/hello").text == "hi"
    assert app.client.get("/docs").status_code == 200


# -- optional dependencies ---------------------------------------------------------------------------

def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_importing_imports_no_schema_library():
    result = _run("""
        import sys
        import dyne
        import dyne.ext.openapi
        app = dyne.App()
        dyne.ext.openapi.OpenAPI(app)
        assert app.client.get("/schema.yml").status_code == 200
        assert app.client.get("/docs").status_code == 200
        loaded = [m for m in ("pydantic", "marshmallow", "apispec") if m in sys.modules]
        assert not loaded, loaded
    """)
    assert result.returncode == 0, result.stderr


def test_pydantic_only():
    """No marshmallow, no apispec installed: a pydantic app is documented."""
    result = _run("""
        import sys
        sys.modules["marshmallow"] = None
        sys.modules["apispec"] = None
        import dyne
        from pydantic import BaseModel
        from dyne.ext.io.pydantic import input, output
        from dyne.ext.openapi import OpenAPI
        from openapi_spec_validator import validate

        class Item(BaseModel):
            name: str

        app = dyne.App()
        api = OpenAPI(app)

        @app.route("/items", methods=["POST"])
        @input(Item)
        @output(Item)
        async def create(req, resp, *, data):
            resp.obj = data

        validate(api.to_dict())
        assert "Item" in api.to_dict()["components"]["schemas"]
    """)
    assert result.returncode == 0, result.stderr


def test_marshmallow_only():
    """No pydantic installed: a marshmallow app is documented."""
    result = _run("""
        import sys
        sys.modules["pydantic"] = None
        import dyne
        from marshmallow import Schema, fields
        from dyne.ext.io.marshmallow import input, output
        from dyne.ext.openapi import OpenAPI

        class ItemSchema(Schema):
            name = fields.Str(required=True)

        app = dyne.App()
        api = OpenAPI(app)

        @app.route("/items", methods=["POST"])
        @input(ItemSchema)
        @output(ItemSchema)
        async def create(req, resp, *, data):
            resp.obj = data

        assert "pydantic" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}
        print(app.client.get("/schema.json").text)
    """)
    assert result.returncode == 0, result.stderr
    # Validated here: openapi-spec-validator itself needs pydantic.
    document = validate(json.loads(result.stdout))
    assert "Item" in document["components"]["schemas"]


def test_marshmallow_without_apispec_names_the_extra():
    result = _run("""
        import sys
        sys.modules["apispec"] = None
        import dyne
        from marshmallow import Schema, fields
        from dyne.ext.io.marshmallow import output
        from dyne.ext.openapi import OpenAPI

        class ItemSchema(Schema):
            name = fields.Str()

        app = dyne.App()
        api = OpenAPI(app)

        @app.get("/items")
        @output(ItemSchema)
        async def items(req, resp):
            pass

        try:
            api.to_dict()
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("no ImportError")
        # Served, the error is a logged 500, not a crash of the server.
        assert app.client.get("/schema.yml").status_code == 500
    """)
    assert result.returncode == 0, result.stderr
    assert 'Documenting marshmallow schemas needs apispec: pip install "dyne[openapi_marshmallow]"' \
        in result.stdout
