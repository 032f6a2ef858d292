"""The documentation UIs in a real browser: headless Chromium loads /docs from
a uvicorn server on loopback, for each theme, and the page must render the
API's operations from the app's own document, with every request it makes
going to the app (no CDN, no fonts, no validator service)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel

import dyne
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.openapi import OpenAPI
from tests.conftest import serve_in_thread

pytestmark = pytest.mark.server


class Book(BaseModel):
    title: str
    price: float


def make_app(theme: str, openapi: str) -> dyne.App:
    app = dyne.App()
    OpenAPI(app, title="Shelf API", version="2.1", theme=theme, openapi=openapi)

    @app.route("/books", methods=["POST"])
    @input(Book)
    @output(Book, status_code=201)
    async def create_book(req, resp, *, data):
        """Add a book to the shelf"""
        resp.obj = data

    @app.route("/books/{id:int}", methods=["GET"])
    @output(Book)
    @expect({404: "No such book"})
    async def read_book(req, resp, *, id):
        """Look a book up"""
        resp.obj = {"title": "Dune", "price": 9.5}

    return app


THEMES = ("elements", "rapidoc", "redoc", "scalar", "swaggerui")


#: Decorative requests a UI makes to the internet, which the docs page's
#: Content-Security-Policy blocks in the browser (they never reach the network).
ALLOWED_TO_BE_BLOCKED: dict[str, set[str]] = {
    "swaggerui": set(),
    "redoc": {"https://cdn.redoc.ly/redoc/logo-mini.svg"},
    "rapidoc": set(),
    "elements": set(),
    "scalar": set(),
}


def _page_text(page, theme: str) -> str:
    if theme == "rapidoc":
        # RapiDoc renders into its shadow DOM.
        return page.evaluate("document.querySelector('rapi-doc').shadowRoot.textContent")
    return page.inner_text("body")


@pytest.mark.parametrize("openapi", ["3.0.3", "3.1.0"])
@pytest.mark.parametrize("theme", THEMES)
def test_docs_page_renders_operations_offline(browser, theme, openapi):
    app = make_app(theme, openapi)
    with serve_in_thread(app) as url:
        context = browser.new_context()
        page = context.new_page()
        requested: list[str] = []
        failed: list[str] = []
        page_errors: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        # Anything aimed off the machine that gets past the page's CSP is
        # stopped here, before it reaches the network, and recorded.
        intercepted: list[str] = []

        def outside(route):
            intercepted.append(route.request.url)
            route.abort()

        context.route(lambda address: urlsplit(address).hostname not in (None, "127.0.0.1"), outside)
        try:
            response = page.goto(f"{url}/docs")
            assert response.status == 200
            page.wait_for_function(
                """(theme) => {
                    const root = theme === 'rapidoc'
                        ? (document.querySelector('rapi-doc') || {}).shadowRoot
                        : document.body;
                    const text = root ? root.textContent : '';
                    return text.includes('Add a book to the shelf') && text.includes('Look a book up');
                }""", arg=theme, timeout=60_000)
            text = _page_text(page, theme)
            if theme == "swaggerui":
                # One block per operation, with its method and path.
                blocks = page.locator(".opblock-summary").all_inner_texts()
                assert len(blocks) == 2
                assert any("POST" in block and "/books" in block for block in blocks)
            # The operations are rendered; give late requests (images, a
            # worker) a moment to show up in the log.
            page.wait_for_load_state("load")
            page.wait_for_timeout(1000)
        finally:
            context.close()
    assert "Shelf API" in text
    assert "Add a book to the shelf" in text and "Look a book up" in text
    assert not page_errors, page_errors
    assert not intercepted, intercepted
    # The page's Content-Security-Policy stops anything aimed elsewhere before
    # it leaves the browser: ReDoc's sidebar logo, which it then hides.
    blocked = {address for address, failure in failed if failure == "csp"}
    assert blocked <= ALLOWED_TO_BE_BLOCKED[theme], blocked
    assert not [item for item in failed if item[1] != "csp"], failed
    hosts = {urlsplit(address).hostname for address in requested
             if not address.startswith(("data:", "blob:")) and address not in blocked}
    assert hosts == {"127.0.0.1"}, requested
    paths = {urlsplit(address).path for address in requested}
    assert "/schema.json" in paths
    assert any(path.startswith("/_dyne/openapi/") for path in paths)
