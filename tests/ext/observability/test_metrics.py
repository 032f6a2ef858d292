"""Prometheus metrics labelled by route template, and multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import httpx
import pytest

import dyne
from tests.conftest import free_port, wait_for_port

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families

from dyne.ext.observability import Metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def count(scraped, name, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def route_values(scraped) -> set[str]:
    return {dict(labels)["route"] for (name, labels) in scraped if name == "dyne_http_requests_total"}


def make_app() -> tuple[dyne.App, Metrics]:
    app = dyne.App()
    metrics = Metrics(app)

    @app.route("/users/{user_id:int}", methods=["GET"])
    async def user(req, resp, *, user_id):
        resp.media = {"id": user_id}

    @app.route("/items", methods=["POST"])
    async def create(req, resp):
        resp.status_code = 201
        resp.media = {}

    @app.route("/inflight")
    async def inflight(req, resp):
        scraped = samples(metrics.exposition().decode())
        resp.media = {"in_progress": count(scraped, "dyne_http_requests_in_progress", method="GET")}

    return app, metrics


def test_counts_per_route_template_after_a_burst():
    app, _ = make_app()
    with app.client as client:
        for user_id in range(1, 8):
            assert client.get(f"/users/{user_id}").status_code == 200
        for _ in range(3):
            assert client.post("/items", json={}).status_code == 201
        assert client.get("/users/abc").status_code == 404
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    scraped = samples(response.text)
    assert count(scraped, "dyne_http_requests_total", method="GET", route="/users/{user_id:int}",
                 status="200") == 7
    assert count(scraped, "dyne_http_requests_total", method="POST", route="/items",
                 status="201") == 3
    assert count(scraped, "dyne_http_requests_total", method="GET", route="<unmatched>",
                 status="404") == 1
    assert count(scraped, "dyne_http_request_duration_seconds_count", method="GET",
                 route="/users/{user_id:int}") == 7
    assert count(scraped, "dyne_http_request_duration_seconds_bucket", method="POST",
                 route="/items", le="+Inf") == 3
    assert count(scraped, "dyne_http_requests_in_progress", method="GET") == 0
    # The raw paths never appear; the scrape itself is not counted.
    assert "/users/1" not in response.text.replace("/users/{user_id:int}", "")
    assert route_values(scraped) == {"/users/{user_id:int}", "/items", "<unmatched>"}


def test_random_paths_add_no_label_value():
    app, _ = make_app()
    with app.client as client:
        client.get("/users/1")
        client.get(f"/{uuid.uuid4()}")
        before = samples(client.get("/metrics").text)
        for _ in range(5):
            assert client.get(f"/{uuid.uuid4()}/{uuid.uuid4()}").status_code == 404
        client.request("BREW", "/users/1")  # an invented method
        after = samples(client.get("/metrics").text)
    assert route_values(after) == route_values(before) == {"/users/{user_id:int}", "<unmatched>"}
    assert count(after, "dyne_http_requests_total", method="GET", route="<unmatched>",
                 status="404") == 6
    assert count(after, "dyne_http_requests_total", method="OTHER", route="/users/{user_id:int}",
                 status="405") == 1


def test_in_flight_gauge():
    app, _ = make_app()
    with app.client as client:
        assert client.get("/inflight").json() == {"in_progress": 1.0}
        scraped = samples(client.get("/metrics").text)
    assert count(scraped, "dyne_http_requests_in_progress", method="GET") == 0


def test_settings_and_own_metrics():
    from prometheus_client import Counter

    app = dyne.App()
    app.config["METRICS_PATH"] = "/internal/metrics"
    metrics = Metrics(app, prefix="shop", buckets=[0.1, 1])
    signups = Counter("shop_signups", "Sign-ups.", registry=metrics.registry)

    @app.route("/signup")
    async def signup(req, resp):
        signups.inc()

    with app.client as client:
        client.get("/signup")
        assert client.get("/metrics").status_code == 404
        text = client.get("/internal/metrics").text
    scraped = samples(text)
    assert count(scraped, "shop_signups_total") == 1
    assert count(scraped, "shop_http_requests_total", method="GET", route="/signup", status="200") == 1
    assert {dict(labels)["le"] for (name, labels) in scraped
            if name == "shop_http_request_duration_seconds_bucket"} == {"0.1", "1.0", "+Inf"}


def test_metrics_from_several_workers(tmp_path):
    """uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: whichever worker
    answers the scrape reports the requests of all of them."""
    (tmp_path / "metrics_app.py").write_text(textwrap.dedent("""
        import os
        import dyne
        from dyne.ext.observability import Metrics

        app = dyne.App()
        Metrics(app)

        @app.route("/pid")
        async def pid(req, resp):
            resp.media = {"pid": os.getpid()}
    """))
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "metrics_app:app", "--port", str(port), "--workers", "2",
         "--log-level", "warning"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process=process)
        pids = set()
        total = 40
        for _ in range(total):  # a new connection each time, to reach both workers
            response = httpx.get(f"http://127.0.0.1:{port}/pid", timeout=10)
            assert response.status_code == 200
            pids.add(response.json()["pid"])
        for _ in range(4):
            scraped = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
            assert count(scraped, "dyne_http_requests_total", method="GET", route="/pid",
                         status="200") == total
            assert count(scraped, "dyne_http_request_duration_seconds_count", method="GET",
                         route="/pid") == total
        # Each worker that answered wrote its own file.
        assert len({f.name.rsplit("_", 1)[1] for f in multiproc.glob("counter_*.db")}) == len(pids)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_mounted_apps_and_groups_are_labelled_by_template():
    app = dyne.App()
    Metrics(app)
    api = app.group("/api/v1")

    @api.route("/books/{book_id:int}")
    async def book(req, resp, *, book_id):
        resp.media = {"id": book_id}

    inner = dyne.App()

    @inner.route("/{anything}")
    async def anything(req, resp, *, anything):
        resp.text = anything

    app.mount("/legacy", inner)
    with app.client as client:
        assert client.get("/api/v1/books/3").json() == {"id": 3}
        assert client.get(f"/legacy/{uuid.uuid4()}").status_code == 200
        assert client.get(f"/legacy/{uuid.uuid4()}").status_code == 200
        scraped = samples(client.get("/metrics").text)
    assert route_values(scraped) == {"/api/v1/books/{book_id:int}", "/legacy/{path:path}"}
    assert count(scraped, "dyne_http_requests_total", method="GET", route="/legacy/{path:path}",
                 status="200") == 2
