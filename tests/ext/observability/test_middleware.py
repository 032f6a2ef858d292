"""The shared middleware: route templates, order, and what a missing library says."""

from __future__ import annotations

import sys

import pytest

import dyne
from dyne.ext.observability import UNMATCHED, Metrics, RequestContext, route_template


def scope(path, root_path=""):
    return {"type": "http", "method": "GET", "path": root_path + path, "root_path": root_path,
            "raw_path": (root_path + path).encode(), "headers": [], "query_string": b""}


def test_route_template_is_never_the_raw_path():
    app = dyne.App()

    @app.route("/files/{name:path}")
    async def files(req, resp, *, name):
        pass

    @app.route("/")
    async def home(req, resp):
        pass

    assert route_template(app, scope("/files/a/b/c.txt")) == "/files/{name:path}"
    assert route_template(app, scope("/")) == "/"
    assert route_template(app, scope("/files")) == UNMATCHED
    assert route_template(app, scope("/x/%2F..")) == UNMATCHED
    # Behind a proxy prefix (root_path), the app's own template.
    assert route_template(app, scope("/files/x", root_path="/api")) == "/files/{name:path}"
    cached = scope("/files/q")
    assert route_template(app, cached) == cached["dyne.route_template"] == "/files/{name:path}"


def test_one_middleware_for_all(tmp_path):
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"SINK": str(tmp_path / "x.log")}
    RequestContext(app)
    Metrics(app)
    assert [cls.__name__ for cls, _ in app._middleware] == ["ObservabilityMiddleware"]
    with app.client as client:
        response = client.get("/")  # a 404 goes through it
    assert response.status_code == 404 and "X-Request-ID" in response.headers


def test_a_missing_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "dyne\[metrics\]"'):
        Metrics(dyne.App())
    monkeypatch.setitem(sys.modules, "loguru", None)
    with pytest.raises(ImportError, match=r'pip install "dyne\[logging\]"'):
        RequestContext(dyne.App())
    with pytest.raises(ImportError, match=r'pip install "dyne\[logging\]"'):
        dyne.App().logger.info("x")


def test_websockets_pass_through(tmp_path):
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"SINK": str(tmp_path / "x.log")}
    RequestContext(app)
    Metrics(app)

    @app.route("/ws", websocket=True)
    async def echo(ws):
        await ws.accept()
        await ws.send_text(await ws.receive_text())
        await ws.close()

    with app.client as client:
        with client.websocket_connect("/ws") as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "ping"
        assert "/ws" not in client.get("/metrics").text
