"""Observability: request ids and access logs, Prometheus metrics,
OpenTelemetry tracing, and health endpoints.

::

    from dyne.ext.observability import Health, Metrics, RequestContext, Tracing

    RequestContext(app)     # X-Request-ID in and out, on every log line; access log
    Metrics(app)            # GET /metrics (prometheus-client)
    Tracing(app)            # a span per request (OpenTelemetry)
    health = Health(app)    # GET /health/live, GET /health/ready
    health.add_check("database", database_check(db))

The first three share one ASGI middleware, installed by whichever is bound
first; an app with none of them runs none of their code. Each library is
imported when its extension is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import RequestContext, current_request_id
    from .health import Health, database_check, redis_check
    from .metrics import Metrics
    from .middleware import UNMATCHED, route_template
    from .tracing import Tracing

__all__ = ["UNMATCHED", "Health", "Metrics", "RequestContext", "Tracing", "current_request_id",
           "database_check", "redis_check", "route_template"]

_WHERE = {"RequestContext": "context", "current_request_id": "context", "Health": "health",
          "database_check": "health", "redis_check": "health", "Metrics": "metrics",
          "Tracing": "tracing", "UNMATCHED": "middleware", "route_template": "middleware"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dyne.ext.observability' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
