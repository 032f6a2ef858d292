"""Per-endpoint CORS (``@cors``, ``@no_cors``) over the app-wide policy, with
browser-like preflight requests (seed 002, "CORS")."""

from __future__ import annotations

import httpx
import pytest

import dyne
from dyne import Request, middleware
from dyne.controllers import Controller, Response, get, path, post
from dyne.route_cors import RouteCORSMiddleware, cors, no_cors
from tests.conftest import serve_in_thread

PARTNER = "https://partner.example"
STRANGER = "https://stranger.example"


def preflight(client, url: str, origin: str, method: str = "POST", headers: str | None = None):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return client.options(url, headers=sent)


# The seed's examples, inside a controller.
@path("/api")
class PartnerApi(Controller):
    @get("/private")
    @no_cors
    async def my_endpoint(self, req: Request) -> Response:
        """some endpoint logic"""
        return req.res.json({"private": True})

    @get("/shared")
    @cors(allow_origins=[PARTNER], allow_methods=["GET", "POST"], allow_headers=["Authorization"],
          expose_headers=["X-Total"], allow_credentials=True, max_age=600)
    async def shared(self, req: Request) -> Response:
        return req.res.json({"shared": True}).set_header("X-Total", "1")

    @post("/shared")
    async def shared_post(self, req: Request) -> Response:  # no policy of its own: the app's
        return req.res.json({"posted": True})

    @get("/open")
    async def open(self, req: Request) -> Response:
        return req.res.json({"open": True})


@pytest.fixture
def app() -> dyne.App:
    app = dyne.App(cors=True, cors_params={"allow_origins": ["*"], "allow_methods": ["GET", "POST"]})
    app.add_controller(PartnerApi)
    return app


def test_no_cors_endpoint_gets_no_cors_headers_whatever_the_app_policy(app):
    answer = preflight(app.client, "/api/private", STRANGER, method="GET")
    assert "access-control-allow-origin" not in answer.headers
    simple = app.client.get("/api/private", headers={"Origin": STRANGER})
    assert simple.json() == {"private": True}
    assert "access-control-allow-origin" not in simple.headers
    # The app-wide policy still covers the others.
    other = app.client.get("/api/open", headers={"Origin": STRANGER})
    assert other.headers["access-control-allow-origin"] == "*"


def test_cors_endpoint_answers_preflights_with_its_own_policy(app):
    allowed = preflight(app.client, "/api/shared", PARTNER, method="GET", headers="Authorization")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PARTNER
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-max-age"] == "600"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = preflight(app.client, "/api/shared", STRANGER, method="GET")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    bad_header = preflight(app.client, "/api/shared", PARTNER, method="GET", headers="X-Secret")
    assert bad_header.status_code == 400

    simple = app.client.get("/api/shared", headers={"Origin": PARTNER})
    assert simple.headers["access-control-allow-origin"] == PARTNER
    assert simple.headers["access-control-expose-headers"] == "X-Total"
    stranger = app.client.get("/api/shared", headers={"Origin": STRANGER})
    assert stranger.json() == {"shared": True}
    assert "access-control-allow-origin" not in stranger.headers


def test_a_preflight_is_answered_for_the_method_it_announces(app):
    # POST /api/shared has no policy of its own: the app-wide one answers.
    posted = preflight(app.client, "/api/shared", STRANGER, method="POST")
    assert posted.status_code == 200
    assert posted.headers["access-control-allow-origin"] == "*"


def test_function_views_take_the_decorators_too_without_app_wide_cors():
    app = dyne.App()

    @app.route("/widget", methods=["GET", "POST"])
    @cors(allow_origins=[PARTNER])
    async def widget(req, resp):
        resp.media = {"widget": 1}

    @app.route("/plain")
    async def plain(req, resp):
        resp.media = {"plain": 1}

    # Unset options are the app's defaults (dyne's: GET only, no headers).
    allowed = preflight(app.client, "/widget", PARTNER, method="GET")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PARTNER
    assert allowed.headers["access-control-max-age"] == "60"
    assert preflight(app.client, "/widget", PARTNER, method="POST").status_code == 400
    # A method the path does not route: the app answers, without CORS headers.
    unrouted = preflight(app.client, "/widget", PARTNER, method="DELETE")
    assert "access-control-allow-origin" not in unrouted.headers
    assert app.client.get("/widget", headers={"Origin": PARTNER}).headers[
        "access-control-allow-origin"] == PARTNER
    # No app-wide CORS: other routes stay without CORS headers.
    assert "access-control-allow-origin" not in app.client.get(
        "/plain", headers={"Origin": PARTNER}).headers
    assert "access-control-allow-origin" not in preflight(app.client, "/plain", PARTNER, "GET").headers
    # Requests without Origin and unknown paths pass through untouched.
    assert app.client.get("/widget").json() == {"widget": 1}
    assert app.client.get("/nowhere", headers={"Origin": PARTNER}).status_code == 404


def test_the_per_route_layer_is_installed_only_when_a_route_declares_cors():
    assert [cls for cls, _ in dyne.App(cors=True).builtin_middleware()] == [middleware.CORSMiddleware]
    assert dyne.App().builtin_middleware() == []
    app = dyne.App()

    @app.route("/x")
    @no_cors
    async def x(req, resp):
        resp.text = "x"

    assert [cls for cls, _ in app.builtin_middleware()] == [RouteCORSMiddleware]


def test_cors_decorator_misuse_is_an_error():
    with pytest.raises(TypeError, match="list of strings"):
        cors(allow_origins="https://a.example")
    with pytest.raises(TypeError, match="max_age"):
        cors(max_age=-1)

    async def view(req, resp):
        pass

    no_cors(view)
    with pytest.raises(TypeError, match="already has a CORS policy"):
        cors(allow_origins=["*"])(view)


def test_route_cors_preflight_under_uvicorn(app):
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        allowed = client.options("/api/shared", headers={
            "Origin": PARTNER, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == PARTNER
        refused = client.options("/api/shared", headers={
            "Origin": STRANGER, "Access-Control-Request-Method": "GET"})
        assert refused.status_code == 400
        private = client.get("/api/private", headers={"Origin": STRANGER})
        assert private.status_code == 200 and "access-control-allow-origin" not in private.headers
        wide = client.get("/api/open", headers={"Origin": STRANGER})
        assert wide.headers["access-control-allow-origin"] == "*"
