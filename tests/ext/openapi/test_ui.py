"""The documentation pages of each theme and the route serving their assets."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest

import dyne
from dyne.ext.openapi import OpenAPI
from dyne.ext.openapi.ui import ASSETS_DIR, PACKAGES, THEMES
from tests.conftest import ROOT, require_module

SCRIPT_OR_STYLE = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("theme", THEMES)
def test_each_theme_page_loads_only_local_assets(theme):
    app = dyne.App()
    OpenAPI(app, theme=theme, title="Shop <API>")
    page = app.client.get("/docs")
    assert page.status_code == 200
    assert "<title>Shop &lt;API&gt;</title>" in page.text
    urls = SCRIPT_OR_STYLE.findall(page.text)
    assert urls
    for url in urls:
        assert url.startswith("/_dyne/openapi/") or url == "data:,", url
        asset = app.client.get(url) if url != "data:," else None
        if asset is not None:
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
    assert "/schema.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text


def test_unknown_assets_are_not_found():
    app = dyne.App()
    OpenAPI(app)
    for path in ("/_dyne/openapi/redoc-2.5.2/package.json", "/_dyne/openapi/nope/LICENSE",
                 "/_dyne/openapi/redoc-2.5.2/..%2F..%2Fui.py", "/_dyne/openapi/redoc-2.5.2/README.md"):
        assert app.client.get(path).status_code == 404, path
    licence = app.client.get("/_dyne/openapi/stoplight-elements-9.0.25/LICENSE")
    assert licence.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Apache License" in licence.text


def test_assets_on_disk_match_the_table():
    on_disk = {str(path.relative_to(ASSETS_DIR)) for path in ASSETS_DIR.rglob("*") if path.is_file()}
    listed = {f"{package}/{name}" for package, names in PACKAGES.items() for name in names}
    assert on_disk == listed | {"README.md"}
    readme = (ASSETS_DIR / "README.md").read_text()
    for package in PACKAGES:
        assert f"`{package}/`" in readme
    for package, names in PACKAGES.items():
        assert any(name.startswith("LICENSE") for name in names), package


def test_the_built_wheel_ships_the_assets_and_licences(tmp_path):
    require_module("hatchling")
    result = subprocess.run(
        [sys.executable, "-c", f"import hatchling.build as b; print(b.build_wheel({str(tmp_path)!r}))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / result.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    for package, files in PACKAGES.items():
        for filename in files:
            assert f"dyne/ext/openapi/assets/{package}/{filename}" in names
    assert "dyne/ext/openapi/assets/README.md" in names
