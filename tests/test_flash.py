"""Flash messages: stored in the session, shown once, in templates too."""

from __future__ import annotations

import pytest

import dyne
from dyne.flash import MAX_FLASHES, flash, get_flashed_messages


@pytest.fixture
def app():
    app = dyne.App(secret_key="flash-test")

    @app.route("/save", methods=["POST"])
    def save(req, resp):
        flash(req, "Saved.", "success")
        flash(req, "Disk almost full", "warning")
        resp.redirect("/", status_code=303)

    @app.route("/")
    def index(req, resp):
        resp.html = app.template_string(
            "{% for category, message in get_flashed_messages(req, with_categories=True) %}"
            "<p class='{{ category }}'>{{ message }}</p>{% endfor %}"
            "|again: {{ get_flashed_messages(req) | length }}", req=req)

    return app


def test_messages_are_shown_once(app):
    r = app.client.post("/save")
    assert r.status_code == 200  # followed the 303
    assert r.text == "<p class='success'>Saved.</p><p class='warning'>Disk almost full</p>|again: 2"
    assert app.client.get("/").text == "|again: 0"  # consumed


def test_messages_are_escaped_in_templates(app):
    @app.route("/xss", methods=["POST"])
    def xss(req, resp):
        flash(req, "<script>alert(1)</script>")

    app.client.post("/xss")
    assert "&lt;script&gt;" in app.client.get("/").text


def test_category_filter_and_plain_messages(app):
    @app.route("/warnings")
    def warnings(req, resp):
        resp.media = {"warnings": get_flashed_messages(req, category_filter=["warning"]),
                      "all": get_flashed_messages(req)}

    app.client.post("/save", follow_redirects=False)
    assert app.client.get("/warnings").json() == {"warnings": ["Disk almost full"],
                                                  "all": ["Saved.", "Disk almost full"]}


def test_pages_without_messages_do_not_rewrite_the_session_cookie(app):
    assert "set-cookie" not in app.client.get("/").headers


def test_pending_messages_are_bounded_and_tampered_entries_ignored(app):
    @app.route("/many", methods=["POST"])
    def many(req, resp):
        req.session["_flashes"] = [["ok", "kept"], "junk", [1, 2], ["a", "b", "c"]]
        for n in range(MAX_FLASHES + 5):
            flash(req, f"m{n}")

    @app.route("/list")
    def listing(req, resp):
        resp.media = get_flashed_messages(req)

    app.client.post("/many")
    shown = app.client.get("/list").json()
    assert len(shown) == MAX_FLASHES and shown[-1] == f"m{MAX_FLASHES + 4}"


def test_misuse():
    app = dyne.App(secret_key="k")

    @app.route("/bad")
    def bad(req, resp):
        with pytest.raises(TypeError, match="strings"):
            flash(req, {"not": "a string"})
        with pytest.raises(TypeError, match="categories"):
            flash(req, "ok", 3)
        resp.text = "checked"

    assert app.client.get("/bad").text == "checked"
