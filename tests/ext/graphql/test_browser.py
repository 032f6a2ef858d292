"""GraphiQL in a real browser: headless Chromium, a uvicorn server on
loopback, and no other network. The page must load everything from the app,
and a query typed into GraphiQL must come back with data."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import serve_in_thread

from .conftest import SCHEMAS, serve

pytestmark = pytest.mark.server


@pytest.mark.parametrize("backend", sorted(SCHEMAS))
def test_graphiql_renders_and_runs_a_typed_query(browser, backend):
    served = serve(backend)
    with serve_in_thread(served.app) as url:
        context = browser.new_context()
        page = context.new_page()
        requested: list[str] = []
        failed: list[str] = []
        page_errors: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        try:
            response = page.goto(f"{url}/graphql")
            assert response.status == 200
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            editor.wait_for(timeout=30_000)
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.type('{ hello(name: "Chromium") asyncHello }')
            page.locator(".graphiql-execute-button").click()
            page.wait_for_function(
                "document.querySelector('.graphiql-response')"
                " && document.querySelector('.graphiql-response').innerText.includes('Hello Chromium')",
                timeout=30_000)
            result = page.locator(".graphiql-response").inner_text()
        finally:
            context.close()
    assert '"hello": "Hello Chromium"' in result
    assert '"asyncHello": "Hello stranger"' in result
    assert not page_errors
    assert not failed
    # Everything came from the app over loopback: the page, its scripts and
    # styles, and GraphiQL's requests (schema introspection, then the query).
    hosts = {urlsplit(address).hostname for address in requested if not address.startswith("data:")}
    assert hosts == {"127.0.0.1"}
    paths = [urlsplit(address).path for address in requested]
    assert paths.count("/graphql") >= 3
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js",
                  "react-dom.production.min.js"):
        assert any(path.endswith(asset) for path in paths), asset
