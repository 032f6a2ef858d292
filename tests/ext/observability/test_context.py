"""Request ids bound to every log line, and the access log (JSON lines)."""

from __future__ import annotations

import asyncio
import json
import re
import threading

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyne

pytest.importorskip("loguru")

from dyne.ext.observability import RequestContext, current_request_id
from dyne.ext.observability.context import VALID_REQUEST_ID


def json_app(tmp_path, **options):
    sink = tmp_path / "app.jsonl"
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"SINK": str(sink), "FORMAT": "json", "LEVEL": "DEBUG"}
    RequestContext(app, **options)
    return app, sink


def read_lines(sink):
    return [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]


def test_request_id_is_kept_echoed_and_available(tmp_path):
    app, _ = json_app(tmp_path)

    @app.route("/")
    async def home(req, resp):
        resp.media = {"req": req.request_id, "current": current_request_id()}

    with app.client as client:
        given_id = client.get("/", headers={"X-Request-ID": "abc-123.x:y_z"})
        generated = client.get("/")
    assert given_id.headers["X-Request-ID"] == "abc-123.x:y_z"
    assert given_id.json() == {"req": "abc-123.x:y_z", "current": "abc-123.x:y_z"}
    new = generated.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", new)
    assert generated.json() == {"req": new, "current": new}
    assert current_request_id() is None  # outside a request


@pytest.mark.parametrize("bad", ["has space", "new\tline", "x" * 129, "", "<script>", "a;b"])
def test_invalid_request_ids_are_replaced(tmp_path, bad):
    app, sink = json_app(tmp_path)

    @app.route("/")
    async def home(req, resp):
        app.logger.info("in view")
        resp.text = "ok"

    with app.client as client:
        response = client.get("/", headers={"X-Request-ID": bad})
    assert response.status_code == 200
    new = response.headers["X-Request-ID"]
    assert new != bad and re.fullmatch(r"[0-9a-f]{32}", new)
    assert {line["request_id"] for line in read_lines(sink)} == {new}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=200))
def test_any_header_value_gives_a_safe_id(value):
    app = dyne.App()
    RequestContext(app, access_log=False)

    @app.route("/")
    async def home(req, resp):
        resp.text = req.request_id

    with app.client as client:
        response = client.get("/", headers={"X-Request-ID": value.encode("latin-1")})
    assert response.status_code == 200
    echoed = response.headers["X-Request-ID"]
    assert VALID_REQUEST_ID.fullmatch(echoed) and response.text == echoed
    assert (echoed == value) == bool(VALID_REQUEST_ID.fullmatch(value))


def test_every_line_of_a_request_carries_its_id(tmp_path):
    """Views, hooks, standard-library loggers and the background tasks the
    request started (async and sync) all log with the request's id."""
    app, sink = json_app(tmp_path)
    done = threading.Event()

    @app.before_request()
    async def before(req, resp):
        app.logger.debug("before hook")

    @app.background.task
    async def async_job():
        await asyncio.sleep(0.01)
        app.logger.info("async background")

    @app.background.task
    def sync_job():
        app.logger.info("sync background")
        done.set()

    @app.route("/orders/{number:int}")
    async def order(req, resp, *, number):
        app.logger.info("order {}", number)
        import logging

        logging.getLogger("dyne.orders").warning("stdlib line")
        async_job()
        sync_job()
        resp.media = {"number": number}

    with app.client as client:
        response = client.get("/orders/7", headers={"X-Request-ID": "req-7"})
        assert done.wait(5)
    lines = read_lines(sink)
    messages = {line["message"]: line for line in lines}
    for message in ("before hook", "order 7", "stdlib line", "async background",
                    "sync background", "GET /orders/{number:int} 200"):
        found = [line for text, line in messages.items() if text.startswith(message)]
        assert found, (message, list(messages))
        assert found[0]["request_id"] == "req-7", found[0]
    assert response.headers["X-Request-ID"] == "req-7"
    assert messages["stdlib line"]["logger"] == "dyne.orders"


def test_access_log_line(tmp_path):
    app, sink = json_app(tmp_path)

    @app.route("/users/{user_id:int}", methods=["GET"])
    async def user(req, resp, *, user_id):
        resp.media = {"id": user_id}

    @app.route("/boom")
    async def boom(req, resp):
        raise RuntimeError("no")

    with app.client as client:
        client.get("/users/42?x=1", headers={"X-Request-ID": "one"})
        client.post("/users/42", headers={"X-Request-ID": "two"})
        client.get("/nowhere/9f8e", headers={"X-Request-ID": "three"})
        client.get("/boom", headers={"X-Request-ID": "four"})
    access = [line for line in read_lines(sink) if line["logger"] == "dyne.access"]
    assert [(a["request_id"], a["method"], a["route"], a["path"], a["status"]) for a in access] == [
        ("one", "GET", "/users/{user_id:int}", "/users/42", 200),
        ("two", "POST", "/users/{user_id:int}", "/users/42", 405),
        ("three", "GET", "<unmatched>", "/nowhere/9f8e", 404),
        ("four", "GET", "/boom", "/boom", 500),
    ]
    first = access[0]
    assert first["level"] == "INFO" and first["client"] == "testclient:50000"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert re.fullmatch(r"GET /users/\{user_id:int\} 200 \d+\.\d\dms", first["message"])


def test_access_log_off_and_other_header(tmp_path):
    app, sink = json_app(tmp_path, access_log=False, header="X-Correlation-ID")

    @app.route("/")
    async def home(req, resp):
        app.logger.info("hello")

    with app.client as client:
        response = client.get("/", headers={"X-Correlation-ID": "corr-1", "X-Request-ID": "nope"})
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert "X-Request-ID" not in response.headers
    assert [(line["message"], line["request_id"]) for line in read_lines(sink)] == [("hello", "corr-1")]


def test_settings_from_config(tmp_path):
    app = dyne.App()
    sink = tmp_path / "c.log"
    app.config["DEFAULT_LOGGER"] = {"SINK": str(sink)}
    app.config["ACCESS_LOG_LEVEL"] = "debug"
    app.config["REQUEST_ID_TRUST_HEADER"] = "false"
    context = RequestContext(app)
    assert (context.access_log_level, context.trust_header) == ("DEBUG", False)
    with app.client as client:
        response = client.get("/", headers={"X-Request-ID": "given"})
    assert response.headers["X-Request-ID"] != "given"
    # INFO sink: the DEBUG access line is not written; the default format shows the id.
    assert sink.read_text(encoding="utf-8") == ""


def test_default_format_shows_the_request_id(capsys):
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"COLORIZE": False}
    RequestContext(app)
    with app.client as client:
        client.get("/missing", headers={"X-Request-ID": "shown-here"})
    err = capsys.readouterr().err
    assert re.search(r"\| INFO \| dyne\.access \| shown-here \| GET <unmatched> 404 ", err), err


def test_two_concurrent_requests_under_uvicorn(tmp_path, server):
    """Two requests in flight at once on a real server: each log line carries
    the id of the request that wrote it."""
    app, sink = json_app(tmp_path)
    arrived: list[str] = []
    both = asyncio.Event()

    @app.route("/work/{name}")
    async def work(req, resp, *, name):
        app.logger.info("start {}", name)
        arrived.append(name)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 10)  # both requests are now in flight
        app.logger.info("end {}", name)
        resp.media = {"name": name, "id": req.request_id}

    results: dict[str, httpx.Response] = {}
    with server(app) as url, httpx.Client(base_url=url, timeout=20) as client:

        def fetch(name, request_id):
            headers = {"X-Request-ID": request_id} if request_id else {}
            results[name] = client.get(f"/work/{name}", headers=headers)

        threads = [threading.Thread(target=fetch, args=("a", "id-for-a")),
                   threading.Thread(target=fetch, args=("b", None))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    ids = {name: response.headers["X-Request-ID"] for name, response in results.items()}
    assert ids["a"] == "id-for-a" and re.fullmatch(r"[0-9a-f]{32}", ids["b"])
    lines = [line for line in read_lines(sink) if line["message"].split()[0] in ("start", "end")]
    assert len(lines) == 4
    # Both started before either ended: the requests really overlapped.
    assert [line["message"].split()[0] for line in lines] == ["start", "start", "end", "end"]
    for line in lines:
        name = line["message"].split()[1]
        assert line["request_id"] == ids[name], line
    access = [line for line in read_lines(sink) if line["logger"] == "dyne.access"]
    assert sorted((a["path"], a["request_id"]) for a in access) == [
        ("/work/a", ids["a"]), ("/work/b", ids["b"])]


def test_plain_app_has_no_middleware():
    """Without the extensions nothing wraps the app: zero cost per request."""
    app = dyne.App()
    assert app.build_middleware_stack() == app._dispatch
    assert "observability.instruments" not in app.extensions


def test_async_task_scheduled_from_a_sync_view_keeps_the_id(tmp_path):
    app, sink = json_app(tmp_path)

    @app.background.task
    async def job():
        app.logger.info("async job from a sync view")

    @app.route("/")
    def view(req, resp):  # runs in a worker thread
        job()
        resp.text = "ok"

    with app.client as client:
        client.get("/", headers={"X-Request-ID": "threaded-1"})
    lines = read_lines(sink)
    job_line = next(line for line in lines if line["message"] == "async job from a sync view")
    assert job_line["request_id"] == "threaded-1"
