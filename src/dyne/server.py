"""Serving limits for ``dyne run`` and ``app.run()`` (uvicorn).

uvicorn's own defaults leave a server open to a few cheap attacks: it reads a
request head of any size (a 100 MB header is buffered), never times out a
client that sends its headers slowly, and waits forever for a hung request
at shutdown. ``ServerLimits`` holds dyne's defaults; ``uvicorn_options``
turns them into uvicorn settings plus dyne's HTTP protocol, a subclass of
uvicorn's httptools protocol that enforces the two limits uvicorn lacks:

* ``max_header_size``: a request line and headers larger than this get a 431
  and the connection is closed;
* ``header_timeout``: a client that has not sent a complete request head
  this many seconds after connecting (or after starting a new request on a
  kept-alive connection) gets a 408 and is disconnected.

The protocol reads its limits from the ``DYNE_SERVER_*`` environment
variables (set by ``uvicorn_options``), so worker processes started by
``--workers`` get them too.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DEFAULT_LIMITS", "ServerLimits", "granian_command", "uvicorn_options"]

_ENV_HEAD = "DYNE_SERVER_MAX_HEADER_SIZE"
_ENV_TIMEOUT = "DYNE_SERVER_HEADER_TIMEOUT"


@dataclass(frozen=True)
class ServerLimits:
    """Limits for the server process (see ``docs/security.md``).

    :param workers: worker processes (``dyne run`` only: uvicorn needs the
        app's import path to start more than one).
    :param graceful_timeout: seconds shutdown waits for running requests
        before cancelling them (``None``: forever).
    :param keep_alive_timeout: seconds an idle kept-alive connection stays open.
    :param header_timeout: seconds a client has to send a complete request head.
    :param max_header_size: largest request head (request line and headers),
        in bytes; 431 beyond.
    :param limit_concurrency: most connections and requests at once; 503 beyond
        (``None``: no limit).
    :param backlog: pending connections the kernel queues.
    """

    workers: int = 1
    graceful_timeout: float | None = 30
    keep_alive_timeout: float = 5
    header_timeout: float = 10
    max_header_size: int = 64 * 1024
    limit_concurrency: int | None = 1000
    backlog: int = 2048

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is None and name in ("graceful_timeout", "limit_concurrency"):
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")


DEFAULT_LIMITS = ServerLimits()


def server_limits(**options: Any) -> tuple[ServerLimits, dict[str, Any]]:
    """Split keyword options into ``ServerLimits`` fields (``None`` values
    meaning "the default") and the rest (for uvicorn)."""
    fields = set(ServerLimits.__dataclass_fields__)
    chosen = {key: options.pop(key) for key in list(options)
              if key in fields and options[key] is not None}
    return ServerLimits(**chosen), options


def uvicorn_options(limits: ServerLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """``uvicorn.run`` keyword arguments enforcing ``limits``."""
    os.environ[_ENV_HEAD] = str(int(limits.max_header_size))
    os.environ[_ENV_TIMEOUT] = str(float(limits.header_timeout))
    options: dict[str, Any] = {
        "timeout_keep_alive": limits.keep_alive_timeout,
        "timeout_graceful_shutdown": limits.graceful_timeout,
        "limit_concurrency": limits.limit_concurrency,
        "backlog": limits.backlog,
    }
    try:
        import httptools  # noqa: F401
    except ImportError:  # h11 only: it limits the head itself (answering 400)
        options["http"] = "h11"
        options["h11_max_incomplete_event_size"] = int(limits.max_header_size)
    else:
        options["http"] = "dyne.server:LimitedHttpToolsProtocol"
    if limits.workers > 1:
        options["workers"] = int(limits.workers)
    return options


# -- granian ------------------------------------------------------------------------------

_ENV_TARGET = "DYNE_GRANIAN_TARGET"
_ENV_FACTORY = "DYNE_GRANIAN_FACTORY"
_ENV_PROXY = "DYNE_GRANIAN_FORWARDED_ALLOW_IPS"


def granian_command(app_path: str, *, host: str, port: int, limits: ServerLimits = DEFAULT_LIMITS,
                    factory: bool = False, reload: bool = False, log_level: str = "info",
                    proxy_headers: bool = True, forwarded_allow_ips: str = "127.0.0.1"
                    ) -> tuple[list[str], dict[str, str]]:
    """``(argv, environment)`` that serve ``app_path`` under granian with
    dyne's limits, as far as granian has them: the head's read timeout and
    size (``--http1-header-read-timeout``, ``--http1-buffer-size``), the
    backlog, the shutdown grace (``--workers-kill-timeout``) and concurrency
    (``--backpressure``: requests beyond it wait instead of getting a 503).
    granian does not read ``X-Forwarded-*`` itself: the app is served through
    ``granian_app``, which applies uvicorn's proxy-headers middleware for the
    trusted addresses."""
    import sys

    argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "dyne.server:granian_app", "--host", host, "--port", str(port),
            "--workers", str(int(limits.workers)), "--backlog", str(int(limits.backlog)),
            "--http1-header-read-timeout", str(max(1, int(limits.header_timeout * 1000))),
            "--http1-buffer-size", str(max(8192, int(limits.max_header_size))),
            "--log-level", log_level]
    if limits.limit_concurrency is not None:
        per_worker = max(1, int(limits.limit_concurrency) // int(limits.workers))
        argv += ["--backpressure", str(per_worker)]
    if limits.graceful_timeout is not None:
        argv += ["--workers-kill-timeout", str(max(1, round(limits.graceful_timeout)))]
    if reload:
        argv += ["--reload"]
    env = {_ENV_TARGET: app_path, _ENV_FACTORY: "1" if factory else "",
           _ENV_PROXY: forwarded_allow_ips if proxy_headers else ""}
    return argv, env


def granian_app() -> Any:
    """The app ``granian_command`` serves (granian calls this in each worker):
    the ``DYNE_GRANIAN_TARGET`` app, behind uvicorn's proxy-headers middleware
    for the ``DYNE_GRANIAN_FORWARDED_ALLOW_IPS`` addresses."""
    import importlib

    target = os.environ[_ENV_TARGET]
    module_name, _, attribute = target.partition(":")
    app: Any = importlib.import_module(module_name)
    for part in (attribute or "app").split("."):
        app = getattr(app, part)
    if os.environ.get(_ENV_FACTORY):
        app = app()
    trusted = os.environ.get(_ENV_PROXY)
    if trusted:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app = ProxyHeadersMiddleware(app, trusted_hosts=trusted)
    return app


def _status_response(status: int, phrase: str, text: str) -> bytes:
    body = text.encode("ascii")
    return (f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode("ascii") + body


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools missing: the h11 fallback above
    _Base = None  # type: ignore[assignment, misc]

if _Base is not None:

    class LimitedHttpToolsProtocol(_Base):  # type: ignore[misc, valid-type]
        """uvicorn's httptools protocol with a request-head size limit (431)
        and a header-read timeout (408)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.max_header_size = int(os.environ.get(_ENV_HEAD, DEFAULT_LIMITS.max_header_size))
            self.header_timeout = float(os.environ.get(_ENV_TIMEOUT,
                                                       DEFAULT_LIMITS.header_timeout))
            self._in_head = True
            self._head_bytes = 0
            self._tail = b""
            self._head_timer: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                # Count the head's bytes before the parser buffers them: up
                # to the blank line that ends it, if it is in this piece.
                seen = self._tail + data
                end = seen.find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
                if self._head_bytes > self.max_header_size:
                    self._refuse(431, "Request Header Fields Too Large",
                                 f"Request line and headers larger than {self.max_header_size} bytes")
                    return
                self._tail = seen[-3:]
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm_head_timer()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._disarm_head_timer()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            # What follows is the next request's head.
            self._in_head = True
            self._head_bytes = 0
            self._tail = b""

        def _arm_head_timer(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

        def _disarm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self._in_head or self.transport.is_closing():
                return
            if self._head_bytes:
                self._refuse(408, "Request Timeout", "Request headers not received in time")
            else:
                self.transport.close()

        def _refuse(self, status: int, phrase: str, text: str) -> None:
            self._in_head = False
            self._disarm_head_timer()
            if not self.transport.is_closing():
                self.logger.warning("%s: %s", status, text)
                self.transport.write(_status_response(status, phrase, text))
                self.transport.close()
