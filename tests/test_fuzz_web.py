"""Property tests for the web platform: an app with every option on (CORS,
trusted hosts, GZip, static files, a single-page fallback, mounted Flask and
ASGI apps, groups, a rate limiter) answers whatever a client sends with a
status below 500, and never leaks a file from outside its static directory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyne
from dyne.ext.ratelimit import RateLimiter, parse_rate

SITE = Path(tempfile.mkdtemp(prefix="dyne-fuzz-"))
(SITE / "static" / "css").mkdir(parents=True)
(SITE / "static" / "index.html").write_text("<html>spa</html>")
(SITE / "static" / "css" / "a.css").write_text("a{}" * 300)
(SITE / "secret.txt").write_text("TOP-SECRET")


def build_app() -> dyne.App:
    app = dyne.App(cors=True, cors_params={"allow_origins": ["https://ok.example"],
                                           "allow_methods": ["GET", "POST"],
                                           "allow_headers": ["X-Token"]},
                   allowed_hosts=["testserver", "localhost", "*.example.com"], gzip=True,
                   static_dir=SITE / "static", max_body_size=32 * 1024)
    RateLimiter(requests=10**9, period=1).install(app)
    app.add_route("/", static=True)
    api = app.group("/api")

    @api.before_request
    def maybe_refuse(req, resp):
        if req.headers.get("X-Token") == "refuse":
            resp.status_code = 403

    @api.route("/items/{id:int}", rate_limit=(10**9, 1))
    async def item(req, resp, *, id):
        resp.media = {"id": id, "body": len(await req.content)}

    flask_app = Flask(__name__)

    @flask_app.route("/<path:anything>", methods=["GET", "POST"])
    def anything(anything):
        return anything

    app.mount("/flask", flask_app)

    async def raw(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    app.mount("/raw", raw)
    return app


APP = build_app()
HOSTS = st.sampled_from(["testserver", "localhost", "a.example.com", "example.com", "evil.test",
                         "[::1]", "", "testserver:99999", "a b", "xn--9ca.example.com"])
TOKEN = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
PATHS = st.one_of(
    st.sampled_from(["/", "/static/css/a.css", "/static/../secret.txt", "/static/%2e%2e/secret.txt",
                     "/static/..%2fsecret.txt", "/api/items/1", "/api/items/x", "/flask/a/b",
                     "/flask", "/raw/x", "/rawx", "/deep/link", "/static/", "/static"]),
    st.lists(st.sampled_from(["static", "..", "%2e%2e", "css", "a.css", "api", "flask", "raw",
                              "%2f", "%5c", "secret.txt", "", "%00", "index.html"]),
             min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts)),
)


@st.composite
def requests(draw):
    headers = {"host": draw(HOSTS)}
    for name in ("origin", "access-control-request-method", "access-control-request-headers",
                 "accept-encoding", "range", "if-none-match", "if-modified-since", "x-token"):
        if draw(st.booleans()):
            headers[name] = draw(st.one_of(TOKEN, st.sampled_from(
                ["https://ok.example", "POST", "X-Token", "gzip", "bytes=0-3", "bytes=9-1",
                 "refuse", "*", "null"])))
    method = draw(st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"]))
    body = draw(st.one_of(st.just(b""), st.binary(max_size=512),
                          st.just(b"x" * (33 * 1024))))
    return method, draw(PATHS), headers, body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_fully_configured_app_never_500_and_never_leaks(parts):
    method, path, headers, body = parts
    client = APP.client
    response = client.request(method, f"http://testserver{path}", headers=headers, content=body)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert b"TOP-SECRET" not in response.content


@given(st.text(max_size=40))
def test_parse_rate_reads_rates_or_raises_value_error(text):
    try:
        requests, period = parse_rate(text)
    except ValueError:
        return
    assert requests >= 0 and period >= 1


def test_quoted_paths_reach_the_spa_not_an_error():
    for name in ("a b", "ü", "%", "?x"):
        response = APP.client.get("http://testserver/" + quote(name, safe=""))
        assert response.status_code == 200
