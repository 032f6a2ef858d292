"""Acceptance: the admin in headless Chromium against the app under uvicorn,
on PostgreSQL: log in, create, edit, search and delete a row, pause and resume
a job, find a log line by its request id, screenshot every page; a non-admin
gets 403 everywhere and a cross-site form post is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import dyne
from tests.conftest import serve_in_thread, service_unavailable
from tests.ext.db.conftest import reset_postgres_schema

from .helpers import define_models, make_admin_app
from .test_models import admin_urls

pytest.importorskip("sqlalchemy")
pytest.importorskip("loguru")


@pytest.fixture
def postgres_url(postgres_database: tuple[str | None, str]) -> Iterator[str]:
    url, reason = postgres_database
    if url is None:
        service_unavailable("PostgreSQL", reason)
    try:
        yield url  # type: ignore[misc]
    finally:
        reset_postgres_schema(url)  # type: ignore[arg-type]


def test_admin_in_a_browser(browser: Any, postgres_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    from dyne.ext.observability import RequestContext
    from dyne.ext.scheduler import TaskManager, schedule_job

    monkeypatch.chdir(tmp_path)
    models = define_models()
    Author = models[0]

    class Jobs(TaskManager):
        @schedule_job("interval", hours=6, id="cleanup")
        async def cleanup(self) -> None:
            pass

    app, db, admin = make_admin_app(postgres_url)
    app.config["DEFAULT_LOGGER"] = {"SINK": str(tmp_path / "app.jsonl"), "FORMAT": "json"}
    RequestContext(app)
    Jobs(app)

    @app.route("/checkout", methods=["POST"])
    async def checkout(req: Any, resp: Any) -> None:
        app.logger.warning("card declined for basket 7")
        resp.text = "declined"

    @app.on_event("startup")
    async def authors() -> None:
        async with db.begin() as session:
            session.add(Author(name="Ursula K. Le Guin"))

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with serve_in_thread(app) as base:
        context = browser.new_context(viewport={"width": 1100, "height": 720})
        page = context.new_page()

        def shot(name: str) -> None:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        # Not logged in: the login page, then back to the admin.
        page.goto(f"{base}/admin/models/book")
        assert page.url.startswith(f"{base}/login?next=")
        page.fill("input[name=username]", "root")
        page.fill("input[name=password]", "toor")
        page.click("button")
        page.wait_for_url(f"{base}/admin/models/book")
        page.goto(f"{base}/admin")
        assert page.locator("h1").inner_text() == "Dashboard"
        shot("dashboard")

        # Create.
        page.goto(f"{base}/admin/models/book")
        page.click("text=New Book")
        assert page.is_checked("#field-in_print")  # the column's default
        page.fill("#field-title", "")
        page.fill("#field-pages", "lots")
        page.click("button:has-text('Save')")
        assert page.locator("#error-title").inner_text() == "This field is required."
        assert page.locator("#error-pages").inner_text() == "Expected an integer."
        shot("form-errors")
        page.fill("#field-title", "The Left Hand of Darkness")
        page.fill("#field-pages", "304")
        page.select_option("#field-author_id", label="Ursula K. Le Guin")
        page.select_option("#field-color", "blue")
        page.click("button:has-text('Save')")
        page.wait_for_url(re.compile(r".*/admin/models/book/\d+$"))
        assert "created" in page.locator(".flash").inner_text()
        shot("detail")

        # Edit.
        page.click("text=Edit")
        page.fill("#field-title", "The Left Hand of Darkness (1969)")
        page.click("button:has-text('Save')")
        page.wait_for_url(re.compile(r".*/admin/models/book/\d+$"))
        assert "The Left Hand of Darkness (1969)" in page.content()

        # Search.
        page.goto(f"{base}/admin/models/book")
        page.fill("input[name=q]", "left hand")
        page.click("button:has-text('Apply')")
        page.wait_for_url(re.compile(r".*q=left\+hand.*"))
        assert page.locator("tbody tr").count() == 1
        shot("list")
        page.fill("input[name=q]", "no such book")
        page.click("button:has-text('Apply')")
        page.wait_for_url(re.compile(r".*q=no\+such.*"))
        assert "No rows." in page.content()

        # Delete, with confirmation.
        page.goto(f"{base}/admin/models/book")
        page.click("tbody a")
        page.click("text=Delete")
        assert "This cannot be undone." in page.content()
        shot("delete")
        page.click("button:has-text('Yes, delete')")
        page.wait_for_url(f"{base}/admin/models/book")
        assert "No rows." in page.content()

        # Pause and resume a scheduled job.
        page.goto(f"{base}/admin/jobs")
        page.click("#job-cleanup button:has-text('Pause')")
        page.wait_for_load_state()
        assert page.locator("#job-cleanup .next-run").inner_text() == "paused"
        shot("jobs")
        page.click("#job-cleanup button:has-text('Resume')")
        page.wait_for_load_state()
        assert page.locator("#job-cleanup .next-run").inner_text() != "paused"

        # Find a log line by its request id.
        httpx.post(f"{base}/checkout", headers={"X-Request-ID": "basket-7-checkout"})
        httpx.post(f"{base}/checkout", headers={"X-Request-ID": "another-one"})
        page.goto(f"{base}/admin/logs")
        page.fill("input[name=request_id]", "basket-7-checkout")
        page.click("button:has-text('Filter')")
        page.wait_for_url(re.compile(r".*request_id=basket-7-checkout.*"))
        rows = page.locator("tr.log-record")
        assert rows.count() >= 2  # the warning and the access line
        assert "card declined for basket 7" in rows.first.inner_text() or \
            "card declined for basket 7" in page.content()
        assert "another-one" not in page.content()
        shot("logs")

        page.goto(f"{base}/admin/audit")
        for action in ("create", "update", "delete", "job pause", "job resume"):
            assert page.locator(f"td:text-is('{action}')").count() >= 1
        shot("audit")

        # On a phone: no horizontal scrolling of the page itself.
        phone = browser.new_context(viewport={"width": 390, "height": 800})
        phone.add_cookies(context.cookies())
        small = phone.new_page()
        small.goto(f"{base}/admin/models/book")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        small.screenshot(path=str(shots / "phone.png"))
        phone.close()

        # A cross-site form post (another origin, with the admin's cookies) is refused.
        evil = dyne.App()

        @evil.route("/")
        async def lure(req: Any, resp: Any) -> None:
            resp.html = (f'<form id="f" method="post" action="{base}/admin/models/book/new">'
                         '<input name="title" value="pwned"></form>'
                         '<script>document.getElementById("f").submit()</script>')

        with serve_in_thread(evil) as evil_base:
            with page.expect_response(lambda r: "/admin/models/book/new" in r.url) as answer:
                page.goto(evil_base)
            assert answer.value.status in (403, 302)
        page.goto(f"{base}/admin/models/book")
        assert "No rows." in page.content() and "pwned" not in page.content()
        context.close()

        # A user without the admin role: 403 on every admin URL.
        other = browser.new_context()
        page = other.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "eve")
        page.fill("input[name=password]", "eve")
        page.click("button")
        page.wait_for_load_state()
        for method, path in admin_urls(admin):
            if method == "GET":
                response = page.goto(base + path)
                assert response is not None and response.status == 403, (method, path)
            else:
                response = page.request.fetch(base + path, method=method,
                                              headers={"Origin": base}, form={"x": "1"})
                assert response.status == 403, (method, path)
        other.close()
    for name in ("dashboard", "form-errors", "detail", "list", "delete", "jobs", "logs", "audit", "phone"):
        assert (shots / f"{name}.png").stat().st_size > 5000
