"""Prometheus metrics: request counts, latencies and requests in flight,
labelled by route template, served at ``/metrics``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ...extensions import Extension
from ...logging import require
from .middleware import instruments_for

if TYPE_CHECKING:
    from ...app import App
    from ...request import Request
    from ...response import Response

__all__ = ["Metrics"]

#: Methods that keep their own label value; any other becomes ``OTHER``, so a
#: client cannot create series by inventing methods.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
                      "CONNECT"})


class Metrics(Extension):
    """Prometheus metrics for every request, at ``GET /metrics``.

    * ``dyne_http_requests_total{method, route, status}``: a counter;
    * ``dyne_http_request_duration_seconds{method, route}``: a histogram;
    * ``dyne_http_requests_in_progress{method}``: a gauge.

    ``route`` is the route template (``/users/{id:int}``), ``<unmatched>`` for
    requests no route answers: never the raw path, so the number of series is
    bounded by the number of routes whatever clients request. Methods outside
    the standard ones are counted as ``OTHER``.

    Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
    directory shared by the workers before they start; every worker then
    answers ``/metrics`` with the sum over all workers (prometheus-client's
    multiprocess mode), and a worker's in-flight gauge is dropped when it shuts
    down.

    Settings (arguments, else config): ``METRICS_PATH`` (``/metrics``; ``None``
    for no endpoint), ``METRICS_PREFIX`` (``dyne``), ``METRICS_BUCKETS``
    (histogram buckets in seconds). Add your own metrics to ``metrics.registry``.
    """

    name = "metrics"
    config_prefix = "METRICS_"

    def __init__(self, app: App | None = None, *, path: str | None = "",
                 prefix: str | None = None, buckets: Any = None) -> None:
        self._path = path
        self._prefix = prefix
        self._buckets = buckets
        self.path: str | None = "/metrics"
        self.registry: Any = None
        self._gauges: dict[str, Any] = {}
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.multiprocess_dir: str | None = None
        super().__init__(app)

    def setup(self, app: App) -> None:
        require("prometheus_client", "metrics")
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        path = self._path if self._path != "" else self.config_value("PATH", "/metrics")
        prefix = self._prefix or self.config_value("PREFIX", "dyne")
        buckets = self._buckets or self.config_value("BUCKETS", None, cast=list)
        self.path = path or None
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(f"{prefix}_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        histogram_options: dict[str, Any] = {}
        if buckets:
            histogram_options["buckets"] = [float(b) for b in buckets]
        self.latency = Histogram(f"{prefix}_http_request_duration_seconds",
                                 "Time to answer HTTP requests, in seconds.", ["method", "route"],
                                 registry=self.registry, **histogram_options)
        self.in_progress = Gauge(f"{prefix}_http_requests_in_progress",
                                 "HTTP requests being answered.", ["method"],
                                 registry=self.registry, multiprocess_mode="livesum")
        instruments = instruments_for(app)
        instruments.metrics = self
        if self.path is not None:
            app.add_route(self.path, self.endpoint, methods=["GET"], name="dyne.metrics")

    def started(self, method: str) -> None:
        if method not in _METHODS:
            method = "OTHER"
        gauge = self._gauges.get(method)
        if gauge is None:
            gauge = self._gauges[method] = self.in_progress.labels(method)
        gauge.inc()

    def finished(self, method: str, template: str, status: int, duration: float) -> None:
        if method not in _METHODS:
            method = "OTHER"
        self._gauges[method].dec()
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            # A few series per route: the labelled children are looked up once
            # (keys are bounded like the labels: methods, templates, statuses).
            children = self._children[key] = (self.requests.labels(method, template, str(status)),
                                              self.latency.labels(method, template))
        children[0].inc()
        children[1].observe(duration)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format (summed over the workers in
        multiprocess mode)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self.multiprocess_dir:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry)
        return generate_latest(self.registry)

    async def endpoint(self, req: Request, resp: Response) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST

        from ...concurrency import run_sync

        # Reading many worker files is blocking work: off the event loop then.
        body = await run_sync(self.exposition) if self.multiprocess_dir else self.exposition()
        resp.content = body
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST

    async def on_shutdown(self) -> None:
        if self.multiprocess_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid(), path=self.multiprocess_dir)
