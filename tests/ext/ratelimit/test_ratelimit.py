"""RateLimiter on an app: headers, 429, per-client keys, per-route limits, bursts."""

import asyncio

import httpx
import pytest

import dyne
from dyne.ext.ratelimit import RateLimiter, parse_rate
from dyne.testing import TestClient
from tests.conftest import serve_in_thread


def test_rate_limiting_as_in_the_responder_testing_guide():
    app = dyne.App(allowed_hosts=["localhost"])
    limiter = RateLimiter(requests=2, period=60)
    limiter.install(app)

    @app.route("/")
    def view(req, resp):
        resp.text = "ok"

    client = TestClient(app, base_url="http://localhost")
    # First two requests succeed
    for _ in range(2):
        r = client.get("http://localhost/")
        assert r.status_code == 200
        assert "X-RateLimit-Remaining" in r.headers

    # Third request is rate limited
    r = client.get("http://localhost/")
    assert r.status_code == 429
    client.close()


def test_headers_and_429_details(app):
    RateLimiter(requests=3, period=30).install(app)

    @app.route("/")
    def view(req, resp):
        resp.text = "ok"

    responses = [app.client.get("/") for _ in range(4)]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert {r.headers["x-ratelimit-limit"] for r in responses} == {"3"}
    assert [r.headers["x-ratelimit-reset"] for r in responses[:3]] == ["10", "20", "30"]
    limited = responses[3]
    assert (limited.status_code, limited.text) == (429, "Too Many Requests")
    assert limited.headers["retry-after"] == "10"
    assert "retry-after" not in responses[0].headers
    # 404s count and carry the headers too
    assert app.client.get("/missing").status_code == 429


def test_429_goes_through_error_handlers(app):
    RateLimiter(requests=1, period=60).install(app)

    @app.error_handler(429)
    async def slow_down(req, resp, exc):
        resp.status_code = 429
        resp.media = {"error": "slow down"}

    app.client.get("/")
    limited = app.client.get("/")
    assert limited.json() == {"error": "slow down"}
    assert limited.headers["retry-after"] == "60"
    assert limited.headers["x-ratelimit-remaining"] == "0"


def test_clients_are_limited_separately_by_ip(app):
    RateLimiter(requests=1, period=60).install(app)

    @app.route("/")
    def view(req, resp):
        resp.text = "ok"

    first = TestClient(app, client=("10.0.0.1", 1234))
    second = TestClient(app, client=("10.0.0.2", 1234))
    assert first.get("/").status_code == 200
    assert first.get("/").status_code == 429
    assert second.get("/").status_code == 200
    first.close()
    second.close()


def test_custom_key_and_exempt(app):
    RateLimiter(requests=1, period=60, key=lambda req: req.headers.get("X-API-Key", "anon"),
                exempt=lambda req: req.url.path == "/health").install(app)

    @app.route("/")
    def view(req, resp):
        resp.text = "ok"

    @app.route("/health")
    def health(req, resp):
        resp.text = "healthy"

    assert app.client.get("/", headers={"X-API-Key": "a"}).status_code == 200
    assert app.client.get("/", headers={"X-API-Key": "a"}).status_code == 429
    assert app.client.get("/", headers={"X-API-Key": "b"}).status_code == 200
    for _ in range(3):
        health_response = app.client.get("/health")
        assert health_response.status_code == 200
        assert "x-ratelimit-limit" not in health_response.headers


def test_per_route_limit_with_the_decorator(app):
    limiter = RateLimiter(requests=100, period=60).install(app)

    @app.route("/login", methods=["POST"])
    @limiter.limit(requests=2, period=60)
    async def login(req, resp):
        resp.text = "welcome"

    @app.route("/other")
    def other(req, resp):
        resp.text = "other"

    statuses = [app.client.post("/login").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other_response = app.client.get("/other")
    assert other_response.status_code == 200
    # the stricter limit's headers win on the route; the app-wide count goes on elsewhere
    assert app.client.post("/login").headers["x-ratelimit-limit"] == "2"
    assert other_response.headers["x-ratelimit-limit"] == "100"
    assert other_response.headers["x-ratelimit-remaining"] == "96"  # 4th request app-wide


def test_per_route_limit_as_route_option(app):
    @app.route("/search", rate_limit=(2, 60))
    def search(req, resp):
        resp.text = "results"

    @app.route("/feed", rate_limit="1/minute")
    def feed(req, resp):
        resp.text = "feed"

    limiter = RateLimiter(requests=1, period=3600, key=lambda req: "everyone")

    @app.route("/export", rate_limit=limiter)
    def export(req, resp):
        resp.text = "export"

    assert [app.client.get("/search").status_code for _ in range(3)] == [200, 200, 429]
    assert [app.client.get("/feed").status_code for _ in range(2)] == [200, 429]
    assert app.client.get("/feed").headers["retry-after"] == "60"
    assert [app.client.get("/export").status_code for _ in range(2)] == [200, 429]


def test_per_route_limit_runs_before_the_view_and_other_steps(app):
    calls = []

    @app.route("/expensive", rate_limit=(1, 60),
               before_request=lambda req, resp: calls.append("hook"))
    def expensive(req, resp):
        calls.append("view")

    app.client.get("/expensive")
    app.client.get("/expensive")
    assert calls == ["hook", "view", "hook"]


def test_misuse_is_a_clear_error(app):
    with pytest.raises(ValueError, match="requests must be a positive integer"):
        RateLimiter(requests=0)
    with pytest.raises(ValueError, match="period must be a positive number"):
        RateLimiter(period=-1)
    with pytest.raises(TypeError, match="rate_limit= takes"):
        app.add_route("/x", lambda req, resp: None, rate_limit=5)
    with pytest.raises(ValueError, match="Cannot read rate"):
        app.add_route("/y", lambda req, resp: None, rate_limit="lots")
    limiter = RateLimiter().install(app)
    with pytest.raises(RuntimeError, match="already installed"):
        limiter.install(app)


@pytest.mark.parametrize("text, expected", [
    ("5/minute", (5, 60)), ("100 per hour", (100, 3600)), ("10/30second", (10, 30)),
    ("1/day", (1, 86400)), ("3/seconds", (3, 1)),
])
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


def test_reset_forgets_counts(app):
    limiter = RateLimiter(requests=1, period=60).install(app)
    app.client.get("/")
    assert app.client.get("/").status_code == 429
    asyncio.run(limiter.reset())
    assert app.client.get("/").status_code == 404


def test_sync_views_in_threads_do_not_overadmit(app):
    RateLimiter(requests=20, period=3600).install(app)

    @app.route("/")
    def slow(req, resp):
        resp.text = "ok"

    async def burst():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(*(client.get("/") for _ in range(60)))

    responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 20 and statuses.count(429) == 40
    remaining = sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses
                       if r.status_code == 200)
    assert remaining == list(range(20))


@pytest.mark.server
def test_burst_from_many_concurrent_clients_over_loopback():
    app = dyne.App()
    RateLimiter(requests=25, period=3600).install(app)

    @app.route("/")
    async def index(req, resp):
        await asyncio.sleep(0.01)
        resp.text = "ok"

    async def burst(base):
        limits = httpx.Limits(max_connections=100)
        clients = [httpx.AsyncClient(base_url=base, limits=limits) for _ in range(10)]
        try:
            tasks = [clients[i % 10].get("/") for i in range(100)]
            return await asyncio.gather(*tasks)
        finally:
            for client in clients:
                await client.aclose()

    with serve_in_thread(app) as base:
        responses = asyncio.run(burst(base))
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(ok) == 25 and len(limited) == 75
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in ok) == list(range(25))
    assert all(r.headers["x-ratelimit-limit"] == "25" for r in responses)
    assert all(int(r.headers["retry-after"]) >= 1 for r in limited)


def test_route_option_limits_do_not_leak_between_apps():
    def make():
        app = dyne.App()

        @app.route("/same", rate_limit=(1, 60))
        def same(req, resp):
            resp.text = "ok"

        return app

    first, second = make(), make()
    assert first.client.get("/same").status_code == 200
    assert second.client.get("/same").status_code == 200
    assert first.client.get("/same").status_code == 429
