"""Brotli beside gzip: ``App(brotli=True)`` and ``CompressionMiddleware``."""

import gzip
import subprocess

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dyne
from dyne.middleware.compression import CompressionMiddleware, choose_encoding
from tests.conftest import require_tool, serve_in_thread

BIG = "dyne compresses this line. " * 200


def test_choose_encoding_honours_q_values():
    offered = ("br", "gzip")
    assert choose_encoding("gzip, deflate, br", offered) == "br"
    assert choose_encoding("gzip", offered) == "gzip"
    assert choose_encoding("br;q=0.5, gzip;q=0.8", offered) == "gzip"
    assert choose_encoding("br;q=0, *", offered) == "gzip"
    assert choose_encoding("identity", offered) is None
    assert choose_encoding("br;q=0, gzip;q=0", offered) is None
    assert choose_encoding("*;q=0.1", offered) == "br"
    assert choose_encoding("br;q=abc, gzip", offered) == "gzip"
    assert choose_encoding("br", ("gzip",)) is None


@given(st.text(max_size=200))
def test_choose_encoding_never_fails_on_client_input(header):
    assert choose_encoding(header, ("br", "gzip")) in (None, "br", "gzip")


def _app(**options):
    app = dyne.App(**options)

    @app.route("/big")
    def big(req, resp):
        resp.text = BIG

    @app.route("/small")
    def small(req, resp):
        resp.text = "tiny"

    @app.route("/stream")
    def stream(req, resp):
        async def chunks():
            for _ in range(5):
                yield BIG

        resp.stream(chunks)

    return app


def test_brotli_preferred_gzip_kept():
    app = _app(brotli=True, gzip=True)
    client = app.client
    response = client.get("/big", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "br"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.text == BIG  # httpx decodes br with the brotli package
    assert int(response.headers["content-length"]) < len(BIG) / 5
    response = client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == BIG
    response = client.get("/big", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers and response.text == BIG
    assert "content-encoding" not in client.get(
        "/small", headers={"Accept-Encoding": "br"}).headers
    streamed = client.get("/stream", headers={"Accept-Encoding": "br"})
    assert streamed.headers["content-encoding"] == "br"
    assert streamed.text == BIG * 5


def test_brotli_alone_does_not_offer_gzip():
    app = _app(brotli=True)
    assert "content-encoding" not in app.client.get(
        "/big", headers={"Accept-Encoding": "gzip"}).headers
    assert app.client.get("/big", headers={"Accept-Encoding": "br"}).headers[
        "content-encoding"] == "br"


def test_quality_is_checked():
    with pytest.raises(ValueError, match="brotli_quality"):
        CompressionMiddleware(None, brotli_quality=12)


@pytest.mark.server
def test_curl_decodes_brotli_over_uvicorn():
    curl = require_tool("curl", "apt-get install curl")
    app = _app(brotli=True, gzip=True)
    with serve_in_thread(app) as base:
        raw = subprocess.run([curl, "-s", "-H", "Accept-Encoding: br", "-D", "-",
                              f"{base}/big"], capture_output=True, timeout=30).stdout
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b"content-encoding: br" in head.lower()
        assert brotli.decompress(body).decode() == BIG
        raw = subprocess.run([curl, "-s", "-H", "Accept-Encoding: gzip", f"{base}/stream"],
                             capture_output=True, timeout=30).stdout
        assert gzip.decompress(raw).decode() == BIG * 5
