"""Drive a benchmark app in process, without a server: for profiling, and for
the correctness test (``tests/test_benchmarks.py``).

    .venv/bin/python -m benchmarks.inprocess dyne hello            # us per request
    .venv/bin/python -m benchmarks.inprocess dyne hello --cprofile # where it goes
    .venv/bin/python -m benchmarks.inprocess dyne hello logged metered traced observed
                                       # the cost of each observability extension
    .venv/bin/python -m benchmarks.inprocess fastapi --check       # right answers?
    .venv/bin/python -m benchmarks.inprocess dyne --suite users     # seed 003's list of users

The time is the framework's own cost per request (no sockets, no HTTP
parsing), measured as process CPU time, so it is far steadier than a load test
on a busy machine. It is a tool for finding and checking optimizations; the
numbers that count come from the load run (``python3 -m benchmarks``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
from typing import Any

from .scenarios import BY_NAME, SUITES, Scenario, check_negative, check_response


def seed_users(scenarios: Any) -> None:
    """(Re)seed the users suite's SQLite file (``USERS_DATABASE_PATH``, else a
    file in the temporary directory) when ``scenarios`` use it."""
    if any(scenario.module == "users" for scenario in scenarios):
        from .users_db import seed

        seed()


def load_app(framework: str, target: str, module: str = "app") -> Any:
    """The ASGI app ``target`` of ``benchmarks/apps/<framework>_<module>.py``."""
    return getattr(importlib.import_module(f"benchmarks.apps.{framework}_{module}"), target)


def make_scope(method: str, path_qs: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    path, _, query = path_qs.partition("?")
    raw_headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
        "method": method, "root_path": "", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "headers": raw_headers, "state": {},
    }


async def call(app: Any, method: str, path_qs: str, headers: dict[str, str] | None = None,
               body: bytes = b"", state: dict[str, Any] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request through an ASGI app: ``(status, lower-case headers, body)``.
    ``state`` is the lifespan's state, copied into the request's scope as servers do."""
    scope = make_scope(method, path_qs, headers or {}, body)
    scope["state"] = dict(state or {})
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = 0
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for key, value in message.get("headers", []):
                response_headers[key.decode("latin-1").lower()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, response_headers, b"".join(chunks)


class Lifespan:
    """Runs an app's ASGI lifespan startup and shutdown (some frameworks need it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None
        #: What the app put in the lifespan scope's state (servers copy it into
        #: every request's scope).
        self.state: dict[str, Any] = {}

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        self.task = asyncio.ensure_future(self.app(scope, self.queue.get, self.replies.put))
        await self.queue.put({"type": "lifespan.startup"})
        reply = await asyncio.wait_for(self.replies.get(), 30)
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup failed: {reply}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.queue.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self.replies.get(), 30)
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)


async def check(framework: str, suite: str = "default") -> list[str]:
    """What ``framework``'s benchmark apps get wrong: every scenario of ``suite``
    and its negative cases are checked (an empty list when all is right). The
    ``tfb`` suite needs its database seeded (``python3 -m benchmarks.tfb_db``); the
    ``users`` suite's SQLite file is seeded here."""
    problems = []
    scenarios = SUITES[suite]
    seed_users(scenarios)
    targets = sorted({(s.module, s.target) for s in scenarios if s.applies_to(framework)})
    if suite == "default" and not {("app", "app"), ("app", "many")} <= set(targets):
        problems.append(f"{framework}: the app and many targets must be benchmarked, got {targets}")
    for module, target in targets:
        app = load_app(framework, target, module)
        async with Lifespan(app) as lifespan:
            for scenario in (s for s in scenarios
                             if (s.module, s.target) == (module, target) and s.applies_to(framework)):
                status, headers, body = await call(app, scenario.method, scenario.path,
                                                   scenario.headers, scenario.body, lifespan.state)
                problem = check_response(scenario, status, headers, body)
                if problem is not None:
                    problems.append(f"{framework} {scenario.name}: {problem}")
                for method, path, bad_body, bad_headers, allowed in scenario.negative:
                    status, _, _ = await call(app, method, path, bad_headers, bad_body,
                                              lifespan.state)
                    problem = check_negative(allowed, status)
                    if problem is not None:
                        problems.append(f"{framework} {method} {path}: {problem}")
    return problems


async def measure(app: Any, scenario: Scenario, count: int,
                  state: dict[str, Any] | None = None) -> float:
    """CPU microseconds per request over ``count`` requests (after a warm-up)."""
    scope = make_scope(scenario.method, scenario.path, scenario.headers, scenario.body)
    body = scenario.body
    request_message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return request_message

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(min(count, 500)):
        await app(dict(scope, state=dict(state or {})), receive, send)
    start = time.process_time()
    for _ in range(count):
        await app(dict(scope, state=dict(state or {})), receive, send)
    return (time.process_time() - start) * 1e6 / count


async def _main(args: argparse.Namespace) -> None:
    scenarios = ([BY_NAME[name] for name in args.scenarios] if args.scenarios
                 else [s for s in SUITES[args.suite] if s.applies_to(args.framework)])
    seed_users(scenarios)
    for scenario in scenarios:
        app = load_app(args.framework, scenario.target, scenario.module)
        async with Lifespan(app) as lifespan:
            if args.cprofile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                await measure(app, scenario, args.count, lifespan.state)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            else:
                best = min([await measure(app, scenario, args.count, lifespan.state)
                            for _ in range(args.repeat)])
                print(f"{args.framework:>10} {scenario.name:>6}: {best:7.1f} us/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("framework")
    parser.add_argument("scenarios", nargs="*")
    parser.add_argument("-n", "--count", type=int, default=20000)
    parser.add_argument("-r", "--repeat", type=int, default=7, help="best of this many runs")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--suite", choices=sorted(SUITES), default="default")
    parser.add_argument("--check", action="store_true",
                        help="check the answers instead of timing them (exit 1 on a wrong one)")
    args = parser.parse_args()
    if args.check:
        problems = asyncio.run(check(args.framework, args.suite))
        print("\n".join(problems) or f"{args.framework}: every scenario answered right")
        raise SystemExit(1 if problems else 0)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
