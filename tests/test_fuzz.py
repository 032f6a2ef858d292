"""Property tests: whatever a client sends, the app answers with a status below
500, in time. Run in-process and against a real uvicorn server over loopback."""

from __future__ import annotations

import socket
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyne
from tests.conftest import serve_in_thread


def build_app() -> dyne.App:
    app = dyne.App(secret_key="fuzz", max_body_size=64 * 1024)

    @app.route("/echo")
    async def echo(req, resp):
        resp.media = {"media": await req.media(), "params": req.params.to_dict(),
                      "session": dict(req.session), "cookies": req.cookies}

    @app.route("/items/{id:int}")
    def item(req, resp, *, id):
        resp.media = {"id": id}

    @app.route("/files/{rest:path}")
    def files(req, resp, *, rest):
        resp.text = rest

    @app.route("/things/{u:uuid}/{name}.{ext}")
    def thing(req, resp, *, u, name, ext):
        resp.media = {"u": str(u), "name": name, "ext": ext}

    @app.route("/upload", methods=["POST", "PUT"])
    async def upload(req, resp):
        files = await req.media("files")
        form = await req.media("form")
        resp.media = {"files": sorted(files), "fields": sorted(form)}

    @app.route("/formats/{fmt}")
    async def formats(req, resp, *, fmt):
        if fmt in ("json", "yaml", "msgpack", "form", "files"):
            resp.media = {"parsed": type(await req.media(fmt)).__name__}
        else:
            resp.text = await req.text

    @app.route("/class")
    class View:
        async def on_post(self, req, resp):
            resp.media = await req.media()

    return app


CONTENT_TYPES = [
    None, "application/json", "application/x-yaml", "application/yaml", "text/yaml",
    "application/x-msgpack", "application/x-www-form-urlencoded", "multipart/form-data",
    "multipart/form-data; boundary=xyz", "multipart/form-data; boundary=", "text/plain",
    "application/json; charset=nope", "text/plain; charset=utf-16", "application/xml", "\x01/\x02",
]
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
                           "BREW", "M-SEARCH"])
PATHS = st.one_of(
    st.sampled_from(["/echo", "/items/1", "/items/x", "/upload", "/class", "/formats/json",
                     "/formats/yaml", "/formats/msgpack", "/formats/form", "/formats/files",
                     "/formats/text", "/files/a/b", "/things/6f1c1b4e-2d9a-4f6b-9a4e-0c5d9b7a1e23/a.b",
                     "/", "//", "/echo/", "/items/", "/items/99999999999999999999999"]),
    st.lists(st.text(max_size=12), min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(quote(p, safe="") for p in parts)),
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                      max_size=60).map(str.strip)
BODIES = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from([b"{}", b"[]", b'{"a": [1, 2, {"b": null}]}', b"a: 1\nb: [x, y]",
                     b"\x81\xa1a\x01", b"a=1&b=2&a=3", b"--xyz\r\nContent-Disposition: form-data; "
                     b'name="f"; filename="../../etc/passwd"\r\n\r\ndata\r\n--xyz--\r\n',
                     b"a: &x [1]\nb: *x", b"\xff" * 100, b"{" * 5000, b"[" * 100000]),
)


@st.composite
def requests(draw):
    headers = {}
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type is not None:
        headers["content-type"] = content_type
    if draw(st.booleans()):
        headers["cookie"] = draw(HEADER_TEXT)
    if draw(st.booleans()):
        headers["accept"] = draw(st.sampled_from(
            ["application/x-yaml", "application/x-msgpack", "*/*", "text/html", ""]))
    if draw(st.booleans()):
        headers["content-length"] = str(draw(st.integers(0, 10**12)))
    query = draw(st.text(max_size=30))
    return (draw(METHODS), draw(PATHS), quote(query, safe="=&"), headers, draw(BODIES))


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_in_process_never_500(request_parts):
    method, path, query, headers, body = request_parts
    headers.pop("content-length", None)  # the in-process transport computes it
    client = FUZZ_APP.client
    _check(client.request(method, f"http://;{path}?{query}", headers=headers, content=body))


FUZZ_APP = build_app()


@pytest.fixture(scope="module")
def live_url():
    with serve_in_thread(build_app()) as url:
        yield url


@settings(max_examples=300, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(request_parts=requests())
def test_real_server_never_500_or_hang(live_url, request_parts):
    method, path, query, headers, body = request_parts
    declared = headers.pop("content-length", None)
    with httpx.Client(base_url=live_url, timeout=10) as client:
        if declared is not None and method not in ("GET", "HEAD"):
            # Lie about the length; the server must not hang waiting for bytes.
            raw_request(live_url, method, path, {**headers, "content-length": declared}, body)
            return
        _check(client.request(method, f"{live_url}{path}?{query}", headers=headers, content=body))


def raw_request(url: str, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
    port = int(url.rsplit(":", 1)[1])
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused early and closed: read what it said
            pass
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    if data:  # a server may also just close a connection it cannot parse
        status = int(data.split(b" ", 2)[1])
        assert status < 500, data[:300]


@settings(max_examples=200, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(target=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40))
def test_raw_request_targets(live_url, target):
    raw_request(live_url, "GET", "/" + target, {}, b"")
