"""OpenTelemetry tracing: a server span per request, named by route template,
in the trace the client's ``traceparent`` header names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...extensions import Extension
from ...logging import require
from .middleware import instruments_for

if TYPE_CHECKING:
    from ...app import App
    from ...types import Scope

__all__ = ["Tracing"]


class _Span:
    __slots__ = ("span", "token")

    def __init__(self, span: Any, token: Any) -> None:
        self.span = span
        self.token = token


class Tracing(Extension):
    """A server span per HTTP request.

    * The span is named ``"{method} {route template}"`` (``GET /users/{id:int}``)
      and carries the HTTP semantic-convention attributes
      (``http.request.method``, ``http.route``, ``url.path``, ``url.scheme``,
      ``http.response.status_code``, ``client.address``, ``user_agent.original``);
      5xx answers and exceptions mark it as an error.
    * W3C trace context: an incoming ``traceparent`` (and ``tracestate``) makes
      the span a child of the caller's; the span is the current one while the
      view runs (so spans made inside, and outgoing calls of instrumented
      clients, belong to it); the response carries the span's own
      ``traceparent``, for the caller to correlate.
    * Database queries: when ``opentelemetry-instrumentation-sqlalchemy`` is
      installed, the engines of the app's ``db`` extension (``Alchemical``)
      get a child span per query at start-up; ``instrument_engine(engine)``
      does it for any other engine.

    ``Tracing(app, tracer_provider=provider)`` uses that provider; by default
    OpenTelemetry's global one (set up by the SDK or ``opentelemetry-instrument``).
    """

    name = "tracing"
    config_prefix = "TRACING_"

    def __init__(self, app: App | None = None, *, tracer_provider: Any = None,
                 instrument_database: bool = True) -> None:
        self.tracer_provider = tracer_provider
        self.instrument_database = instrument_database
        self.tracer: Any = None
        self._instrumented: list[Any] = []
        super().__init__(app)

    def setup(self, app: App) -> None:
        require("opentelemetry.trace", "tracing")
        from opentelemetry import context, propagate, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        from ...__version__ import __version__

        self.tracer = trace.get_tracer("dyne", __version__, tracer_provider=self.tracer_provider)
        self._context = context
        self._propagate = propagate
        self._trace = trace
        self._server = SpanKind.SERVER
        self._status = Status
        self._error = StatusCode.ERROR
        instruments_for(app).tracing = self

    # -- per request -----------------------------------------------------------------

    def start(self, scope: Scope, template: str) -> _Span:
        carrier: dict[str, str] = {}
        client: Any = None
        user_agent: str | None = None
        for name, value in scope["headers"]:
            if name in (b"traceparent", b"tracestate", b"baggage"):
                carrier[name.decode("latin-1")] = value.decode("latin-1")
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")
        parent = self._propagate.extract(carrier) if carrier else None
        method = scope["method"]
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "http.route": template,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
        }
        query = scope.get("query_string")
        if query:
            attributes["url.query"] = query.decode("latin-1")
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        if user_agent is not None:
            attributes["user_agent.original"] = user_agent
        span = self.tracer.start_span(f"{method} {template}", context=parent, kind=self._server,
                                      attributes=attributes)
        token = self._context.attach(self._trace.set_span_in_context(span))
        return _Span(span, token)

    def response_headers(self, handle: _Span) -> list[tuple[bytes, bytes]]:
        """``traceparent`` naming this request's span, for the response."""
        context = handle.span.get_span_context()
        if not context.is_valid:
            return []
        value = f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
        return [(b"traceparent", value.encode())]

    def finish(self, handle: _Span, status: int, error: BaseException | None) -> None:
        span = handle.span
        try:
            span.set_attribute("http.response.status_code", status)
            if error is not None and not isinstance(error, Exception):
                pass  # cancellation: not an application error
            elif error is not None:
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(self._status(self._error, str(error)))
            elif status >= 500:
                span.set_attribute("error.type", str(status))
                span.set_status(self._status(self._error))
            span.end()
        finally:
            self._context.detach(handle.token)

    # -- databases -------------------------------------------------------------------

    async def on_startup(self) -> None:
        if not self.instrument_database:
            return
        app = self.require_app()
        db = app.extensions.get("db")
        if db is None or not hasattr(db, "get_engine"):
            return
        try:
            import opentelemetry.instrumentation.sqlalchemy  # noqa: F401
        except ImportError:
            return
        db.get_engine()  # makes the engines
        for engine in list((getattr(db, "engines", None) or {}).values()):
            self.instrument_engine(engine)

    def instrument_engine(self, engine: Any) -> None:
        """Add a child span per query on ``engine`` (sync or async), named by
        the statement's verb and database, through
        ``opentelemetry-instrumentation-sqlalchemy``."""
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import get_meter

        sync_engine = getattr(engine, "sync_engine", engine)
        if any(e is sync_engine for e in self._instrumented):
            return
        meter = get_meter("dyne")
        usage = meter.create_up_down_counter("db.client.connections.usage", unit="connections")
        EngineTracer(self.tracer, sync_engine, usage)
        self._instrumented.append(sync_engine)
