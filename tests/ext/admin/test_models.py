"""The admin's access rules, CSRF, and the database pages (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .helpers import csrf_token, define_models, log_in, make_admin_app

pytest.importorskip("sqlalchemy")


def concrete(path: str) -> str:
    """An admin route's path with its parameters filled in."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: {"slug": "book", "pk": "1", "job_id": "j",
                                                  "action": "pause", "task_id": "t"}[m.group(1)], path)


def admin_urls(admin: Any) -> list[tuple[str, str]]:
    found = []
    for route in admin.routes:
        for method in sorted(route.methods or {"GET"}):
            if method in ("HEAD", "OPTIONS"):
                continue
            found.append((method, concrete(route.path)))
    return found


def test_every_admin_url_needs_an_admin(database_url: str) -> None:
    models = define_models()  # noqa: F841 - kept referenced: the registry holds models weakly
    app, _, admin = make_admin_app(database_url)
    urls = admin_urls(admin)
    assert len(urls) >= 15 and ("GET", "/admin") in urls and ("POST", "/admin/models/book/new") in urls
    with app.client as client:
        for method, path in urls:  # nobody logged in
            browser = client.request(method, path, headers={"Accept": "text/html"}, follow_redirects=False)
            if method == "GET":
                assert browser.status_code == 302, (method, path)
                assert browser.headers["Location"].startswith("/login?next=%2Fadmin")
            else:
                assert browser.status_code in (401, 302, 403), (method, path)
            api = client.request(method, path, headers={"Accept": "application/json"})
            assert api.status_code == 401, (method, path, api.status_code)
        log_in(client, "eve")
        for method, path in urls:
            answer = client.request(method, path, follow_redirects=False)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert "Book" not in answer.text
        assert client.get("/").text == "home"


def test_admin_adds_nothing_to_other_routes(database_url: str) -> None:
    import dyne
    from dyne.ext.admin import Admin

    app, _, admin = make_admin_app(database_url)
    plain = dyne.App(secret_key="x" * 32)
    assert app._middleware == []
    assert len(app.before_hooks) == 1 and len(app.after_hooks) == 0   # LoginManager's own hook
    assert all(route.path.startswith("/admin") for route in admin.routes)
    with pytest.raises(RuntimeError, match="LoginManager"):
        Admin(plain)
    with pytest.raises(ValueError, match="role= or check="):
        Admin(role=None)
    with pytest.raises(ValueError, match="'/admin'"):
        Admin(url="admin")


def test_crud_search_filters_sorting_pagination_and_audit(database_url: str) -> None:
    models = define_models()  # kept referenced: the registry holds models weakly
    Author = models[0]
    app, _, admin = make_admin_app(database_url, per_page=3, read_only=[Author])
    with app.client as client:
        log_in(client)
        dashboard = client.get("/admin")
        assert dashboard.status_code == 200 and "Rows per model" in dashboard.text
        assert dashboard.headers["Cache-Control"] == "no-store"
        # Every registered model, by name (other modules' models, such as the AI
        # extension's chat history, are registered too once imported).
        names = [m.name for m in admin.model_admins()]
        assert {"Account", "Author", "Book"} <= set(names) and names == sorted(names)
        assert "AdminAuditLog" not in names and len(names) == len(set(names))

        # The read-only model cannot be changed; create authors for the relationship select.
        assert client.get("/admin/models/author/new").status_code == 403

        async def add_authors() -> None:
            async with app.state.db.begin() as session:
                session.add_all([Author(name="Ursula"), Author(name="Frank")])

        client.portal.call(add_authors)

        form_page = client.get("/admin/models/book/new")
        assert form_page.status_code == 200
        assert '<option value="1">Ursula</option>' in form_page.text  # many-to-one as a select
        assert '<option value="red"' in form_page.text  # enum as a select
        token = csrf_token(client, "/admin/models/book/new")

        bad = client.post("/admin/models/book/new",
                          data={"csrf_token": token, "title": "", "pages": "many", "color": "green"})
        assert bad.status_code == 400
        assert 'id="error-title">This field is required.' in bad.text
        assert 'id="error-pages">Expected an integer.' in bad.text
        assert 'id="error-color">Expected one of: red, blue.' in bad.text
        assert 'value="many"' in bad.text  # the user's input is kept

        created = client.post("/admin/models/book/new", data={
            "csrf_token": token, "title": "The Dispossessed", "pages": "387", "in_print": "on",
            "color": "blue", "author_id": "1"}, follow_redirects=False)
        assert created.status_code == 303 and created.headers["Location"] == "/admin/models/book/1"
        detail = client.get("/admin/models/book/1")
        assert "The Dispossessed" in detail.text and "387" in detail.text
        assert "Book 1 created." in detail.text

        for number in range(2, 8):
            answer = client.post("/admin/models/book/new", data={
                "csrf_token": token,
                "title": f"Book {number} 100%_sure" if number == 7 else f"Book {number}",
                "pages": str(number * 10), "author_id": "2" if number % 2 else ""})
            assert answer.status_code == 200, answer.text

        listing = client.get("/admin/models/book")
        assert "(7)" in listing.text and "Page 1 of 3" in listing.text
        page3 = client.get("/admin/models/book?page=3")
        assert page3.text.count('name="ids"') == 1
        assert client.get("/admin/models/book?page=zero").status_code == 400

        found = client.get("/admin/models/book", params={"q": "dispos"})   # case-insensitive
        assert "(1)" in found.text and "The Dispossessed" in found.text
        literal = client.get("/admin/models/book", params={"q": "100%_"})  # % and _ are literal
        assert "(1)" in literal.text and "Book 7" in literal.text
        assert "(0)" in client.get("/admin/models/book", params={"q": "5%"}).text

        by_author = client.get("/admin/models/book", params={"f.author_id": "2"})
        assert "(3)" in by_author.text
        assert "(1)" in client.get("/admin/models/book", params={"f.color": "blue"}).text
        assert "(1)" in client.get("/admin/models/book", params={"f.in_print": "true"}).text

        descending = client.get("/admin/models/book", params={"sort": "pages", "dir": "desc"})
        titles = re.findall(r">(The Dispossessed|Book \d[^<]*)<", descending.text)
        assert titles[0] == "The Dispossessed" and titles[1].startswith("Book 7")
        assert client.get("/admin/models/book", params={"sort": "nope"}).status_code == 200

        edit_token = csrf_token(client, "/admin/models/book/1/edit")
        edited = client.post("/admin/models/book/1/edit", data={
            "csrf_token": edit_token, "title": "The Dispossessed (2nd ed.)", "pages": "400",
            "color": "blue", "author_id": "1", "in_print": "on"}, follow_redirects=False)
        assert edited.status_code == 303
        assert "400" in client.get("/admin/models/book/1").text
        invalid = client.post("/admin/models/book/1/edit", data={
            "csrf_token": edit_token, "title": "x" * 121, "pages": "1"})
        assert invalid.status_code == 400 and "At most 120 characters." in invalid.text

        confirm = client.get("/admin/models/book/2/delete")
        assert "Yes, delete" in confirm.text and "Book 2" in confirm.text
        assert client.post("/admin/models/book/2/delete", data={"csrf_token": edit_token},
                           follow_redirects=False).status_code == 303
        assert client.get("/admin/models/book/2").status_code == 404
        assert client.get("/admin/models/book/abc").status_code == 404

        asked = client.post("/admin/models/book/bulk-delete",
                            data={"csrf_token": edit_token, "ids": ["3", "4", "999"]})
        assert "Delete 2 Book row(s)?" in asked.text
        assert "(6)" in client.get("/admin/models/book").text  # nothing deleted yet
        client.post("/admin/models/book/bulk-delete",
                    data={"csrf_token": edit_token, "ids": ["3", "4"], "confirm": "yes"})
        assert "(4)" in client.get("/admin/models/book").text

        audit = client.get("/admin/audit").text
        assert audit.count("<td>root</td>") == 7 + 1 + 1 + 2
        entries = re.findall(
            r"<td>update</td><td>Book 1</td>\s*<td><pre>(.*?)</pre></td><td><pre>(.*?)</pre>", audit)
        before, after = (json.loads(text.replace("&#34;", '"')) for text in entries[0])
        assert before == {"pages": 387, "title": "The Dispossessed"}
        assert after == {"pages": 400, "title": "The Dispossessed (2nd ed.)"}


def test_sensitive_and_hidden_columns(database_url: str) -> None:
    _, _, Account = define_models()
    app, _, _ = make_admin_app(database_url, hidden_columns={"Account": ["note"]})
    with app.client as client:
        log_in(client)
        token = csrf_token(client, "/admin/models/account/new")
        missing = client.post("/admin/models/account/new", data={"csrf_token": token, "email": "a@b.c"})
        assert missing.status_code == 400
        assert 'id="error-password_hash">This field is required.' in missing.text
        created = client.post("/admin/models/account/new", data={
            "csrf_token": token, "email": "a@b.c", "password_hash": "$argon2id$SECRETHASH",
            "api_token": "TOKEN123", "note": "ignored"}, follow_redirects=False)
        assert created.status_code == 303
        for page in ("/admin/models/account", "/admin/models/account/1", "/admin/models/account/1/edit",
                     "/admin/audit"):
            text = client.get(page).text
            assert "SECRETHASH" not in text and "TOKEN123" not in text, page
            assert "Note" not in text, page
        assert "a@b.c" in client.get("/admin/models/account").text
        # An empty password field keeps the stored value.
        client.post("/admin/models/account/1/edit", data={"csrf_token": token, "email": "new@b.c"})

        async def stored() -> Any:
            async with app.state.db.session() as session:
                return await session.get(Account, 1)

        account = client.portal.call(stored)
        assert (account.email, account.password_hash) == ("new@b.c", "$argon2id$SECRETHASH")


def test_cross_site_form_posts_are_refused(database_url: str) -> None:
    models = define_models()  # noqa: F841 - kept referenced: the registry holds models weakly
    app, _, _ = make_admin_app(database_url)
    with app.client as client:
        log_in(client)
        token = csrf_token(client, "/admin/models/book/new")
        evil = client.post("/admin/models/book/new", data={"csrf_token": token, "title": "pwned"},
                           headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        no_token = client.post("/admin/models/book/new", data={"title": "pwned"})
        assert no_token.status_code == 403
        forged = client.post("/admin/models/book/new", data={"csrf_token": "ab" * 64, "title": "pwned"})
        assert forged.status_code == 403
        assert "(0)" in client.get("/admin/models/book").text
        same_site = client.post("/admin/models/book/new", data={"csrf_token": token, "title": "ok"},
                                follow_redirects=False)
        assert same_site.status_code == 303
