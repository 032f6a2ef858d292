"""Security headers on every response (``App(security_headers=...)``), and the
start-up warning for HSTS without ``allowed_hosts``."""

from __future__ import annotations

import logging

import pytest

import dyne
from dyne.middleware.security import SECURITY_HEADERS
from dyne.testing import TestClient

DEFAULTS = {"x-content-type-options": "nosniff",
            "referrer-policy": "strict-origin-when-cross-origin",
            "x-frame-options": "SAMEORIGIN"}


def has_defaults(response) -> bool:
    return all(response.headers.get(name) == value for name, value in DEFAULTS.items())


def site(tmp_path, **options) -> dyne.App:
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.js").write_text("console.log(1)")
    app = dyne.App(static_dir=static, **options)

    @app.route("/")
    async def home(req, resp):
        resp.text = "home"

    @app.route("/only-get", methods=["GET"])
    async def only_get(req, resp):
        resp.text = "x"

    @app.route("/boom")
    async def boom(req, resp):
        raise RuntimeError("boom")

    @app.route("/framed")
    async def framed(req, resp):
        resp.headers["X-Frame-Options"] = "DENY"
        resp.text = "framed"

    async def mounted(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"mounted"})

    app.mount("/legacy", mounted)
    return app


def test_defaults_are_as_documented():
    assert SECURITY_HEADERS == {"X-Content-Type-Options": "nosniff",
                                "Referrer-Policy": "strict-origin-when-cross-origin",
                                "X-Frame-Options": "SAMEORIGIN"}


@pytest.mark.parametrize("options", [{}, {"allowed_hosts": ["testserver", ";"], "gzip": True}],
                         ids=["no middleware", "with middleware"])
def test_every_response_carries_the_headers(tmp_path, options):
    client = TestClient(site(tmp_path, **options), raise_server_exceptions=False)
    answers = {
        "view": client.get("/"),
        "404": client.get("/missing"),
        "405": client.post("/only-get"),
        "500": client.get("/boom"),
        "redirect": client.get("/only-get/", follow_redirects=False),
        "static file": client.get("/static/app.js"),
        "static 404": client.get("/static/missing.js"),
        "mounted app": client.get("/legacy/x"),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "view": 200, "404": 404, "405": 405, "500": 500, "redirect": 307,
        "static file": 200, "static 404": 404, "mounted app": 200}
    for name, answer in answers.items():
        assert has_defaults(answer), (name, dict(answer.headers))
        assert len(answer.headers.get_list("x-frame-options")) == 1, name
    client.close()


def test_responses_from_other_middleware_carry_them(tmp_path):
    bad_host = TestClient(site(tmp_path, allowed_hosts=["example.org"]), base_url="http://evil.com")
    answer = bad_host.get("/")
    assert answer.status_code == 400 and has_defaults(answer)
    bad_host.close()
    debug = TestClient(dyne.App(debug=True, static_dir=None), raise_server_exceptions=False)

    @debug.app.route("/boom")
    async def boom(req, resp):
        raise RuntimeError("boom")

    answer = debug.get("/boom")
    assert answer.status_code == 500 and has_defaults(answer)
    debug.close()


def test_a_view_s_own_header_wins(tmp_path):
    answer = site(tmp_path).client.get("/framed")
    assert answer.headers.get_list("x-frame-options") == ["DENY"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_headers_are_configurable(tmp_path):
    csp = "default-src 'self'; frame-ancestors 'none'"
    app = site(tmp_path, security_headers={"Content-Security-Policy": csp,
                                           "x-frame-options": None,
                                           "Referrer-Policy": "no-referrer"})
    answer = app.client.get("/")
    assert answer.headers["content-security-policy"] == csp
    assert "x-frame-options" not in answer.headers
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"
    static = app.client.get("/static/app.js")
    assert static.headers["content-security-policy"] == csp


def test_headers_can_be_turned_off(tmp_path):
    answer = site(tmp_path, security_headers=False).client.get("/")
    assert not any(name in answer.headers for name in DEFAULTS)
    with pytest.raises(TypeError, match="security_headers must be"):
        dyne.App(security_headers="yes")
    with pytest.raises(ValueError, match="Bad value"):
        dyne.App(security_headers={"X-Test": "a\r\nSet-Cookie: x=1"})


# -- HSTS without allowed_hosts -------------------------------------------------------------


def test_hsts_without_allowed_hosts_warns_at_startup(caplog):
    app = dyne.App(enable_hsts=True, static_dir=None)
    with caplog.at_level(logging.WARNING, logger="dyne"), TestClient(app) as client:
        client.get("/", follow_redirects=False)
    warnings = [record.getMessage() for record in caplog.records if record.name == "dyne"]
    assert any("enable_hsts is on without allowed_hosts" in message for message in warnings)


def test_hsts_with_allowed_hosts_does_not_warn(caplog):
    app = dyne.App(enable_hsts=True, allowed_hosts=["example.org"], static_dir=None)
    with caplog.at_level(logging.WARNING, logger="dyne"), TestClient(app) as client:
        client.get("/", follow_redirects=False)
    assert not any("allowed_hosts" in record.getMessage() for record in caplog.records)
