"""Built-in middleware from App options (CORS, HSTS, trusted hosts, GZip),
their order, and the body-size limit; in-process and against uvicorn."""

import gzip
import socket

import httpx
import pytest

import dyne
from dyne.middleware import CORS_DEFAULTS, HSTSMiddleware, cors_options
from dyne.testing import TestClient
from tests.conftest import http_scope, run_asgi, serve_in_thread


def hello_app(**options):
    app = dyne.App(**options)

    @app.route("/")
    def index(req, resp):
        resp.text = "hello"

    @app.route("/data", methods=["GET", "POST", "PUT"])
    async def data(req, resp):
        resp.media = {"method": str(req.method)}

    return app


# -- nothing configured -----------------------------------------------------------------

def test_no_option_means_no_middleware_around_the_app():
    app = hello_app()
    assert app.builtin_middleware() == []
    assert app.build_middleware_stack() == app._dispatch


def test_allowed_hosts_star_adds_no_middleware():
    assert hello_app(allowed_hosts=["*"]).builtin_middleware() == []


# -- CORS --------------------------------------------------------------------------------

def test_cors_defaults_are_restrictive_exactly_as_documented():
    assert CORS_DEFAULTS == {
        "allow_origins": [],
        "allow_origin_regex": None,
        "allow_methods": ["GET"],
        "allow_headers": [],
        "allow_credentials": False,
        "expose_headers": [],
        "max_age": 60,
    }
    assert dyne.App(cors=True).cors_params == CORS_DEFAULTS


def test_cors_true_alone_allows_no_origin():
    client = hello_app(cors=True).client
    preflight = client.options("/", headers={"Origin": "https://a.example",
                                             "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 400
    simple = client.get("/", headers={"Origin": "https://a.example"})
    assert simple.text == "hello"
    assert "access-control-allow-origin" not in simple.headers


def test_cors_params_allow_an_origin_and_its_methods():
    app = hello_app(cors=True, cors_params={
        "allow_origins": ["https://app.example"],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["X-Token"],
        "expose_headers": ["X-Total"],
        "allow_credentials": True,
        "max_age": 600,
    })
    client = app.client
    preflight = client.options("/data", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "X-Token"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    refused_method = client.options("/data", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT"})
    assert refused_method.status_code == 400
    actual = client.post("/data", headers={"Origin": "https://app.example"})
    assert actual.json() == {"method": "POST"}
    assert actual.headers["access-control-allow-origin"] == "https://app.example"
    assert actual.headers["access-control-expose-headers"] == "X-Total"


def test_cors_origin_regex():
    app = hello_app(cors=True, cors_params={"allow_origin_regex": r"https://.*\.example\.org"})
    ok = app.client.get("/", headers={"Origin": "https://www.example.org"})
    assert ok.headers["access-control-allow-origin"] == "https://www.example.org"
    other = app.client.get("/", headers={"Origin": "https://example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_params_are_ignored_unless_cors_is_on():
    app = hello_app(cors_params={"allow_origins": ["*"]})
    assert app.builtin_middleware() == []
    assert "access-control-allow-origin" not in app.client.get(
        "/", headers={"Origin": "https://a.example"}).headers


@pytest.mark.parametrize("params, message", [
    ({"allow_origin": ["x"]}, "Unknown cors_params key"),
    ({"allow_origins": "https://a.example"}, "must be a list"),
    ({"max_age": -1}, "max_age"),
    ("everything", "must be a dict"),
])
def test_bad_cors_params_are_clear_errors(params, message):
    with pytest.raises(TypeError, match=message):
        cors_options(params)


# -- trusted hosts -------------------------------------------------------------------------

def test_trusted_hosts_refuse_other_hosts_with_400():
    app = hello_app(allowed_hosts=["example.com", "*.tenant.example.com"])
    client = TestClient(app, base_url="http://example.com")
    assert client.get("/").text == "hello"
    assert client.get("http://a.tenant.example.com/").text == "hello"
    assert client.get("http://deep.a.tenant.example.com/").status_code == 200
    bad = client.get("http://evil.com/")
    assert (bad.status_code, bad.text) == (400, "Invalid host header")
    assert client.get("http://tenant.example.com/").status_code == 400
    assert client.get("http://eviltenant.example.com/").status_code == 400
    assert client.get("/", headers={"Host": "EXAMPLE.com:8000"}).status_code == 200
    client.close()


def test_trusted_hosts_do_not_redirect_to_www():
    app = hello_app(allowed_hosts=["www.example.com"])
    client = TestClient(app, base_url="http://example.com")
    assert client.get("/", follow_redirects=False).status_code == 400
    client.close()


@pytest.mark.parametrize("pattern", ["exa*mple.com", "*example.com", "**.example.com", ""])
def test_bad_host_patterns_are_refused_at_startup(pattern):
    with pytest.raises(ValueError, match="allowed_hosts"):
        dyne.App(allowed_hosts=[pattern])


def test_allowed_hosts_must_be_a_non_empty_list():
    with pytest.raises(TypeError, match="list of host names"):
        dyne.App(allowed_hosts="example.com")
    with pytest.raises(ValueError, match="allowed_hosts is empty"):
        dyne.App(allowed_hosts=[])


# -- HSTS ----------------------------------------------------------------------------------

def test_hsts_redirects_http_to_https_keeping_path_and_query():
    client = TestClient(hello_app(enable_hsts=True), base_url="http://example.com",
                        follow_redirects=False)
    response = client.get("/data?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.com/data?x=1"
    client.close()


def test_hsts_header_on_https_responses():
    client = TestClient(hello_app(enable_hsts=True), base_url="https://example.com")
    response = client.get("/")
    assert response.text == "hello"
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    client.close()


def test_hsts_middleware_options():
    app = hello_app()
    app.add_middleware(HSTSMiddleware, max_age=60, include_subdomains=True, preload=True)
    client = TestClient(app, base_url="https://example.com")
    assert client.get("/").headers["strict-transport-security"] == (
        "max-age=60; includeSubDomains; preload")
    client.close()


def test_hsts_redirects_websockets_to_wss():
    from starlette.testclient import WebSocketDenialResponse

    client = TestClient(hello_app(enable_hsts=True), base_url="http://example.com")
    with pytest.raises(WebSocketDenialResponse) as info, client.websocket_connect("/ws"):
        pass
    assert info.value.status_code == 307
    location = info.value.headers["location"]  # the test client's websocket host is "testserver"
    assert location.startswith("wss://") and location.endswith("/ws")
    client.close()


# -- GZip ------------------------------------------------------------------------------------

def test_gzip_compresses_large_responses_for_clients_that_accept_it():
    app = dyne.App(gzip=True)

    @app.route("/big")
    def big(req, resp):
        resp.text = "dyne " * 1000

    @app.route("/small")
    def small(req, resp):
        resp.text = "tiny"

    raw = app.client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.text == "dyne " * 1000  # httpx decodes it
    assert "content-encoding" not in app.client.get("/small").headers
    plain = app.client.get("/big", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


# -- order --------------------------------------------------------------------------------

def test_builtin_order_hosts_then_hsts_then_cors_then_gzip_then_user_middleware():
    from dyne import middleware

    app = dyne.App(allowed_hosts=["example.com"], enable_hsts=True, cors=True, gzip=True)
    classes = [cls for cls, _ in app.builtin_middleware()]
    assert classes == [middleware.TrustedHostMiddleware, middleware.HSTSMiddleware,
                       middleware.CORSMiddleware, middleware.GZipMiddleware]
    seen = []

    class UserMiddleware:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http":
                seen.append(scope["path"])
            await self.app(scope, receive, send)

    app.add_middleware(UserMiddleware)
    stack = app.build_middleware_stack()
    assert type(stack).__name__ == "SecurityHeadersMiddleware"  # on every response, outermost
    stack = stack.app
    assert type(stack).__name__ == "ServerErrorMiddleware"  # user middleware: plain 500s
    stack = stack.app
    chain = []
    while stack is not None and stack != app._dispatch:
        chain.append(type(stack).__name__)
        stack = getattr(stack, "app", None)
    assert chain == ["TrustedHostMiddleware", "HSTSMiddleware", "CORSMiddleware",
                     "GZipMiddleware", "UserMiddleware"]
    # A bad host never reaches the HTTPS redirect (no redirect to an attacker's host).
    client = TestClient(app, base_url="http://evil.com", follow_redirects=False)
    assert client.get("/").status_code == 400
    assert seen == []
    client.close()


# -- body size -----------------------------------------------------------------------------

def test_oversized_body_is_413_from_content_length_without_reading_it():
    app = dyne.App(max_body_size=1000)

    @app.route("/upload", methods=["POST"])
    async def upload(req, resp):
        resp.text = str(len(await req.content))

    scope = http_scope("POST", "/upload", headers=[(b"content-length", b"1000000")])
    sent, read = run_asgi(app, scope, [b"x" * 100_000] * 10)
    assert sent[0]["status"] == 413
    assert read == 0  # refused before a single chunk was read


def test_oversized_streamed_body_is_413_once_the_limit_is_passed():
    app = dyne.App(max_body_size=1000)

    @app.route("/upload", methods=["POST"])
    async def upload(req, resp):
        resp.text = str(len(await req.content))

    # A chunked body with no Content-Length, 30 KB in all (bounded, so that a broken
    # limit fails the test instead of reading forever).
    scope = http_scope("POST", "/upload", headers=[(b"transfer-encoding", b"chunked")])
    sent, read = run_asgi(app, scope, [b"x" * 300] * 100)
    assert sent[0]["status"] == 413
    assert read * 300 == 1200  # stopped at the first chunk past the limit


@pytest.mark.server
def test_oversized_chunked_body_over_loopback_is_refused_early():
    import select

    app = dyne.App(max_body_size=64 * 1024)

    @app.route("/upload", methods=["POST"])
    async def upload(req, resp):
        resp.text = str(len(await req.content))

    chunk = b"x" * 16384
    with serve_in_thread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            sent, reply = 0, b""
            while sent < 64 * 1024 * 1024 and not reply:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                if select.select([sock], [], [], 0.01)[0]:
                    reply = sock.recv(200)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    assert sent < 1024 * 1024  # answered long before the 64 MiB were sent


# -- real clients -----------------------------------------------------------------------------

@pytest.mark.server
def test_cors_preflight_over_loopback_allowed_and_refused_origins():
    app = hello_app(cors=True, cors_params={"allow_origins": ["https://app.example"],
                                            "allow_methods": ["GET", "POST"]})
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as client:
        allowed = client.options("/data", headers={"Origin": "https://app.example",
                                                   "Access-Control-Request-Method": "POST"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-max-age"] == "60"
        refused = client.options("/data", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


@pytest.mark.server
def test_bad_host_over_loopback_is_400():
    app = hello_app(allowed_hosts=["127.0.0.1", "localhost"])
    with serve_in_thread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        assert httpx.get(base + "/").text == "hello"
        assert httpx.get(base + "/", headers={"Host": "evil.example"}).status_code == 400
        with socket.create_connection(("127.0.0.1", port)) as sock:  # no Host header at all
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")


@pytest.mark.server
def test_gzip_over_loopback():
    app = dyne.App(gzip=True)

    @app.route("/big")
    def big(req, resp):
        resp.media = {"items": list(range(1000))}

    with serve_in_thread(app) as base:
        response = httpx.get(base + "/big", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.json()["items"][-1] == 999
        raw = httpx.Client().send(httpx.Request("GET", base + "/big",
                                                headers={"Accept-Encoding": "gzip"}), stream=True)
        body = b"".join(raw.iter_raw())
        assert gzip.decompress(body).startswith(b'{"items":[0,1,2')
