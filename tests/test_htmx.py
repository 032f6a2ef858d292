"""req.htmx (the HX-* request headers) and resp.htmx (the HX-* response headers)."""

from __future__ import annotations

import json

import pytest

import dyne


def test_req_htmx_reads_the_request_headers(app):
    @app.route("/details")
    def details(req, resp):
        hx = req.htmx
        resp.media = {"htmx": bool(hx), "boosted": hx.boosted, "target": hx.target,
                      "trigger": hx.trigger, "trigger_name": hx.trigger_name,
                      "current_url": hx.current_url, "prompt": hx.prompt,
                      "restore": hx.history_restore_request}

    plain = app.client.get("/details").json()
    assert plain == {"htmx": False, "boosted": False, "target": None, "trigger": None,
                     "trigger_name": None, "current_url": None, "prompt": None, "restore": False}
    r = app.client.get("/details", headers={
        "HX-Request": "true", "HX-Boosted": "true", "HX-Target": "rows", "HX-Trigger": "save-btn",
        "HX-Trigger-Name": "save", "HX-Current-URL": "http://t/contacts", "HX-Prompt": "yes",
        "HX-History-Restore-Request": "true"})
    assert r.json() == {"htmx": True, "boosted": True, "target": "rows", "trigger": "save-btn",
                        "trigger_name": "save", "current_url": "http://t/contacts",
                        "prompt": "yes", "restore": True}


def test_uri_autoencoded_values_are_decoded(app):
    @app.route("/url")
    def url(req, resp):
        resp.text = req.htmx.current_url

    r = app.client.get("/url", headers={"HX-Request": "true",
                                         "HX-Current-URL": "http://t/caf%C3%A9",
                                         "HX-Current-URL-URI-AutoEncoded": "true"})
    assert r.text == "http://t/café"


def test_a_partial_for_htmx_and_the_page_otherwise(app):
    @app.route("/contacts")
    def contacts(req, resp):
        rows = "<tr><td>Ada</td></tr>"
        resp.html = rows if req.htmx else f"<html><table>{rows}</table></html>"
        resp.headers["Vary"] = "HX-Request"

    assert app.client.get("/contacts").text.startswith("<html>")
    assert app.client.get("/contacts", headers={"HX-Request": "true"}).text == "<tr><td>Ada</td></tr>"


def test_response_helpers_set_the_hx_headers(app):
    @app.route("/save", methods=["POST"])
    def save(req, resp):
        resp.htmx.trigger("saved", {"id": 3})
        resp.htmx.trigger("toast", "Gespeichert – danke")  # non-ASCII, JSON-escaped
        resp.htmx.trigger("refresh-list", after="settle")
        resp.htmx.retarget("#list")
        resp.htmx.reswap("beforeend swap:1s")
        resp.htmx.reselect(".row")
        resp.htmx.push_url("/contacts/3")
        resp.htmx.replace_url(False)
        resp.html = "<tr>...</tr>"

    r = app.client.post("/save")
    assert json.loads(r.headers["HX-Trigger"]) == {"saved": {"id": 3}, "toast": "Gespeichert – danke"}
    assert r.headers["HX-Trigger"].isascii()
    assert json.loads(r.headers["HX-Trigger-After-Settle"]) == {"refresh-list": None}
    assert (r.headers["HX-Retarget"], r.headers["HX-Reswap"], r.headers["HX-Reselect"]) == (
        "#list", "beforeend swap:1s", ".row")
    assert (r.headers["HX-Push-Url"], r.headers["HX-Replace-Url"]) == ("/contacts/3", "false")


def test_redirects_refresh_location_and_stop_polling(app):
    @app.route("/go/{how}")
    def go(req, resp, *, how):
        if how == "redirect":
            resp.htmx.redirect("/login")
        elif how == "refresh":
            resp.htmx.refresh()
        elif how == "location":
            resp.htmx.location("/inbox", target="#main", swap="outerHTML")
        elif how == "plain-location":
            resp.htmx.location("/inbox")
        else:
            resp.htmx.stop_polling()

    assert app.client.get("/go/redirect").headers["HX-Redirect"] == "/login"
    assert app.client.get("/go/refresh").headers["HX-Refresh"] == "true"
    assert json.loads(app.client.get("/go/location").headers["HX-Location"]) == {
        "path": "/inbox", "target": "#main", "swap": "outerHTML"}
    assert app.client.get("/go/plain-location").headers["HX-Location"] == "/inbox"
    assert app.client.get("/go/stop").status_code == 286


def test_misuse_is_refused():
    resp = dyne.Response()
    with pytest.raises(ValueError, match="hx-swap"):
        resp.htmx.reswap("sideways")
    with pytest.raises(ValueError, match="after="):
        resp.htmx.trigger("x", after="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="line break"):
        resp.htmx.redirect("/a\r\nSet-Cookie: x=1")


def test_an_existing_comma_separated_trigger_header_is_merged():
    resp = dyne.Response()
    resp.headers["HX-Trigger"] = "one, two"
    resp.htmx.trigger("three", 3)
    assert json.loads(resp.headers["HX-Trigger"]) == {"one": None, "two": None, "three": 3}
