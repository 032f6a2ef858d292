"""The showcase's live page in headless Chromium: a note created over HTTP
appears on the page, through the "notes" channel and a websocket. (A module of
its own: the browser fixture keeps Playwright's event loop for the module.)"""

import sys

import httpx

from tests.conftest import free_port, serve_in_subprocess


def test_the_live_page_in_a_browser_shows_changes_as_they_happen(browser):
    port = free_port()
    with serve_in_subprocess([sys.executable, "examples/showcase/app.py"], port,
                             env={"PORT": str(port)}):
        page = browser.new_page()
        try:
            page.goto(f"http://127.0.0.1:{port}/live")
            page.wait_for_function("document.getElementById('status').textContent === 'live'",
                                   timeout=15000)
            httpx.post(f"http://127.0.0.1:{port}/notes", json={"title": "Seen live"}, timeout=10)
            page.wait_for_selector("#events li", timeout=15000)
            assert page.inner_text("#events li") == "created: Seen live"
        finally:
            page.close()
