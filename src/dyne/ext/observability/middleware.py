"""One ASGI middleware for every observability feature of an app.

``RequestContext``, ``Metrics`` and ``Tracing`` do not each wrap the app:
the first one bound installs ``ObservabilityMiddleware`` and each switches
its own part on in the shared ``Instruments``. A request then goes, in this
order: request id chosen and bound to the logging context -> server span
started (in the trace context the client sent) -> in-flight gauge up -> the
app -> status and duration recorded in the histogram and counter -> span
ended -> one access-log line. An app without these extensions has no
middleware and runs none of this.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...logging import request_id_var
from ...routing import route_path

if TYPE_CHECKING:
    from ...app import App
    from ...types import Receive, Scope, Send
    from .context import RequestContext
    from .metrics import Metrics
    from .tracing import Tracing

__all__ = ["UNMATCHED", "Instruments", "ObservabilityMiddleware", "instruments_for",
           "route_template"]

#: The route label of requests no route answers (404s): one value for any
#: path, so that random paths do not create new metric series.
UNMATCHED = "<unmatched>"
_KEY = "observability.instruments"
#: Routes (by name) that are neither measured, traced nor access-logged: the
#: endpoints that scrapers and orchestrators poll.
QUIET_ROUTES = {"dyne.metrics", "dyne.health_live", "dyne.health_ready"}


def route_template(app: App, scope: Scope) -> str:
    """The route template that answers the request (``/users/{id:int}``), the
    mount prefix plus ``/{path:path}`` for a mounted app, or ``UNMATCHED``.
    Never the raw path. Cached in the scope."""
    cached = scope.get("dyne.route_template")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    template = UNMATCHED
    path = route_path(scope)
    for mount in app._mounts:
        if mount.matches(path):
            template = mount.prefix + "/{path:path}"
            break
    else:
        raw_path = None if scope.get("root_path") else scope.get("raw_path")
        found = app.router.match(path, raw_path)
        if found is not None and found[0].routes:
            route = found[0].routes[0]
            template = route.path
            if route.name in QUIET_ROUTES:
                scope["dyne.quiet"] = True
    scope["dyne.route_template"] = template
    return template


class Instruments:
    """Which features are on for an app, shared by the observability extensions."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.context: RequestContext | None = None
        self.metrics: Metrics | None = None
        self.tracing: Tracing | None = None


def instruments_for(app: App) -> Instruments:
    """The app's ``Instruments``, installing the middleware the first time."""
    instruments = app.extensions.get(_KEY)
    if instruments is None:
        instruments = app.extensions[_KEY] = Instruments(app)
        app.add_middleware(ObservabilityMiddleware, instruments=instruments)
    return instruments  # type: ignore[no-any-return]


class ObservabilityMiddleware:
    """Request ids, access log, metrics and tracing around the app (pure ASGI)."""

    def __init__(self, app: Any, instruments: Instruments) -> None:
        self.app = app
        self.instruments = instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = self.instruments.context
        if context is None:
            await self._observe(scope, receive, send, None)
            return
        request_id = context.request_id_for(scope)
        token = request_id_var.set(request_id)
        try:
            await self._observe(scope, receive, send, request_id)
        finally:
            request_id_var.reset(token)

    async def _observe(self, scope: Scope, receive: Receive, send: Send,
                       request_id: str | None) -> None:
        instruments = self.instruments
        template = route_template(instruments.app, scope)
        quiet = "dyne.quiet" in scope
        metrics = None if quiet else instruments.metrics
        tracing = None if quiet else instruments.tracing
        context = instruments.context
        span = tracing.start(scope, template) if tracing is not None else None
        method = scope["method"]
        if metrics is not None:
            metrics.started(method)
        status = 500
        extra_headers: list[tuple[bytes, bytes]] = []
        if request_id is not None and context is not None:
            extra_headers.append((context.header_bytes, request_id.encode("latin-1")))
        if span is not None:
            assert tracing is not None
            extra_headers.extend(tracing.response_headers(span))

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if extra_headers:
                    headers = list(message.get("headers", ()))
                    present = {name.lower() for name, _ in headers}
                    headers.extend(item for item in extra_headers if item[0] not in present)
                    message = {**message, "headers": headers}
            await send(message)

        start = time.perf_counter()
        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            error = exc
            raise
        finally:
            duration = time.perf_counter() - start
            if metrics is not None:
                metrics.finished(method, template, status, duration)
            if span is not None:
                assert tracing is not None
                tracing.finish(span, status, error)
            if context is not None and not quiet:
                context.access(scope, template, status, duration)
