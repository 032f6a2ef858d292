"""Rate limiting: ``requests`` per ``period`` seconds per client.

A client may send ``requests`` requests at once, then one more every
``period / requests`` seconds (a token bucket, computed with GCRA): the
sustained rate never exceeds ``requests`` per ``period``.

::

    from dyne.ext.ratelimit import RateLimiter

    limiter = RateLimiter(requests=100, period=60)
    limiter.init_app(app)                    # every request of the app (or .install(app))

    @app.route("/login", methods=["POST"])
    @limiter.limit(requests=5, period=60)    # a tighter limit for one route
    async def login(req, resp): ...

    @app.route("/search", rate_limit=(10, 1))   # the same, as a route option
    async def search(req, resp): ...

Every limited response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``
and ``X-RateLimit-Reset`` (seconds until the allowance is full again); a client
over its limit gets ``429 Too Many Requests`` with ``Retry-After`` (seconds),
through the app's error handlers (so ``@app.error_handler(429)`` applies).

Clients are told apart by IP address by default (``req.client.host``; behind a
proxy, let uvicorn's ``--proxy-headers`` set it from ``X-Forwarded-For``), or
by ``key=lambda req: ...``. Counts live in a ``RateLimitStore``: per process in
memory by default; a shared store (``dyne.ext.ratelimit.redis.RedisStore``)
makes several workers and hosts share one limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ...endpoints import PHASE_BEFORE, get_endpoint_spec
from ...exceptions import HTTPException
from ...extensions import Extension
from .store import MemoryStore, RateLimitResult, RateLimitStore, gcra

if TYPE_CHECKING:
    from ...app import App
    from ...request import Request
    from ...response import Response
    from ...routing import Route
    from .redis import RedisStore

__all__ = [
    "MemoryStore",
    "RateLimitResult",
    "RateLimitStore",
    "RateLimiter",
    "RedisStore",
    "client_ip",
    "gcra",
    "route_option",
]

F = TypeVar("F", bound=Callable[..., Any])
KeyFunction = Callable[["Request"], str]

#: Per-route limits run after route ``before`` hooks and before authentication.
PHASE_RATELIMIT = PHASE_BEFORE + 50
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*$")


def __getattr__(name: str) -> Any:
    if name == "RedisStore":  # imported on first use: it needs redis-py
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def client_ip(req: Request) -> str:
    """The default key: the client's IP address."""
    client = req.scope.get("client")
    return client[0] if client else "unknown"


def parse_rate(value: str) -> tuple[int, float]:
    """``"5/minute"``, ``"100 per hour"``, ``"10/30second"`` -> (requests, seconds)."""
    found = _RATE_RE.match(value.lower())
    if found is None:
        raise ValueError(f"Cannot read rate {value!r}: write it like '5/minute' or '100 per hour'")
    count, multiplier, unit = found.groups()
    return int(count), _PERIODS[unit] * (int(multiplier) if multiplier else 1)


def _check_limit(requests: Any, period: Any) -> tuple[int, float]:
    if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
        raise ValueError(f"requests must be a positive integer, got {requests!r}")
    if not isinstance(period, (int, float)) or isinstance(period, bool) or not period > 0:
        raise ValueError(f"period must be a positive number of seconds, got {period!r}")
    return requests, float(period)


class RateLimiter(Extension):
    """Allow each client ``requests`` requests per ``period`` seconds: a burst
    of ``requests``, refilled at one request every ``period / requests`` seconds.

    :param requests: requests allowed per period (and in one burst).
    :param period: the period, in seconds.
    :param key: ``key(req) -> str`` telling clients apart (client IP by default).
    :param store: where counts live (a ``MemoryStore`` by default).
    :param exempt: ``exempt(req) -> bool``; exempt requests are not counted.
    :param headers: send the ``X-RateLimit-*`` headers.

    An ``Extension``: ``init_app(app)`` (or ``install(app)``, which returns the
    limiter) limits every request the app routes. Several limiters may limit
    one app; ``app.extensions["ratelimit"]`` lists them.
    """

    name = "ratelimit"

    def __init__(self, requests: int = 100, period: float = 60, *, key: KeyFunction | None = None,
                 store: RateLimitStore | None = None,
                 exempt: Callable[[Request], bool] | None = None, headers: bool = True) -> None:
        super().__init__()
        self.requests, self.period = _check_limit(requests, period)
        self.key = key or client_ip
        self.store = store if store is not None else MemoryStore()
        self.exempt = exempt
        self.headers = headers

    # -- wiring ------------------------------------------------------------------------

    def install(self, app: App) -> RateLimiter:
        """``init_app(app)``, returning the limiter (its former name)."""
        self.init_app(app)
        return self

    def register(self, app: App) -> bool:
        limiters = app.extensions.setdefault("ratelimit", [])
        if self in limiters:
            raise RuntimeError("This RateLimiter is already installed on the app")
        limiters.append(self)
        return True

    def setup(self, app: App) -> None:
        """Limit every request the app routes (not mounted apps or static files).
        Install it before other before-request hooks so that it runs first."""

        async def rate_limit(req: Request, resp: Response) -> None:
            await self.check(req, resp, "app")

        app.before_request(rate_limit)

    async def on_shutdown(self) -> None:
        await self.store.close()

    def limit(self, requests: int | None = None, period: float | None = None, *,
              key: KeyFunction | None = None) -> Callable[[F], F]:
        """Decorator: a limit of its own for one view (this limiter's store;
        its ``requests``, ``period`` and ``key`` unless given). Counted apart
        from the app-wide limit."""
        limit = _check_limit(requests if requests is not None else self.requests,
                             period if period is not None else self.period)

        def decorator(view: F) -> F:
            bucket = f"{getattr(view, '__module__', '')}.{getattr(view, '__qualname__', view)!s}"
            self._add_step(get_endpoint_spec(view), bucket, limit, key)
            return view

        return decorator

    def _add_step(self, spec: Any, bucket: str, limit: tuple[int, float],
                  key: KeyFunction | None) -> None:
        async def rate_limit_step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
            await self.check(req, resp, bucket, limit=limit, key=key)

        spec.add_step(rate_limit_step, PHASE_RATELIMIT)

    # -- checking ----------------------------------------------------------------------

    async def check(self, req: Request, resp: Response, bucket: str = "app", *,
                    limit: tuple[int, float] | None = None, key: KeyFunction | None = None,
                    cost: int = 1) -> RateLimitResult | None:
        """Count one request of ``req``'s client in ``bucket``; set the headers
        on ``resp``; raise ``HTTPException(429)`` when over the limit. Returns
        the result (``None`` for an exempt request)."""
        if self.exempt is not None and self.exempt(req):
            return None
        requests, period = limit or (self.requests, self.period)
        client = (key or self.key)(req)
        result = await self.store.hit(f"{bucket}:{client}", requests, period, cost)
        if self.headers and not result.degraded:
            self._set_headers(resp, result)
        if not result.allowed:
            retry = str(max(1, math.ceil(result.retry_after)))
            raise HTTPException(429, "Too Many Requests", headers={"Retry-After": retry})
        return result

    @staticmethod
    def _set_headers(resp: Response, result: RateLimitResult) -> None:
        headers = resp.headers
        current = headers.get("X-RateLimit-Remaining")
        if current is not None and current.isdigit() and int(current) < result.remaining:
            return  # a stricter limit already answered for this request
        headers["X-RateLimit-Limit"] = str(result.limit)
        headers["X-RateLimit-Remaining"] = str(result.remaining)
        headers["X-RateLimit-Reset"] = str(math.ceil(result.reset_after))

    async def reset(self, key: str | None = None) -> None:
        """Forget every count (or those of one store key, ``"<bucket>:<client>"``)."""
        await self.store.reset(key)

    def __repr__(self) -> str:
        return f"<RateLimiter {self.requests}/{self.period:g}s store={type(self.store).__name__}>"


def route_option(route: Route, value: Any) -> None:
    """``@app.route(path, rate_limit=...)``: ``(requests, period)``, a rate such
    as ``"5/minute"``, or a ``RateLimiter`` (its limit, key and store). A limit
    given as a tuple or a rate counts in a store of its own, for this route."""
    if isinstance(value, RateLimiter):
        limiter, limit = value, (value.requests, value.period)
    elif isinstance(value, str):
        limiter, limit = RateLimiter(store=MemoryStore()), parse_rate(value)
    elif isinstance(value, tuple) and len(value) == 2:
        limiter, limit = RateLimiter(store=MemoryStore()), _check_limit(*value)
    else:
        raise TypeError("rate_limit= takes (requests, period), a rate like '5/minute', "
                        f"or a RateLimiter; got {value!r}")
    methods = ",".join(sorted(route.methods)) if route.methods else "*"
    limiter._add_step(route.spec, f"route:{methods}:{route.path}", limit, None)
