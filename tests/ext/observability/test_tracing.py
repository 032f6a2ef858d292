"""OpenTelemetry spans per request, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import re

import pytest

import dyne

pytest.importorskip("opentelemetry.sdk")
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from dyne.ext.observability import Metrics, RequestContext, Tracing

INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def traced_app(provider):
    app = dyne.App()
    Tracing(app, tracer_provider=provider)

    @app.route("/users/{user_id:int}", methods=["GET"])
    async def user(req, resp, *, user_id):
        with trace.get_tracer("test", tracer_provider=provider).start_as_current_span("load user"):
            pass
        resp.media = {"id": user_id}

    @app.route("/boom")
    async def boom(req, resp):
        raise RuntimeError("database on fire")

    @app.route("/teapot")
    async def teapot(req, resp):
        resp.status_code = 503

    return app


def test_span_per_request_named_by_route_template(provider, exporter):
    app = traced_app(provider)
    with app.client as client:
        response = client.get("/users/42?full=1", headers={"User-Agent": "probe/1"})
        client.get("/nowhere")
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"GET /users/{user_id:int}", "load user", "GET <unmatched>"}
    server = spans["GET /users/{user_id:int}"]
    assert server.kind == SpanKind.SERVER
    assert server.parent is None
    assert dict(server.attributes) == {
        "http.request.method": "GET", "http.route": "/users/{user_id:int}", "url.path": "/users/42",
        "url.scheme": "http", "url.query": "full=1", "client.address": "testclient",
        "user_agent.original": "probe/1", "http.response.status_code": 200}
    assert server.status.status_code == StatusCode.UNSET
    # The view's own span is a child of the request's span.
    child = spans["load user"]
    assert child.parent.span_id == server.context.span_id
    assert child.context.trace_id == server.context.trace_id
    # The response names the server span.
    flags = int(server.context.trace_flags)
    assert flags & 1  # sampled
    assert response.headers["traceparent"] == (
        f"00-{server.context.trace_id:032x}-{server.context.span_id:016x}-{flags:02x}")
    assert spans["GET <unmatched>"].attributes["http.response.status_code"] == 404


def test_traceparent_in_makes_a_child_of_the_caller(provider, exporter):
    app = traced_app(provider)
    with app.client as client:
        response = client.get("/users/1", headers={
            "traceparent": f"00-{INCOMING_TRACE}-{INCOMING_SPAN}-01", "tracestate": "vendor=x"})
    server = next(s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert f"{server.context.trace_id:032x}" == INCOMING_TRACE
    assert f"{server.parent.span_id:016x}" == INCOMING_SPAN and server.parent.is_remote
    assert server.context.trace_state.get("vendor") == "x"
    trace_id, span_id = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-0[13]",
                                     response.headers["traceparent"]).groups()
    assert trace_id == INCOMING_TRACE and span_id == f"{server.context.span_id:016x}"


@pytest.mark.parametrize("value", ["garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01",
                                   "00-xyz-abc-01", "ff-" + INCOMING_TRACE + "-" + INCOMING_SPAN])
def test_bad_traceparent_starts_a_new_trace(provider, exporter, value):
    app = traced_app(provider)
    with app.client as client:
        assert client.get("/users/1", headers={"traceparent": value}).status_code == 200
    server = next(s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert server.parent is None
    assert f"{server.context.trace_id:032x}" != INCOMING_TRACE


def test_errors_mark_the_span(provider, exporter):
    app = traced_app(provider)
    with app.client as client:
        assert client.get("/boom").status_code == 500
        assert client.get("/teapot").status_code == 503
    spans = {span.name: span for span in exporter.get_finished_spans()}
    # dyne answers the unhandled error with a 500; the span says so.
    boom = spans["GET /boom"]
    assert boom.status.status_code == StatusCode.ERROR
    assert boom.attributes["http.response.status_code"] == 500
    assert spans["GET /teapot"].status.status_code == StatusCode.ERROR
    assert spans["GET /teapot"].attributes["error.type"] == "503"


def test_exception_reaching_the_middleware_is_recorded(provider, exporter):
    app = traced_app(provider)
    app.debug = True  # errors are re-raised through the middleware
    with app.client as client, pytest.raises(RuntimeError, match="database on fire"):
        client.get("/boom")
    span = next(s for s in exporter.get_finished_spans() if s.name == "GET /boom")
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "RuntimeError"
    assert [event.name for event in span.events] == ["exception"]
    assert trace.get_current_span() is trace.INVALID_SPAN  # context detached


def test_with_metrics_and_request_ids(provider, exporter, tmp_path):
    """The three share one middleware; the metrics endpoint is not traced."""
    app = traced_app(provider)
    app.config["DEFAULT_LOGGER"] = {"SINK": str(tmp_path / "log.txt")}
    RequestContext(app)
    Metrics(app)
    with app.client as client:
        response = client.get("/users/5", headers={"X-Request-ID": "r-5"})
        client.get("/metrics")
    assert response.headers["X-Request-ID"] == "r-5" and "traceparent" in response.headers
    assert [s.name for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER] == [
        "GET /users/{user_id:int}"]
    assert sum(cls.__name__ == "ObservabilityMiddleware" for cls, _ in app._middleware) == 1


def test_database_queries_are_child_spans(provider, exporter, tmp_path):
    pytest.importorskip("opentelemetry.instrumentation.sqlalchemy")
    pytest.importorskip("aiosqlite")
    from sqlalchemy import text

    from dyne.ext.db.alchemical import Alchemical

    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    Alchemical(app)
    Tracing(app, tracer_provider=provider)

    @app.route("/answer")
    async def answer(req, resp):
        session = await req.db
        resp.media = {"answer": (await session.execute(text("SELECT 40 + 2"))).scalar()}

    with app.client as client:
        assert client.get("/answer").json() == {"answer": 42}
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind == SpanKind.SERVER)
    queries = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert queries, [s.name for s in spans]
    query = queries[-1]
    assert query.parent.span_id == server.context.span_id
    assert "SELECT 40 + 2" in query.attributes.get("db.statement", query.attributes.get("db.query.text"))
    assert query.attributes["db.system"] == "sqlite"
