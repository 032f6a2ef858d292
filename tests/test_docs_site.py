"""The documentation site: ``mkdocs build --strict`` over docs/ (no broken
links, no page left out of the nav, the API reference generated from the
docstrings), and its pages rendered by headless Chromium."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, serve_in_thread

pytest.importorskip("mkdocs", reason='the docs site needs the dev extra: pip install -e ".[dev]"')
pytest.importorskip("mkdocstrings", reason='the docs site needs the dev extra')

PAGES = sorted(path.stem for path in (ROOT / "docs").glob("*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module with ``mkdocs build --strict``."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(target)})
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    from starlette.staticfiles import StaticFiles

    files = StaticFiles(directory=site, html=True)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":  # StaticFiles answers HTTP only
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await files(scope, receive, send)

    with serve_in_thread(app) as url:
        yield url


def test_strict_build_builds_every_page_and_the_nav_or_index_reaches_it(site):
    import re

    import yaml

    def nav_files(items):
        for item in items:
            for value in item.values() if isinstance(item, dict) else [item]:
                if isinstance(value, list):
                    yield from nav_files(value)
                else:
                    yield value

    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    in_nav = {Path(name).stem for name in nav_files(config["nav"])}
    linked = set(re.findall(r"\]\(([\w.-]+)\.md[)#]", (ROOT / "docs" / "index.md").read_text()))
    assert set(PAGES) - in_nav - linked - {"index"} == set()
    assert in_nav <= set(PAGES)
    for page in PAGES:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), page


def test_api_reference_is_generated_from_docstrings(site):
    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ["App", "Request", "Response", "Router", "RouteGroup", "Config", "Extension",
                 "OpenAPI", "BasicAuth", "LoginManager", "Alchemical", "Cache", "RateLimiter",
                 "Channels", "GraphQLView", "EmailClient", "TaskManager", "TaskQueue",
                 "Health", "Metrics", "Tracing"]:
        assert 'id="dyne.' in html and f">{name}<" in html, name
    # a docstring, rendered: App.run's
    assert "Serve the app with uvicorn" in html


def test_pages_render_in_a_browser(site_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for name in PAGES:
            path = "/" if name == "index" else f"/{name}/"
            response = page.goto(site_url + path)
            assert response is not None and response.status == 200, path
            heading = page.locator("article h1").first
            assert heading.is_visible(), path
            assert heading.inner_text().strip(), path
            # the theme's stylesheet applied: the header bar is laid out and coloured
            box = page.locator("header.md-header").bounding_box()
            assert box is not None and box["height"] > 30 and box["width"] >= 1200, path
            shot = tmp_path / f"{name}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 5000, path
    finally:
        page.close()
    assert errors == []
