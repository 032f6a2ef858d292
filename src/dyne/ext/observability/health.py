"""Liveness and readiness endpoints, with readiness checks that time out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ...concurrency import is_async_callable, run_sync
from ...extensions import Extension

if TYPE_CHECKING:
    from ...app import App
    from ...request import Request
    from ...response import Response

__all__ = ["Health", "database_check", "redis_check"]

Check = Callable[[], Any]


class Health(Extension):
    """``GET /health/live`` and ``GET /health/ready``.

    * Liveness answers ``200 {"status": "ok"}`` as long as the process serves
      requests: it checks nothing else, so that an orchestrator restarts the
      process only when the process itself is stuck.
    * Readiness runs every registered check concurrently, each with a timeout,
      and answers ``200`` when all pass, ``503`` when one fails or times out,
      with a report: ``{"status": "ok" | "fail", "checks": {"database":
      {"status": "ok", "duration_ms": 1.2}, "redis": {"status": "fail",
      "error": "TimeoutError: no answer within 1.0 s"}}}``. Also ``503``
      while the app has not finished starting or is shutting down.

    A check is a function (sync ones run in the thread pool) that returns or
    raises; returning ``False`` also counts as a failure::

        health = Health(app)
        health.add_check("database", database_check(engine))
        health.add_check("redis", redis_check(redis_client))

        @health.check("queue")
        async def queue_ready():
            return await broker.ping()

    Settings (arguments, else config): ``HEALTH_LIVE_PATH``
    (``/health/live``), ``HEALTH_READY_PATH`` (``/health/ready``),
    ``HEALTH_TIMEOUT`` (seconds per check, ``3``). Error texts in the report
    are the exception's class and message; set ``HEALTH_DETAILS=false`` to
    answer only the statuses.
    """

    name = "health"
    config_prefix = "HEALTH_"

    def __init__(self, app: App | None = None, *, live_path: str | None = None,
                 ready_path: str | None = None, timeout: float | None = None,
                 details: bool | None = None) -> None:
        self._options = {"LIVE_PATH": live_path, "READY_PATH": ready_path, "TIMEOUT": timeout,
                         "DETAILS": details}
        self.checks: dict[str, tuple[Check, float | None]] = {}
        self.ready = False
        self.timeout = 3.0
        self.details = True
        super().__init__(app)

    def _setting(self, key: str, default: Any, cast: Any = None) -> Any:
        value = self._options.get(key)
        return value if value is not None else self.config_value(key, default, cast=cast)

    def setup(self, app: App) -> None:
        self.live_path = str(self._setting("LIVE_PATH", "/health/live"))
        self.ready_path = str(self._setting("READY_PATH", "/health/ready"))
        self.timeout = float(self._setting("TIMEOUT", 3.0, cast=float))
        self.details = bool(self._setting("DETAILS", True, cast=bool))
        app.add_route(self.live_path, self.live, methods=["GET"], name="dyne.health_live")
        app.add_route(self.ready_path, self.readiness, methods=["GET"], name="dyne.health_ready")

    def add_check(self, name: str, check: Check, *, timeout: float | None = None) -> None:
        """Run ``check`` for readiness under ``name`` (``timeout`` seconds at most,
        default ``HEALTH_TIMEOUT``)."""
        if not callable(check):
            raise TypeError(f"A health check must be callable, got {check!r}")
        self.checks[name] = (check, timeout)

    def check(self, name: str, *, timeout: float | None = None) -> Callable[[Check], Check]:
        """Decorator form of ``add_check``."""

        def register(func: Check) -> Check:
            self.add_check(name, func, timeout=timeout)
            return func

        return register

    async def on_startup(self) -> None:
        self.ready = True

    async def on_shutdown(self) -> None:
        self.ready = False

    async def _run(self, name: str, check: Check, timeout: float | None) -> dict[str, Any]:
        limit = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        report: dict[str, Any] = {}
        try:
            async with asyncio.timeout(limit):
                if is_async_callable(check):
                    result = await check()
                else:
                    result = await run_sync(check)
                    if isinstance(result, Awaitable):
                        result = await result
            if result is False:
                raise RuntimeError("check returned False")
            report["status"] = "ok"
        except TimeoutError:
            report["status"] = "fail"
            report["error"] = f"TimeoutError: no answer within {limit} s"
        except Exception as exc:
            report["status"] = "fail"
            report["error"] = f"{type(exc).__name__}: {exc}"
        report["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if not self.details:
            report.pop("error", None)
        return report

    async def run_checks(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Run every check concurrently: ``(all passed, report per check)``."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(name, *self.checks[name]) for name in names))
        reports = dict(zip(names, results, strict=True))
        return all(r["status"] == "ok" for r in results), reports

    async def live(self, req: Request, resp: Response) -> None:
        resp.headers["Cache-Control"] = "no-store"
        resp.media = {"status": "ok"}

    async def readiness(self, req: Request, resp: Response) -> None:
        resp.headers["Cache-Control"] = "no-store"
        if not self.ready:
            resp.status_code = 503
            resp.media = {"status": "fail", "checks": {}, "reason": "not started"}
            return
        passed, reports = await self.run_checks()
        resp.status_code = 200 if passed else 503
        resp.media = {"status": "ok" if passed else "fail", "checks": reports}


def database_check(engine_or_db: Any, statement: str = "SELECT 1") -> Callable[[], Awaitable[None]]:
    """A readiness check running ``SELECT 1`` on an async SQLAlchemy engine,
    or on the default engine of dyne's ``Alchemical`` extension."""

    async def database() -> None:
        from sqlalchemy import text

        engine = engine_or_db
        if hasattr(engine, "get_engine"):
            engine = engine.get_engine()
        async with engine.connect() as connection:
            await connection.execute(text(statement))

    return database


def redis_check(client_or_url: Any) -> Callable[[], Awaitable[None]]:
    """A readiness check sending ``PING`` with a ``redis.asyncio`` client, or
    with a client made for a ``redis://`` URL (``dyne.ext.redis.redis_client``:
    short timeouts; made on the first check)."""
    clients: list[Any] = [] if isinstance(client_or_url, str) else [client_or_url]

    async def redis() -> None:
        if not clients:
            from ..redis import redis_client

            clients.append(redis_client(client_or_url))
        if not await clients[0].ping():
            raise RuntimeError("PING was not answered with PONG")

    return redis
