"""GraphiQL: the page browsers get, and the bundled assets the app serves."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.graphiql import ASSETS_DIR, GRAPHIQL_PACKAGES, graphiql_page
from dyne.request import Request
from tests.conftest import ROOT, require_module

from .conftest import SCHEMAS, serve

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def page_config(html: str) -> dict:
    found = re.search(r'<script id="graphiql-config" type="application/json">(.*?)</script>', html,
                      re.DOTALL)
    assert found, "no GraphiQL config in the page"
    return json.loads(found.group(1))


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/_dyne/graphiql/[^"]+)"', html)


def test_a_browser_gets_graphiql(gql):
    response = gql.client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    assert "<title>GraphiQL</title>" in html
    assert page_config(html) == {"endpoint": "/graphql", "query": "", "variables": "",
                                 "operationName": ""}
    # Nothing from another host: every script and stylesheet is served by the app.
    assert "http://" not in html and "https://" not in html and "//unpkg" not in html
    assert sorted(asset_urls(html)) == sorted([
        "/_dyne/graphiql/graphiql-3.8.3/graphiql.min.css",
        "/_dyne/graphiql/graphiql-3.8.3/graphiql.min.js",
        "/_dyne/graphiql/react-18.3.1/react.production.min.js",
        "/_dyne/graphiql/react-dom-18.3.1/react-dom.production.min.js",
    ])


def test_every_asset_the_page_uses_is_served_with_long_cache_headers(gql):
    html = gql.client.get("/graphql", headers={"Accept": "text/html"}).text
    for url in asset_urls(html):
        response = gql.client.get(url)
        assert response.status_code == 200, url
        package, filename = url.split("/")[-2:]
        assert response.content == (ASSETS_DIR / package / filename).read_bytes()
        expected_type = "text/css" if url.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{expected_type}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        head = gql.client.head(url)
        assert head.status_code == 200 and head.content == b""


def test_licences_are_served_and_shipped_next_to_the_assets(gql):
    for package in GRAPHIQL_PACKAGES:
        licence = gql.client.get(f"/_dyne/graphiql/{package}/LICENSE")
        assert licence.status_code == 200
        assert "MIT License" in licence.text
        assert "Permission is hereby granted" in licence.text


@pytest.mark.parametrize("path", [
    "/_dyne/graphiql/graphiql-3.8.3/graphiql.min.js.map",
    "/_dyne/graphiql/graphiql-3.8.3/README.md",
    "/_dyne/graphiql/graphiql-9.9.9/graphiql.min.js",
    "/_dyne/graphiql/..%2F..%2F/view.py",
    "/_dyne/graphiql/react-18.3.1/..%2Fgraphiql-3.8.3%2Fgraphiql.min.js",
    "/_dyne/graphiql/graphiql-3.8.3",
])
def test_nothing_else_is_reachable_through_the_asset_route(gql, path):
    assert gql.client.get(path).status_code == 404


def test_asset_route_answers_only_get_and_head(gql):
    response = gql.client.post("/_dyne/graphiql/react-18.3.1/react.production.min.js")
    assert response.status_code == 405


def test_the_url_prefills_the_editor_safely(gql):
    hostile = '{ hello } # </script><script>alert("x")</script> <!-- \u2028'
    response = gql.client.get("/graphql", params={"query": hostile, "variables": '{"a": 1}',
                                                  "operationName": "Op"},
                              headers={"Accept": "text/html"})
    html = response.text
    assert "<script>alert" not in html
    assert "<!--" not in html
    assert "\u2028" not in html
    assert page_config(html) == {"endpoint": "/graphql", "query": hostile,
                                 "variables": '{"a": 1}', "operationName": "Op"}
    assert page_config(gql.client.get("/graphql?q={hello}", headers={"Accept": "text/html"}).text
                       )["query"] == "{hello}"


def test_page_urls_include_the_root_path():
    scope = {"type": "http", "method": "GET", "path": "/graphql", "root_path": "/api",
             "query_string": b"", "headers": []}
    html = graphiql_page(Request(scope))
    assert page_config(html)["endpoint"] == "/api/graphql"
    assert all(url.startswith("/api/_dyne/graphiql/") for url in
               re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html))


def test_clients_that_are_not_browsers_get_json(gql):
    for accept in ("*/*", "application/json", "text/html;q=0.5, application/json"):
        response = gql.client.get("/graphql", params={"query": "{ hello }"}, headers={"Accept": accept})
        assert response.json() == {"data": {"hello": "Hello stranger"}}
    # A browser POST (GraphiQL's own fetcher, a form) is never answered with the page.
    response = gql.client.post("/graphql", json={"query": "{ hello }"},
                               headers={"Accept": BROWSER_ACCEPT})
    assert response.json() == {"data": {"hello": "Hello stranger"}}


@pytest.mark.parametrize("backend", sorted(SCHEMAS))
def test_graphiql_can_be_turned_off(backend):
    served = serve(backend, graphiql=False)
    response = served.client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert served.client.get("/_dyne/graphiql/react-18.3.1/react.production.min.js").status_code == 404
    assert not any(route.path.startswith("/_dyne/") for route in served.app.routes)


def test_the_asset_route_leaves_other_routes_alone():
    app = dyne.App()

    @app.route("/{page}")
    def page(req, resp, *, page):
        resp.text = f"page {page}"

    @app.route("/_dyne/{what}/{name}")
    def other(req, resp, *, what, name):
        resp.text = f"{what}/{name}"

    app.add_route("/graphql", GraphQLView(app=app, schema=SCHEMAS["graphene"]([0])))
    assert app.client.get("/about").text == "page about"
    assert app.client.get("/_dyne/other/thing").text == "other/thing"
    assert app.client.get("/_dyne/graphiql/react-18.3.1/LICENSE").status_code == 200


def test_the_built_wheel_ships_the_assets_and_licences(tmp_path):
    require_module("hatchling")
    result = subprocess.run(
        [sys.executable, "-c", f"import hatchling.build as b; print(b.build_wheel({str(tmp_path)!r}))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / result.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    for package, files in GRAPHIQL_PACKAGES.items():
        for filename in files:
            assert f"dyne/ext/graphql/assets/{package}/{filename}" in names
    assert "dyne/ext/graphql/assets/README.md" in names


def test_assets_on_disk_match_the_table():
    on_disk = {str(path.relative_to(ASSETS_DIR)) for path in ASSETS_DIR.rglob("*") if path.is_file()}
    listed = {f"{package}/{name}" for package, names in GRAPHIQL_PACKAGES.items() for name in names}
    assert on_disk == listed | {"README.md"}
    readme = (ASSETS_DIR / "README.md").read_text()
    for package in GRAPHIQL_PACKAGES:
        assert f"`{package}/`" in readme
    assert Path(ASSETS_DIR / "graphiql-3.8.3" / "graphiql.min.js").stat().st_size > 1_000_000
