"""Redirects stay on the site: the trailing-slash redirect built from the
request path, and ``resp.redirect(..., allow_external=False)``."""

from __future__ import annotations

import pytest

import dyne


def path_app() -> dyne.App:
    app = dyne.App()

    @app.route("/{name}")
    async def one(req, resp, *, name):
        resp.text = f"one:{name}"

    @app.route("/{first}/{second}")
    async def two(req, resp, *, first, second):
        resp.text = f"two:{first}/{second}"

    return app


#: Paths whose trailing-slash redirect used to point browsers at evil.example.
HOSTILE_PATHS = ["/%5Cevil.example/", "/%5C%5Cevil.example/", "/%09/evil.example/",
                 "/%0A/evil.example/", "/%5C/evil.example/"]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_trailing_slash_redirect_never_leaves_the_origin(path):
    from urllib.parse import urljoin

    answer = path_app().client.get(path, follow_redirects=False)
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and not any(ord(char) < 0x20 for char in location)
    # Resolved as a browser would (after stripping tabs and newlines):
    resolved = urljoin("http://testserver/", location.replace("\t", "").replace("\n", ""))
    assert resolved.startswith("http://testserver/"), resolved


def test_trailing_slash_redirect_keeps_the_query_and_ordinary_paths():
    answer = path_app().client.get("/docs/?a=1&b=%20", follow_redirects=False)
    assert answer.headers["location"] == "/docs?a=1&b=%20"
    assert path_app().client.get("/caf%C3%A9/", follow_redirects=True).text == "one:café"


def test_trailing_slash_redirect_stays_on_origin_in_a_browser(browser, server):
    app = path_app()
    with server(app) as url:
        context = browser.new_context()
        page = context.new_page()
        requested: list[str] = []

        def record(route):
            requested.append(route.request.url)
            if route.request.url.startswith(url):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", record)
        try:
            for path in HOSTILE_PATHS:
                requested.clear()
                try:
                    page.goto(url + path)
                except Exception:  # an aborted off-site navigation
                    pass
                assert requested, path
                assert all(seen.startswith(url + "/") for seen in requested), (path, requested)
                assert page.url.startswith(url + "/"), (path, page.url)
        finally:
            context.close()


# -- resp.redirect(allow_external=False) ------------------------------------------------------


def next_app() -> dyne.App:
    app = dyne.App()

    @app.route("/login")
    async def login(req, resp):
        resp.redirect(req.params.get("next", "/"), allow_external=False)

    @app.route("/anywhere")
    async def anywhere(req, resp):
        resp.redirect(req.params["next"])

    return app


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                    "/\t/evil.example", "javascript:alert(1)",
                                    "http://shop.example.evil.example/", "https://shop.example/"])
def test_redirect_can_refuse_off_site_targets(target):
    answer = next_app().client.get("/login", params={"next": target}, follow_redirects=False,
                                   headers={"host": "shop.example"})
    assert answer.status_code == 400
    assert "another site" in answer.text


@pytest.mark.parametrize("target", ["/account", "/a/b?c=d#e", "http://shop.example/account"])
def test_redirect_allows_on_site_targets(target):
    answer = next_app().client.get("/login", params={"next": target}, follow_redirects=False,
                                   headers={"host": "shop.example"})
    assert answer.status_code == 302
    assert answer.headers["location"] == target


def test_redirect_allows_external_targets_unless_told():
    answer = next_app().client.get("/anywhere", params={"next": "https://example.com/"},
                                   follow_redirects=False)
    assert answer.headers["location"] == "https://example.com/"
