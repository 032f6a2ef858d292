"""Shared fixtures: a fresh app, real uvicorn servers on loopback, and the
rule for tests that need real services (PostgreSQL, Redis...)."""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

import dyne

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("DYNE_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("DYNE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def app() -> dyne.App:
    return dyne.App()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextlib.contextmanager
def serve_in_thread(asgi_app: Any, **options: Any) -> Iterator[str]:
    """Run ``asgi_app`` under a real uvicorn server in this process; yield its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextlib.contextmanager
def serve_in_subprocess(args: list[str], port: int, env: dict[str, str] | None = None,
                        cwd: Path = ROOT) -> Iterator[subprocess.Popen]:
    """Start a server command in a subprocess; wait for its port; stop it after."""
    full_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(args, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process=process)
        # Keep reading the server's output (its last lines stay in process.output_tail):
        # a chatty server must never block on a full pipe.
        process.output_tail = collections.deque(maxlen=200)  # type: ignore[attr-defined]
        threading.Thread(target=process.output_tail.extend, args=(process.stdout,),  # type: ignore[attr-defined]
                         daemon=True).start()
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server() -> Any:
    """``with server(app) as url:`` runs an app under uvicorn on loopback."""
    return serve_in_thread


def python_executable() -> str:
    return sys.executable


def http_scope(method: str, path: str, *, raw_path: bytes | None = None,
               headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    """An HTTP scope as a server builds it: ``path`` decoded, ``raw_path`` as sent."""
    return {"type": "http", "method": method, "path": path,
            "raw_path": path.encode() if raw_path is None else raw_path,
            "query_string": b"", "headers": [(b"host", b"t")] if headers is None else headers,
            "scheme": "http", "server": ("t", 80), "client": ("c", 1), "root_path": ""}


def run_asgi(asgi_app: Any, scope: dict[str, Any], body: list[bytes] | tuple[bytes, ...] = (b"",),
             timeout: float = 10.0) -> tuple[list[dict[str, Any]], int]:
    """Run one HTTP request through ``asgi_app`` the way a server does, bounded.

    ``receive()`` hands out the chunks of ``body`` (``more_body`` on all but the
    last), then waits until the response is complete and reports
    ``http.disconnect``, so an app listening for a disconnect can neither
    busy-loop nor wait forever; the whole exchange must end within ``timeout``
    seconds. Returns the messages sent and the number of chunks read.
    """
    import asyncio

    chunks = list(body)
    sent: list[dict[str, Any]] = []
    read = 0

    async def main() -> None:
        complete = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal read
            if read < len(chunks):
                read += 1
                return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                complete.set()

        await asyncio.wait_for(asgi_app(scope, receive, send), timeout)

    asyncio.run(main())
    return sent, read


def service_unavailable(name: str, reason: str) -> NoReturn:
    """Skip (or, under ``DYNE_REQUIRE_SERVICES=1``, fail) a test whose service is absent."""
    message = f"{name} is not available: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (DYNE_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(message)


#: Tests left out because their server cannot exist on this project's machines
#: (no package for it): reason -> how many. Printed at the end of the run.
_NOT_RUNNABLE_HERE: dict[str, int] = {}


def leave_out(config: pytest.Config, items: list[pytest.Item], drop: Callable[[pytest.Item], bool],
              reason: str) -> None:
    """Deselect the collected ``items`` for which ``drop(item)`` is true, recording
    ``reason``. For servers no machine of this project can run (MongoDB, the
    pgvector extension): such tests are neither skipped (which
    ``DYNE_REQUIRE_SERVICES=1`` forbids) nor failed, and the run says why."""
    dropped = [item for item in items if drop(item)]
    if not dropped:
        return
    config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if not drop(item)]
    _NOT_RUNNABLE_HERE[reason] = _NOT_RUNNABLE_HERE.get(reason, 0) + len(dropped)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason, count in _NOT_RUNNABLE_HERE.items():
        terminalreporter.write_line(f"NOT RUN: {count} test(s): {reason}", yellow=True)


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``DYNE_REQUIRE_SERVICES=1`` (CI) nothing may be skipped: a skip,
    whatever raised it, is reported as a failure with its reason."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (f"skipped, which DYNE_REQUIRE_SERVICES=1 does not allow: "
                           f"{_skip_reason(report)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped at collection (``importorskip``...)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_SERVICES and report.skipped:
        report.outcome = "failed"
        report.longrepr = (f"skipped, which DYNE_REQUIRE_SERVICES=1 does not allow: "
                           f"{_skip_reason(report)}")


def require_tool(name: str, hint: str) -> str:
    """The path of the command ``name``; skips (fails under ``DYNE_REQUIRE_SERVICES=1``)
    when it is not installed. ``hint`` says how to install it."""
    path = shutil.which(name)
    if path is None:
        service_unavailable(name, f"not on PATH ({hint})")
    return path


def require_module(name: str, hint: str = 'pip install -e ".[full,dev]"') -> Any:
    """``importlib.import_module(name)``; skips (fails under ``DYNE_REQUIRE_SERVICES=1``)
    when it cannot be imported. Use instead of ``pytest.importorskip``."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        service_unavailable(name, f"cannot import it: {exc} ({hint})")


def seed_documents_dirs() -> list[Path]:
    """Where the seed documents may be: ``$DYNE_SEEDS_DIR``, then ``shared/seeds``
    beside the checkout or any folder above it (CI clones into a folder with
    ``shared/`` beside it; a worktree sits one level deeper), then ``/work/shared/seeds``."""
    candidates = [Path(os.environ["DYNE_SEEDS_DIR"])] if os.environ.get("DYNE_SEEDS_DIR") else []
    candidates += [base / "shared" / "seeds" for base in ROOT.parents]
    candidates.append(Path("/work/shared/seeds"))
    return candidates


def seed_document(filename: str) -> Path:
    """The seed document ``filename`` (such as ``001_1cdd2c39c5bda939.txt``); skips
    (fails under ``DYNE_REQUIRE_SERVICES=1``) when it is nowhere to be found."""
    for folder in seed_documents_dirs():
        if (folder / filename).is_file():
            return folder / filename
    searched = ", ".join(str(folder) for folder in seed_documents_dirs())
    service_unavailable("The seed documents", f"{filename} is in none of: {searched} "
                        "(set DYNE_SEEDS_DIR)")


# -- ORM models defined by a test ------------------------------------------------------

def model_snapshot(model_base: Any) -> tuple[set[Any], dict[Any, set[str]]]:
    """The class managers and the tables (per metadata) that exist now."""
    return (set(model_base.registry._managers),
            {key: set(metadata.tables) for key, metadata in model_base.__metadatas__.items()})


def forget_models(model_base: Any, snapshot: tuple[set[Any], dict[Any, set[str]]]) -> None:
    """Unmap the model classes of ``model_base`` defined since ``snapshot`` and
    drop the tables added since then, so that the next test (or docs page)
    may define a model with the same name and table."""
    managers, tables = snapshot
    for key, metadata in model_base.__metadatas__.items():
        for name in set(metadata.tables) - tables.get(key, set()):
            metadata.remove(metadata.tables[name])
    registry = model_base.registry
    for manager in [manager for manager in list(registry._managers) if manager not in managers]:
        registry._managers.pop(manager, None)
        registry._dispose_manager_and_mapper(manager)


@pytest.fixture(autouse=True)
def _forget_models_defined_during_the_test() -> Iterator[None]:
    """Models of ``dyne.ext.db.alchemical`` share one process-wide registry
    (models are module-level classes); a test's models leave with it."""

    def model_base() -> Any:
        module = sys.modules.get("dyne.ext.db.alchemical.model")
        return getattr(module, "Model", None)

    base = model_base()
    snapshot = model_snapshot(base) if base is not None else (set(), {})
    yield
    base = model_base()
    if base is not None:
        forget_models(base, snapshot)


@contextlib.contextmanager
def launch_browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright (the system browser; nothing
    downloaded). Playwright's sync API keeps an event loop running on this
    thread while the browser is open, so ``asyncio.run`` fails meanwhile: keep
    it open only as long as needed."""
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        service_unavailable("Chromium", f"no browser at {CHROMIUM} (set DYNE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright", 'install the dev extra: pip install -e ".[dev]"')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """``launch_browser()`` for a whole module (its other tests must not call
    ``asyncio.run``: use ``launch_browser()`` in the test itself there)."""
    with launch_browser() as browser:
        yield browser


# -- Redis, and servers that fail ---------------------------------------------------------

REDIS_URL = os.environ.get("DYNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL (skipped, or failed under
    DYNE_REQUIRE_SERVICES=1, when it does not answer)."""
    try:
        import redis
    except ImportError:
        service_unavailable("Redis", 'redis-py is not installed (pip install -e ".[redis]")')
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", f"{REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis server; its keys
    are deleted afterwards (never the whole database: other tests share it)."""
    import uuid

    import redis

    prefix = f"dyne-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a stuck server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()
