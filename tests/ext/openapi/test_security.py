"""Security schemes and requirements from ``dyne.ext.auth``'s metadata (and
from a third-party backend that gives only the minimal contract)."""

from __future__ import annotations

import pytest

import dyne
from dyne.ext.auth import BasicAuth, DigestAuth, LoginManager, MultiAuth, TokenAuth, authenticate
from dyne.ext.openapi import OpenAPI

from . import fakes
from .conftest import operation, served


@pytest.fixture
def app():
    app = dyne.App(secret_key="s3cret")
    OpenAPI(app)
    return app


def test_each_backend_its_scheme(app, version):
    basic, bearer, digest = BasicAuth(), TokenAuth(), DigestAuth()
    api_key = TokenAuth(header="X-API-Key")

    @app.get("/basic")
    @authenticate(basic)
    async def by_basic(req, resp):
        pass

    @app.get("/bearer")
    @authenticate(bearer)
    async def by_bearer(req, resp):
        pass

    @app.get("/digest")
    @authenticate(digest)
    async def by_digest(req, resp):
        pass

    @app.get("/key")
    @authenticate(api_key)
    async def by_key(req, resp):
        pass

    app.extensions["openapi"].openapi = version
    document = served(app)
    assert document["components"]["securitySchemes"] == {
        "basicAuth": {"type": "http", "scheme": "basic"},
        "bearerAuth": {"type": "http", "scheme": "bearer"},
        "digestAuth": {"type": "http", "scheme": "digest"},
        "X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    expected = {"/basic": "basicAuth", "/bearer": "bearerAuth", "/digest": "digestAuth", "/key": "X-API-Key"}
    for path, scheme in expected.items():
        get = operation(document, path, "get")
        assert get["security"] == [{scheme: []}]
        assert set(get["responses"]) == {"200", "401"}
        assert "WWW-Authenticate" in get["responses"]["401"]["headers"]
        assert "x-roles" not in get
        # And the endpoint does refuse a request without credentials, as documented.
        refused = app.client.get(path)
        assert str(refused.status_code) in get["responses"]


def test_roles_any_of_and_all_of(app):
    basic = BasicAuth()

    @app.get("/one")
    @authenticate(basic, role="admin")
    async def one(req, resp):
        """Admins only"""

    @app.get("/any")
    @authenticate(basic, role=["admin", "editor"])
    async def any_of(req, resp):
        pass

    @app.get("/mixed")
    @authenticate(basic, role=["admin", ["editor", "auditor"]])
    async def mixed(req, resp):
        pass

    document = served(app)
    only = operation(document, "/one", "get")
    assert only["description"] == "Requires the role `admin`."
    assert only["x-roles"] == [["admin"]]
    assert set(only["responses"]) == {"200", "401", "403"}
    assert operation(document, "/any", "get")["description"] == (
        "Requires one of the roles `admin` or `editor`.")
    combined = operation(document, "/mixed", "get")
    assert combined["description"] == "Requires one of the roles `admin` or (`auditor` and `editor`)."
    assert combined["x-roles"] == [["admin"], ["auditor", "editor"]]


def test_multiauth_is_any_of_and_stacked_is_all_of(app, version):
    basic, bearer = BasicAuth(), TokenAuth()

    @app.get("/either")
    @authenticate(MultiAuth(basic, bearer))
    async def either(req, resp):
        pass

    @app.get("/both")
    @authenticate(basic, role="admin")
    @authenticate(TokenAuth(header="X-API-Key"), role=["ops", "dev"])
    async def both(req, resp):
        pass

    app.extensions["openapi"].openapi = version
    document = served(app)
    assert operation(document, "/either", "get")["security"] == [{"basicAuth": []}, {"bearerAuth": []}]
    stacked = operation(document, "/both", "get")
    assert stacked["security"] == [{"basicAuth": [], "X-API-Key": []}]
    # Both role requirements must hold.
    assert stacked["x-roles"] == [["admin", "ops"], ["admin", "dev"]]


def test_class_based_view_protected_as_a_whole(app):
    basic = BasicAuth()

    @app.route("/admin/{id:int}")
    @authenticate(basic, role="admin")
    class Admin:
        def on_get(self, req, resp, *, id):
            pass

        def on_delete(self, req, resp, *, id):
            pass

    item = served(app)["paths"]["/admin/{id}"]
    for method in ("get", "delete"):
        assert item[method]["security"] == [{"basicAuth": []}]
        assert item[method]["x-roles"] == [["admin"]]


def test_login_manager(app):
    auth = LoginManager(app)

    @auth.user_loader
    async def load(user_id):
        return None

    @app.get("/me")
    @auth.login_required
    async def me(req, resp):
        pass

    document = served(app)
    assert operation(document, "/me", "get")["security"] == [{"sessionCookie": []}, {"rememberMeCookie": []}]
    assert document["components"]["securitySchemes"]["sessionCookie"] == {
        "type": "apiKey", "in": "cookie", "name": "dyne-Session"}


def test_minimal_contract_backends(app):
    """A backend with only ``security_schemes()`` and metadata with only
    ``backend`` and ``role``: requirements and roles are derived."""
    basic = fakes.BasicAuth()

    @basic.verify_password
    async def verify(user, password):
        return user if password == "pw" else None

    @app.get("/any")
    @fakes.authenticate(fakes.MultiAuth(basic, fakes.DigestAuth()), role=["a", ["b", "c"]])
    async def any_scheme(req, resp):
        pass

    get = operation(served(app), "/any", "get")
    assert get["security"] == [{"basicAuth": []}, {"digestAuth": []}]
    assert get["x-roles"] == [["a"], ["b", "c"]]


def test_two_schemes_with_one_name_are_both_kept(app):
    class Odd:
        def __init__(self, scheme):
            self.scheme = scheme

        def security_schemes(self):
            return {"custom": {"type": "http", "scheme": self.scheme}}

    def protect(backend):
        def decorator(view):
            from dyne.endpoints import get_endpoint_spec
            from dyne.ext.auth.roles import AuthMeta

            get_endpoint_spec(view).meta.setdefault("auth", []).append(AuthMeta(backend=backend))
            return view
        return decorator

    @app.get("/a")
    @protect(Odd("basic"))
    async def a(req, resp):
        pass

    @app.get("/b")
    @protect(Odd("bearer"))
    async def b(req, resp):
        pass

    document = served(app)
    assert document["components"]["securitySchemes"] == {
        "custom": {"type": "http", "scheme": "basic"}, "custom2": {"type": "http", "scheme": "bearer"}}
    assert operation(document, "/b", "get")["security"] == [{"custom2": []}]
