"""The OAuth2 password flow in Swagger UI, in a real browser: headless
Chromium opens /docs, clicks "Authorize", logs in through the app's own
token endpoint, then "Try it out" on a protected route gets a 200."""

from __future__ import annotations

import secrets

import pytest

import dyne
from dyne.ext.auth import OAuth2Bearer, authenticate
from dyne.ext.openapi import OpenAPI
from tests.conftest import serve_in_thread

pytestmark = pytest.mark.server

USERS = {"alice": "wonderland"}


def make_app() -> dyne.App:
    app = dyne.App(csrf=False)
    OpenAPI(app, title="Vault", version="1.0", theme="swaggerui")
    oauth2 = OAuth2Bearer(token_url="/token", scopes={"vault": "Open the vault"})
    issued: dict[str, str] = {}

    @oauth2.verify_token
    def verify(token):
        return issued.get(token)

    @app.route("/token", methods=["POST"], include_in_schema=False)
    async def token(req, resp):
        form = await req.form()
        user = form.get("username")
        if form.get("grant_type") != "password" or USERS.get(user) != form.get("password"):
            resp.status_code = 400
            resp.media = {"error": "invalid_grant"}
            return
        access = secrets.token_urlsafe(24)
        issued[access] = user
        resp.media = {"access_token": access, "token_type": "bearer", "expires_in": 3600}

    vault = app.group("/vault")
    authenticate(oauth2)(vault)

    @vault.get("/secret")
    async def secret(req, resp):
        """Read the secret"""
        resp.media = {"owner": req.state.user, "secret": 42}

    return app


def test_document_declares_the_password_flow():
    document = make_app().client.get("/schema.json").json()
    assert document["components"]["securitySchemes"]["oauth2"] == {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/token", "scopes": {"vault": "Open the vault"}}},
    }
    assert document["paths"]["/vault/secret"]["get"]["security"] == [{"oauth2": []}]


def test_swagger_ui_authorize_then_try_it_out(browser):
    app = make_app()
    with serve_in_thread(app) as url:
        context = browser.new_context()
        page = context.new_page()
        try:
            page.goto(f"{url}/docs")
            page.wait_for_selector(".opblock-summary", timeout=60_000)
            operation = page.locator(".opblock", has_text="/vault/secret")
            # Not authorized yet: the route refuses.
            operation.locator(".opblock-summary").click()
            operation.locator(".try-out__btn").click()
            operation.locator(".execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status").first
            status.wait_for(timeout=30_000)
            assert status.inner_text().strip().startswith("401")

            page.click(".auth-wrapper .btn.authorize")
            page.fill("#oauth_username", "alice")
            page.fill("#oauth_password", "wonderland")
            page.click(".modal-ux .auth-btn-wrapper .btn.modal-btn.auth.authorize")
            # Logged in: the dialog offers "Logout" instead.
            page.wait_for_selector(".modal-ux .auth-btn-wrapper button:has-text('Logout')",
                                   timeout=30_000)
            page.click(".modal-ux .btn-done, .modal-ux button.close-modal")

            operation.locator(".execute").click()
            page.wait_for_function(
                """() => {
                    const cell = document.querySelector(
                        '.opblock-get .live-responses-table .response .response-col_status');
                    return cell && cell.textContent.trim().startsWith('200');
                }""", timeout=30_000)
            body = operation.locator(".live-responses-table .response-col_description pre").first
            assert '"owner": "alice"' in body.inner_text()
        finally:
            context.close()
