"""The showcase's pages: a designed home page linking every feature and docs
theme, an HTML admin page, updates by PUT and PATCH, explicit methods."""

from __future__ import annotations

import re

from tests.examples.test_showcase import showcase  # noqa: F401 - the fixture
from tests.ext.db.conftest import database_url, postgres_database  # noqa: F401 - fixtures


def test_home_page_is_a_designed_document(showcase):  # noqa: F811
    page = showcase.app.client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert html.startswith("<!doctype html>")
    assert "<title>dyne showcase" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert "@media (max-width: 600px)" in showcase.app.client.get("/static/style.css").text
    links = set(re.findall(r'href="([^"]+)"', html))
    for feature in showcase.FEATURES:
        assert feature["href"] in links
    for theme, _ in showcase.DOCS_THEMES:
        assert f"/docs/{theme}" in links


def test_every_link_on_the_home_page_answers(showcase):  # noqa: F811
    client = showcase.app.client
    html = client.get("/").text
    for link in sorted(set(re.findall(r'href="(/[^"]*)"', html))):
        status = client.get(link, headers={"Accept": "text/html"}).status_code  # as a browser
        expected = {"/admin": 401,  # HTTP Basic
                    "/bookmarks": 503}.get(link, 200)  # no NOSQL_DATABASE configured here
        assert status == expected, link


def test_docs_themes(showcase):  # noqa: F811
    client = showcase.app.client
    for theme, _ in showcase.DOCS_THEMES:
        page = client.get(f"/docs/{theme}")
        assert page.status_code == 200 and "/schema.json" in page.text, theme
    assert client.get("/docs/nope").status_code == 404


def test_admin_page_is_html_for_browsers(showcase):  # noqa: F811
    client = showcase.app.client
    admin = ("admin", "admin-password")
    page = client.get("/admin", auth=admin, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")
    assert '<dd id="notes">1</dd>' in page.text and '<dd id="drafts">0</dd>' in page.text
    assert client.get("/admin", auth=admin).json() == {"admin": "admin", "notes": 1,
                                                       "published": 1}


def test_update_by_put_and_patch(showcase):  # noqa: F811
    client = showcase.app.client
    note = client.post("/notes", json={"title": "Draft", "body": "one"}).json()
    replaced = client.put(f"/notes/{note['id']}", json={"title": "Final", "body": "two"})
    assert replaced.status_code == 200
    assert (replaced.json()["title"], replaced.json()["body"]) == ("Final", "two")
    patched = client.patch(f"/notes/{note['id']}", json={"published": True})
    assert patched.json() == {**replaced.json(), "published": True}
    assert client.patch(f"/notes/{note['id']}", json={"title": ""}).status_code == 400
    assert client.patch("/notes/999999", json={"body": "x"}).status_code == 404
    assert client.patch(f"/notes/{note['id']}", json={}).status_code == 400
    assert client.get(f"/notes/{note['id']}").json()["published"] is True
    schema = client.get("/schema.json").json()
    operations = schema["paths"]["/notes/{id}"]
    assert {"get", "put", "patch", "delete"} <= set(operations)


def test_every_route_names_its_methods(showcase):  # noqa: F811
    for route in showcase.app.routes:
        if route.websocket or route.is_class or route.is_view_object:  # they declare on_get...
            continue
        assert getattr(route, "methods", None), route.path
