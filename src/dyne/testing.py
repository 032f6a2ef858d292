"""Test clients.

``app.client`` is a ``TestClient``: an ``httpx.Client`` (Starlette's test
client) that calls the app in-process. It runs the app's start-up events on
its first request, so tests need no setup, and shutdown events when closed (or
when the interpreter exits). All such clients share one background event loop,
so objects created at start-up (pools, tasks) stay usable across requests.

``AsyncTestClient`` is the same for ``async`` tests; ``async with
TestClient(app)`` gives one too (PyJolt's test client is used that way)::

    async with TestClient(app) as client:     # or AsyncTestClient(app)
        r = await client.get("/")

``live_server(app)`` runs the app under uvicorn on a free loopback port, for
tests that need a real server (browsers, websocket and SSE clients)::

    with live_server(app) as server:
        httpx.get(server.url + "/")

The pytest plugin (``dyne.pytest_plugin``, loaded automatically) offers it as
the ``live_server`` fixture, serving the app of your ``dyne_app`` fixture.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
from anyio.streams.stapled import StapledObjectStream

try:  # httpx2 is the maintained successor of httpx, and what Starlette's client prefers
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]
from starlette.testclient import TestClient as StarletteTestClient

if TYPE_CHECKING:
    from .app import App

__all__ = ["AsyncTestClient", "LiveServer", "TestClient", "live_server"]

DEFAULT_BASE_URL = "http://;"

_portal_lock = threading.Lock()
_portal: anyio.from_thread.BlockingPortal | None = None
_running_clients: set[TestClient] = set()


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _as_same_origin_page(request: httpx.Request) -> httpx.Request:
    """Give a state-changing request the ``Origin`` a page of the same site
    would send (unless the test set one), so CSRF checks see what a browser
    shows them. Pass ``headers={"Origin": ...}`` to test cross-site requests."""
    if request.method not in _SAFE_METHODS and "origin" not in request.headers:
        url = request.url
        request.headers["Origin"] = f"{url.scheme}://{url.netloc.decode('ascii')}"
    return request


def _shared_portal() -> anyio.from_thread.BlockingPortal:
    """One event loop, in a daemon thread, for every ``TestClient``."""
    global _portal
    with _portal_lock:
        if _portal is None:
            ready = threading.Event()
            holder: dict[str, Any] = {}

            async def serve() -> None:
                async with anyio.from_thread.BlockingPortal() as portal:
                    holder["portal"] = portal
                    ready.set()
                    await portal.sleep_until_stopped()

            thread = threading.Thread(target=anyio.run, args=(serve,), name="dyne-testclient",
                                      daemon=True)
            thread.start()
            ready.wait()
            _portal = holder["portal"]
        return _portal


@atexit.register
def _stop_running_clients() -> None:
    for client in list(_running_clients):
        try:
            client.stop()
        except Exception:
            pass


def _adapt_auth(auth: Any) -> Any:
    """Auth objects of the ``httpx`` package (``httpx.BasicAuth``,
    ``httpx.DigestAuth``, custom ``httpx.Auth``), usable with this client,
    which is built on httpx2: their auth flow runs unchanged on httpx2's
    requests and responses (the two share that API)."""
    module = type(auth).__module__
    if not (module == "httpx" or module.startswith("httpx.")):
        return auth
    return _ForeignAuth(auth)


class _ForeignAuth(httpx.Auth):
    def __init__(self, auth: Any) -> None:
        self.auth = auth
        self.requires_request_body = getattr(auth, "requires_request_body", False)
        self.requires_response_body = getattr(auth, "requires_response_body", False)

    def auth_flow(self, request: httpx.Request) -> Any:
        return (yield from self.auth.auth_flow(request))


class TestClient(StarletteTestClient):
    """A synchronous test client (httpx API: ``get``, ``post``, ``websocket_connect``...).

    Start-up events run before the first request; ``close()`` (or leaving a
    ``with`` block) runs shutdown events. Server errors are raised in the test
    when the app lets them escape (debug mode); otherwise you see the 500.

    ``async with TestClient(app) as client`` is the asynchronous form: it gives
    an ``AsyncTestClient`` (awaitable ``client.get(...)``) on the test's own
    event loop, running the app's start-up events on entry and shutdown
    events on exit.
    """

    __test__ = False

    def __init__(self, app: App | Any, base_url: str = DEFAULT_BASE_URL,
                 raise_server_exceptions: bool = True, **kwargs: Any) -> None:
        auth = kwargs.pop("auth", None)
        super().__init__(app, base_url=base_url,
                         raise_server_exceptions=raise_server_exceptions, **kwargs)
        if auth is not None:  # for every request (Starlette's client takes no auth=)
            self.auth = _adapt_auth(auth)
        self.portal = _shared_portal()
        self._lifespan_lock = threading.Lock()
        self._started = False
        self._async_client: AsyncTestClient | None = None
        self._dyne_app = app

    @property
    def started(self) -> bool:
        """Whether start-up events have run (and shutdown events not yet)."""
        return self._started

    def start(self) -> None:
        """Run the app's start-up events (done automatically on first use)."""
        with self._lifespan_lock:
            if self._started:
                return
            portal = self.portal
            assert portal is not None
            send = anyio.create_memory_object_stream[Any](math.inf)
            receive = anyio.create_memory_object_stream[Any](math.inf)
            self._channels = (*send, *receive)
            self.stream_send = StapledObjectStream(*send)
            self.stream_receive = StapledObjectStream(*receive)
            self.task = portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)
            self._started = True
            _running_clients.add(self)

    def stop(self) -> None:
        """Run the app's shutdown events (the next request starts it again)."""
        with self._lifespan_lock:
            if not self._started:
                return
            self._started = False
            _running_clients.discard(self)
            assert self.portal is not None
            try:
                self.portal.call(self.wait_shutdown)
            finally:
                for channel in self._channels:
                    channel.close()

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        return _as_same_origin_page(super().build_request(*args, **kwargs))

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        if not self._started:
            self.start()
        if kwargs.get("auth") is not None:
            kwargs["auth"] = _adapt_auth(kwargs["auth"])
        return super().request(*args, **kwargs)

    def websocket_connect(self, *args: Any, **kwargs: Any) -> Any:
        if not self._started:
            self.start()
        return super().websocket_connect(*args, **kwargs)

    def __enter__(self) -> TestClient:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def close(self) -> None:
        self.stop()
        super().close()

    async def __aenter__(self) -> AsyncTestClient:
        if self._started or self._async_client is not None:
            raise RuntimeError("This TestClient is already in use (its app has started); "
                               "use a new TestClient(app) for async with")
        self._async_client = AsyncTestClient(self._dyne_app, base_url=str(self.base_url),
                                             headers=dict(self.headers))
        return await self._async_client.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        client, self._async_client = self._async_client, None
        if client is not None:
            await client.__aexit__(*exc_info)


class AsyncTestClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` wired to the app in-process.

    ``async with AsyncTestClient(app) as client`` runs start-up events on entry
    and shutdown events on exit (pass ``lifespan=False`` to skip them).
    """

    __test__ = False

    def __init__(self, app: App, base_url: str = DEFAULT_BASE_URL, lifespan: bool = True,
                 **kwargs: Any) -> None:
        kwargs.setdefault("follow_redirects", True)
        if kwargs.get("auth") is not None:
            kwargs["auth"] = _adapt_auth(kwargs["auth"])
        transport = httpx.ASGITransport(app=app, client=("testclient", 50000))
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.app = app
        self._run_lifespan = lifespan
        self._lifespan_context: Any = None

    async def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        if kwargs.get("auth") is not None:
            kwargs["auth"] = _adapt_auth(kwargs["auth"])
        return await super().request(*args, **kwargs)

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        return _as_same_origin_page(super().build_request(*args, **kwargs))

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        if self._run_lifespan:
            self._lifespan_context = self.app.lifespan_context()
            await self._lifespan_context.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if self._lifespan_context is not None:
                context, self._lifespan_context = self._lifespan_context, None
                await context.__aexit__(*exc_info)
        finally:
            await super().__aexit__(*exc_info)


class LiveServer:
    """A running server: ``url`` (``http://127.0.0.1:PORT``), ``host``, ``port``;
    ``str(server)`` is the URL; ``server.url_for("/path")`` an absolute URL."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        #: The websocket URL prefix (``ws://127.0.0.1:PORT``).
        self.ws_url = f"ws://{host}:{port}"

    def url_for(self, path: str) -> str:
        return self.url + (path if path.startswith("/") else "/" + path)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<LiveServer {self.url}>"


@contextlib.contextmanager
def live_server(app: Any, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0,
                **options: Any) -> Iterator[LiveServer]:
    """Serve ``app`` (any ASGI app) with uvicorn in a background thread, on
    ``host`` (loopback by default) and a free port, for the ``with`` block;
    start-up and shutdown events run as under a real deployment. ``options``
    go to ``uvicorn.Config`` (``ws_max_size=``, ``timeout_keep_alive=``...)."""
    import time

    import uvicorn

    options.setdefault("log_level", "warning")
    options.setdefault("lifespan", "on")
    config = uvicorn.Config(app, host=host, port=port, **options)
    server = uvicorn.Server(config)
    def run() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn exits when start-up fails; reported below
            pass

    thread = threading.Thread(target=run, name="dyne-live-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("The live server stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The live server did not start within {timeout} s")
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()
        yield LiveServer(host, bound[1])
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
