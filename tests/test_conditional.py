"""Validators, conditional requests and ranges: ``resp.etag``,
``resp.last_modified``, automatic ETags, 304/412 in RFC 9110 order, and
``Range`` on ``resp.file`` / ``resp.stream_file``; through the test client and
through curl against uvicorn."""

import datetime
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dyne
from dyne.conditional import etag_matches, evaluate_preconditions, parse_http_date, quote_etag
from tests.conftest import require_tool, serve_in_thread

DATA = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


def test_etag_comparison_weak_and_strong():
    assert etag_matches('"a", W/"b"', 'W/"b"')
    assert etag_matches('W/"a"', '"a"')
    assert not etag_matches('W/"a"', '"a"', weak=False)
    assert etag_matches('"a"', '"a"', weak=False)
    assert not etag_matches('"a"', 'W/"a"', weak=False)
    assert etag_matches("*", '"zz"')
    assert quote_etag("v1") == '"v1"'
    assert quote_etag('W/"v1"') == 'W/"v1"'
    with pytest.raises(ValueError, match="quotes"):
        quote_etag('a"b')
    assert parse_http_date("not a date") is None
    assert parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").year == 2015


class _Req:
    def __init__(self, **headers):
        self.headers = {k.lower().replace("_", "-").encode(): v.encode() for k, v in headers.items()}

    def raw_header(self, name):
        return self.headers.get(name)


def test_rfc9110_precedence():
    old = "Wed, 21 Oct 2015 07:28:00 GMT"
    new = "Thu, 22 Oct 2015 07:28:00 GMT"
    # If-None-Match wins over If-Modified-Since, in both directions.
    assert evaluate_preconditions("GET", _Req(if_none_match='"x"', if_modified_since=new),
                                  '"v"', old) is None
    assert evaluate_preconditions("GET", _Req(if_none_match='"v"', if_modified_since=old),
                                  '"v"', new) == 304
    assert evaluate_preconditions("GET", _Req(if_modified_since=new), '"v"', old) == 304
    assert evaluate_preconditions("GET", _Req(if_modified_since=old), '"v"', new) is None
    # If-Match first, strong comparison; If-Unmodified-Since only without it.
    assert evaluate_preconditions("PUT", _Req(if_match='"x"'), '"v"', None) == 412
    assert evaluate_preconditions("PUT", _Req(if_match='W/"v"'), 'W/"v"', None) == 412
    assert evaluate_preconditions("PUT", _Req(if_match='"v"', if_unmodified_since=old),
                                  '"v"', new) is None
    assert evaluate_preconditions("PUT", _Req(if_unmodified_since=old), '"v"', new) == 412
    # If-None-Match on an unsafe method fails the precondition.
    assert evaluate_preconditions("POST", _Req(if_none_match="*"), '"v"', None) == 412
    # If-Modified-Since is ignored on unsafe methods and when invalid.
    assert evaluate_preconditions("POST", _Req(if_modified_since=new), None, old) is None
    assert evaluate_preconditions("GET", _Req(if_modified_since="yesterday"), None, old) is None


def test_view_validators_answer_304_and_412(app):
    modified = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)

    @app.route("/doc")
    def doc(req, resp):
        resp.etag = "v7"
        resp.last_modified = modified
        resp.headers["Cache-Control"] = "max-age=60"
        resp.media = {"version": 7}

    response = app.client.get("/doc")
    assert response.status_code == 200
    assert response.headers["etag"] == '"v7"'
    assert response.headers["last-modified"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert response.headers["vary"] == "Accept"
    again = app.client.get("/doc", headers={"If-None-Match": '"v7"'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == '"v7"'
    assert again.headers["cache-control"] == "max-age=60"
    assert again.headers["vary"] == "Accept"
    assert "content-length" not in again.headers or again.headers["content-length"] == "0"
    assert "content-type" not in again.headers
    # If-None-Match present and not matching: If-Modified-Since is not looked at.
    assert app.client.get("/doc", headers={
        "If-None-Match": '"v6"', "If-Modified-Since": "Thu, 02 May 2024 00:00:00 GMT",
    }).status_code == 200
    assert app.client.get("/doc", headers={
        "If-Modified-Since": "Thu, 02 May 2024 00:00:00 GMT"}).status_code == 304
    assert app.client.get("/doc", headers={
        "If-Modified-Since": "Tue, 30 Apr 2024 00:00:00 GMT"}).status_code == 200

    @app.route("/doc", methods=["PUT"], name="put_doc")
    def put_doc(req, resp):
        resp.etag = "v7"
        resp.media = {"saved": True}

    assert app.client.put("/doc", headers={"If-Match": '"v6"'}).status_code == 412
    assert app.client.put("/doc", headers={"If-Match": '"v7"'}).json() == {"saved": True}
    assert app.client.get("/doc").headers["etag"] == '"v7"'


def test_errors_are_never_turned_into_304(app):
    @app.route("/gone")
    def gone(req, resp):
        resp.etag = "v1"
        resp.status_code = 404
        resp.text = "gone"

    response = app.client.get("/gone", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 404
    assert response.text == "gone"


def test_auto_etag_is_opt_in():
    plain = dyne.App()

    @plain.route("/")
    def index(req, resp):
        resp.text = "hello"

    assert "etag" not in plain.client.get("/").headers

    app = dyne.App(auto_etag=True)

    @app.route("/")
    def hello(req, resp):
        resp.text = "hello " + req.params.get("who", "world")

    @app.route("/create", methods=["POST"])
    def create(req, resp):
        resp.text = "made"

    first = app.client.get("/")
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert app.client.get("/", headers={"If-None-Match": tag}).status_code == 304
    other = app.client.get("/?who=you", headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.text == "hello you"
    assert other.headers["etag"] != tag
    assert "etag" not in app.client.post("/create").headers


def test_vary_accept_only_for_negotiated_bodies(app):
    @app.route("/media")
    def media(req, resp):
        resp.headers["Vary"] = "Origin"
        resp.media = {"a": 1}

    @app.route("/json-only")
    def json_only(req, resp):
        resp.media = {"a": 1}
        resp.mimetype = "application/json"

    @app.route("/text")
    def text(req, resp):
        resp.text = "hi"

    assert app.client.get("/media").headers["vary"] == "Origin, Accept"
    assert "vary" not in app.client.get("/json-only").headers
    assert "vary" not in app.client.get("/text").headers


# -- files: validators and ranges ---------------------------------------------------------


def _file_app(data_file):
    app = dyne.App()

    @app.route("/file")
    def send(req, resp):
        resp.file(data_file)

    @app.route("/stream")
    def stream(req, resp):
        resp.stream_file(data_file, chunk_size=1000)

    @app.route("/files/{name:path}")
    def under_root(req, resp, name):
        resp.file(name, root=data_file.parent)

    return app


@pytest.mark.parametrize("route", ["/file", "/stream"])
def test_file_ranges_and_conditional_get(data_file, route):
    app = _file_app(data_file)
    client = app.client
    full = client.get(route)
    assert full.content == DATA
    assert full.headers["accept-ranges"] == "bytes"
    etag = full.headers["etag"]

    part = client.get(route, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == DATA[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
    suffix = client.get(route, headers={"Range": "bytes=-5"})
    assert suffix.status_code == 206 and suffix.content == DATA[-5:]

    multi = client.get(route, headers={"Range": "bytes=0-1, 100-102"})
    assert multi.status_code == 206
    assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert b"Content-Range: bytes 0-1/10240" in multi.content
    assert DATA[100:103] in multi.content

    unsatisfiable = client.get(route, headers={"Range": f"bytes={len(DATA) + 5}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{len(DATA)}"

    # If-Range: a current validator gets the range, a stale one the whole file.
    assert client.get(route, headers={"Range": "bytes=0-3", "If-Range": etag}).status_code == 206
    stale = client.get(route, headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == DATA

    not_modified = client.get(route, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    since = client.get(route, headers={"If-Modified-Since": full.headers["last-modified"]})
    assert since.status_code == 304


def test_file_root_refuses_paths_outside(data_file, tmp_path):
    outside = tmp_path.parent / "outside-secret.txt"
    outside.write_text("secret")
    (data_file.parent / "link.txt").symlink_to(outside)
    app = _file_app(data_file)
    assert app.client.get("/files/data.bin").content == DATA
    for name in ["../outside-secret.txt", "..%2Foutside-secret.txt", "link.txt",
                 f"{outside}", "%2E%2E/outside-secret.txt", "a/../../outside-secret.txt"]:
        response = app.client.get(f"/files/{name}")
        assert response.status_code == 404, name
        assert b"secret" not in response.content


def test_static_files_cache_control(tmp_path):
    (tmp_path / "app.css").write_text("body{}")
    app = dyne.App(static_dir=tmp_path, static_cache_control="public, max-age=3600")
    response = app.client.get("/static/app.css")
    assert response.headers["cache-control"] == "public, max-age=3600"
    revalidated = app.client.get("/static/app.css",
                                 headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["cache-control"] == "public, max-age=3600"
    assert "cache-control" not in dyne.App(static_dir=tmp_path).client.get(
        "/static/app.css").headers


@pytest.mark.server
def test_curl_range_and_cached_etag_over_uvicorn(data_file, tmp_path):
    curl = require_tool("curl", "apt-get install curl")
    app = _file_app(data_file)

    @app.route("/doc")
    def doc(req, resp):
        resp.etag = "rev-3"
        resp.media = {"rev": 3}

    with serve_in_thread(app) as base:
        out = tmp_path / "part.bin"
        result = subprocess.run([curl, "-s", "--range", "100-199", "-o", str(out), "-w",
                                 "%{http_code}", f"{base}/file"],
                                capture_output=True, text=True, timeout=30)
        assert result.stdout == "206"
        assert out.read_bytes() == DATA[100:200]
        result = subprocess.run([curl, "-s", "--range", "0-9,20-29", "-D", "-", f"{base}/stream"],
                                capture_output=True, timeout=30)
        assert b"206" in result.stdout.split(b"\r\n", 1)[0]
        assert b"multipart/byteranges" in result.stdout
        # curl's own ETag cache: --etag-save, then --etag-compare sends If-None-Match.
        etags = tmp_path / "etags.txt"
        first = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--etag-save", str(etags), f"{base}/doc"],
                               capture_output=True, text=True, timeout=30)
        assert first.stdout == "200"
        assert etags.read_text().strip() == '"rev-3"'
        second = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                 "--etag-compare", str(etags), f"{base}/doc"],
                                capture_output=True, text=True, timeout=30)
        assert second.stdout == "304"
        # A file's Last-Modified, revalidated with curl -z (If-Modified-Since).
        result = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                 "-z", str(data_file), f"{base}/file"],
                                capture_output=True, text=True, timeout=30)
        assert result.stdout == "304"


_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@settings(max_examples=150, deadline=None)
@given(range_=_HEADER_TEXT, if_range=_HEADER_TEXT, if_none_match=_HEADER_TEXT,
       if_modified_since=_HEADER_TEXT, if_match=_HEADER_TEXT)
def test_client_controlled_validators_never_fail(tmp_path_factory, range_, if_range, if_none_match,
                                                 if_modified_since, if_match):
    global _FUZZ_APP
    if _FUZZ_APP is None:
        path = tmp_path_factory.mktemp("fuzz") / "data.bin"
        path.write_bytes(DATA)
        _FUZZ_APP = _file_app(path)

        @_FUZZ_APP.route("/doc", methods=["GET", "PUT"])
        def doc(req, resp):
            resp.etag = "v1"
            resp.last_modified = 1_700_000_000
            resp.text = "doc"

    headers = {"Range": range_, "If-Range": if_range, "If-None-Match": if_none_match,
               "If-Modified-Since": if_modified_since}
    for path in ("/file", "/stream", "/doc"):
        response = _FUZZ_APP.client.get(path, headers=headers)
        assert response.status_code in (200, 206, 304, 400, 416), (path, headers)
    response = _FUZZ_APP.client.put("/doc", headers={"If-Match": if_match,
                                                     "If-Unmodified-Since": if_modified_since})
    assert response.status_code in (200, 412)


_FUZZ_APP = None
