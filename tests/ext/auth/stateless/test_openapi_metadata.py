"""The metadata @authenticate leaves for the OpenAPI extension (the contract
is documented in docs/architecture.md)."""

from __future__ import annotations

import dyne
from dyne.endpoints import get_endpoint_spec
from dyne.ext.auth import BasicAuth, DigestAuth, MultiAuth, TokenAuth, authenticate


def test_each_authenticate_records_backend_and_role():
    basic, token = BasicAuth(), TokenAuth()

    async def view(req, resp):
        pass

    authenticate(token)(authenticate(basic, role=["admin", ["editor", "auditor"]])(view))
    assert get_endpoint_spec(view).meta["auth"] == [
        {"backend": basic, "role": ["admin", ["editor", "auditor"]],
         "roles": [["admin"], ["auditor", "editor"]]},
        {"backend": token, "role": None, "roles": None},
    ]


def test_security_schemes_have_stable_names():
    assert BasicAuth().security_schemes() == {"basicAuth": {"type": "http", "scheme": "basic"}}
    assert BasicAuth(realm="other").security_schemes() == BasicAuth().security_schemes()
    assert TokenAuth().security_schemes() == {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    assert TokenAuth("Token").security_schemes() == {"tokenAuth": {"type": "http", "scheme": "token"}}
    assert TokenAuth(header="X-API-Key").security_schemes() == {
        "X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    assert DigestAuth().security_schemes() == {"digestAuth": {"type": "http", "scheme": "digest"}}


def test_multi_auth_means_any_of():
    multi = MultiAuth(DigestAuth(), TokenAuth(), BasicAuth())
    assert list(multi.security_schemes()) == ["digestAuth", "bearerAuth", "basicAuth"]
    assert multi.security_requirements() == [{"digestAuth": []}, {"bearerAuth": []}, {"basicAuth": []}]
    assert BasicAuth().security_requirements() == [{"basicAuth": []}]


def test_class_based_views_carry_the_metadata_on_what_was_decorated():
    app = dyne.App()
    backend = BasicAuth()

    @app.route("/things")
    @authenticate(backend, role="admin")
    class Things:
        def on_get(self, req, resp):
            pass

        @authenticate(TokenAuth())
        def on_post(self, req, resp):
            pass

    assert get_endpoint_spec(Things).meta["auth"][0]["backend"] is backend
    assert get_endpoint_spec(Things.on_post).meta["auth"][0]["role"] is None
