"""Static files under static_route, the single-page-app fallback, and path traversal."""

import socket

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dyne
from tests.conftest import ROOT, http_scope, require_tool, run_asgi, serve_in_thread


@pytest.fixture
def site(tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "index.html").write_text("<h1>single page</h1>")
    (static / "css" / "site.css").write_text("body { color: teal; }")
    (tmp_path / "secret.txt").write_text("top secret")
    return tmp_path


def test_files_are_served_under_static_route(site):
    app = dyne.App(static_dir=site / "static")
    response = app.client.get("/static/css/site.css")
    assert response.text == "body { color: teal; }"
    assert response.headers["content-type"].startswith("text/css")
    assert "etag" in response.headers and "last-modified" in response.headers
    again = app.client.get("/static/css/site.css", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert app.client.head("/static/css/site.css").content == b""
    partial = app.client.get("/static/css/site.css", headers={"Range": "bytes=0-3"})
    assert (partial.status_code, partial.text) == (206, "body")


def test_missing_files_and_other_methods(site):
    app = dyne.App(static_dir=site / "static")
    missing = app.client.get("/static/nope.css")
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"
    assert app.client.get("/static/css").status_code == 404  # no directory listings
    post = app.client.post("/static/css/site.css")
    assert (post.status_code, post.text) == (405, "Method Not Allowed")
    assert post.headers["allow"] == "GET, HEAD"


def test_custom_static_route_and_relative_static_dir(site, monkeypatch):
    monkeypatch.chdir(site)
    app = dyne.App(static_route="/assets/")  # static_dir defaults to ./static
    assert app.static_dir == site / "static"
    assert app.client.get("/assets/css/site.css").status_code == 200
    assert app.client.get("/static/css/site.css").status_code == 404


def test_no_static_dir_serves_nothing(site, monkeypatch):
    monkeypatch.chdir(site)
    app = dyne.App(static_dir=None)
    assert app.client.get("/static/css/site.css").status_code == 404
    assert app.mounts == []


def test_missing_static_dir_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = dyne.App()
    assert app.client.get("/static/x.css").status_code == 404


def test_bad_static_route():
    with pytest.raises(ValueError, match="static_route"):
        dyne.App(static_route="static")
    with pytest.raises(ValueError, match="static_route"):
        dyne.App(static_route="/")


TRAVERSALS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/css/../../secret.txt",
    "/static/..%5csecret.txt",
    "/static/%252e%252e/secret.txt",
    "/static//etc/passwd",
    "/static/....//secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused_in_process(site, path):
    from urllib.parse import unquote

    app = dyne.App(static_dir=site / "static")
    # Build the scope as a server would: ``path`` decoded once, ``raw_path`` as sent.
    sent, _ = run_asgi(app, http_scope("GET", unquote(path), raw_path=path.encode()))
    assert sent[0]["status"] in (400, 404)
    assert b"top secret" not in b"".join(m.get("body", b"") for m in sent[1:])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["..", ".", "%2e%2e", "%2e", "css", "%2f", "/", "\\", "secret.txt",
                                 "%5c", "..%2f", "%00"]), min_size=1, max_size=6))
def test_no_generated_path_escapes_the_static_dir(tmp_path_factory, parts):
    from urllib.parse import unquote

    root = tmp_path_factory.mktemp("site")
    (root / "static").mkdir()
    (root / "static" / "ok.txt").write_text("ok")
    (root / "secret.txt").write_text("top secret")
    app = dyne.App(static_dir=root / "static")
    path = "/static/" + "/".join(parts)
    sent, _ = run_asgi(app, http_scope("GET", unquote(path), raw_path=path.encode()))
    assert sent[0]["status"] < 500
    assert b"top secret" not in b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.server
def test_path_traversal_is_refused_over_loopback(monkeypatch):
    """``/static/../pyproject.toml`` (and encoded forms) sent as-is, by raw socket and
    curl --path-as-is, to an app whose static dir sits beside pyproject.toml."""
    import subprocess

    static = ROOT / "examples" / "showcase" / "static"
    app = dyne.App(static_dir=static)
    secret = (ROOT / "pyproject.toml").read_bytes()[:40]
    with serve_in_thread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        for path in ["/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml",
                     "/static/..%2fpyproject.toml", "/static/%2E%2E%2Fpyproject.toml",
                     "/static/../../../../etc/passwd", "/static/..%5c..%5cpyproject.toml"]:
            for prefix in ("/static/../../", ""):
                target = path if not prefix else path.replace("/static/", "/static/../../", 1)
                with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n".encode())
                    reply = b""
                    while chunk := sock.recv(65536):
                        reply += chunk
                status = int(reply.split(b" ", 2)[1])
                assert status in (400, 404), (target, reply[:200])
                assert secret not in reply and b"root:" not in reply
        curl = require_tool("curl", "apt-get install curl")
        result = subprocess.run([curl, "-s", "--path-as-is", "-o", "/dev/null", "-w",
                                 "%{http_code}", f"{base}/static/../pyproject.toml"],
                                capture_output=True, text=True, timeout=30)
        assert result.stdout == "404"
        assert httpx.get(f"{base}/static/style.css").status_code == 200


# -- single-page apps ----------------------------------------------------------------------

def test_spa_index_for_every_undefined_get(site):
    app = dyne.App(static_dir=site / "static")
    app.add_route("/", static=True)

    @app.route("/api/items")
    def items(req, resp):
        resp.media = [1, 2]

    assert app.client.get("/").text == "<h1>single page</h1>"
    assert app.client.get("/").headers["content-type"].startswith("text/html")
    assert app.client.get("/users/42/settings").text == "<h1>single page</h1>"
    assert app.client.head("/anything").status_code == 200
    assert app.client.get("/api/items").json() == [1, 2]
    assert app.client.get("/api/items/").json() == [1, 2]  # trailing-slash redirect first
    assert app.client.post("/users/42").status_code == 404  # not for other methods
    assert app.client.get("/static/missing.js").status_code == 404  # not for assets
    assert app.client.get("/static/css/site.css").status_code == 200


def test_spa_under_a_prefix(site):
    app = dyne.App(static_dir=site / "static")
    app.add_route("/app", static=True)
    assert app.client.get("/app").text == "<h1>single page</h1>"
    assert app.client.get("/app/deep/link").text == "<h1>single page</h1>"
    assert app.client.get("/elsewhere").status_code == 404


def test_spa_without_index_is_404(tmp_path):
    (tmp_path / "static").mkdir()
    app = dyne.App(static_dir=tmp_path / "static")
    app.add_route("/", static=True)
    assert app.client.get("/").status_code == 404
    assert app.client.get("/x").status_code == 404


def test_static_route_misuse():
    app = dyne.App(static_dir=None)
    with pytest.raises(ValueError, match="needs a static_dir"):
        app.add_route("/", static=True)
    with pytest.raises(TypeError, match="give it no endpoint"):
        dyne.App().add_route("/", lambda req, resp: None, static=True)
    with pytest.raises(TypeError, match="needs a view"):
        dyne.App().add_route("/")


def test_symlinks_out_of_the_static_dir_are_not_followed(site):
    """A symlink inside ``static_dir`` that points outside it (to a file or a
    directory) is refused: the target's contents are never served."""
    static = site / "static"
    (static / "leak.txt").symlink_to(site / "secret.txt")
    (site / "private").mkdir()
    (site / "private" / "key.pem").write_text("top secret key")
    (static / "private").symlink_to(site / "private", target_is_directory=True)
    (static / "css" / "alias.css").symlink_to(static / "css" / "site.css")  # stays inside
    app = dyne.App(static_dir=static)
    for path in ("/static/leak.txt", "/static/private/key.pem"):
        response = app.client.get(path)
        assert response.status_code == 404, path
        assert "top secret" not in response.text
    assert app.client.get("/static/css/alias.css").text == "body { color: teal; }"


def test_symlinks_are_refused_by_a_mounted_static_files_app(site):
    from dyne.staticfiles import StaticFiles

    (site / "static" / "leak.txt").symlink_to(site / "secret.txt")
    app = dyne.App(static_dir=None)
    app.mount("/assets", StaticFiles(directory=site / "static"))
    assert app.client.get("/assets/leak.txt").status_code == 404
    assert app.client.get("/assets/index.html").text == "<h1>single page</h1>"
