"""Request context: a request id per request, bound to every log line written
while the request runs, and one access-log line per request."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...extensions import Extension
from ...logging import request_id_var, require
from .middleware import instruments_for

if TYPE_CHECKING:
    from ...app import App
    from ...request import Request
    from ...types import Scope

__all__ = ["RequestContext", "current_request_id"]

#: A client's request id is kept when it is 1-128 of these characters (UUIDs,
#: hex, base64url, dotted or colon-separated ids); otherwise a new one is made,
#: so that a client cannot write arbitrary text (newlines...) into the logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

_request_id = request_id_var


def current_request_id() -> str | None:
    """The id of the request being handled (also inside background tasks it
    started), or ``None`` outside a request."""
    return _request_id.get()


class RequestContext(Extension):
    """Request ids and the access log.

    ``RequestContext(app)``:

    * takes the request id from the ``X-Request-ID`` header when it is valid,
      else generates one (32 hex digits); echoes it in the response header;
      makes it ``req.request_id`` and ``current_request_id()``;
    * binds it as ``extra["request_id"]`` to every loguru record written while
      the request runs, including from background tasks the request started
      (context variables are copied into them) and from standard-library
      loggers routed to loguru;
    * writes one access-log line per request on the ``dyne.access`` logger
      name: ``GET /users/{id:int} 200 1.52ms``, with ``method``, ``route``,
      ``path``, ``status``, ``duration_ms`` and ``client`` as extra values (so
      JSON-lines sinks get them as fields).

    Settings (arguments, else config): ``REQUEST_ID_HEADER`` (``X-Request-ID``),
    ``REQUEST_ID_TRUST_HEADER`` (``True``: keep a valid incoming id),
    ``ACCESS_LOG`` (``True``), ``ACCESS_LOG_LEVEL`` (``INFO``).
    """

    name = "request_context"

    def __init__(self, app: App | None = None, *, header: str | None = None,
                 trust_header: bool | None = None, access_log: bool | None = None,
                 access_log_level: str | None = None) -> None:
        self._options = {"REQUEST_ID_HEADER": header, "REQUEST_ID_TRUST_HEADER": trust_header,
                         "ACCESS_LOG": access_log, "ACCESS_LOG_LEVEL": access_log_level}
        self.header = "X-Request-ID"
        self.header_bytes = b"x-request-id"
        self.trust_header = True
        self.access_log = True
        self.access_log_level = "INFO"
        self._access_logger: Any = None
        super().__init__(app)

    def _setting(self, key: str, default: Any, cast: Any = None) -> Any:
        value = self._options.get(key)
        return value if value is not None else self.config_value(key, default, cast=cast)

    def setup(self, app: App) -> None:
        self.header = str(self._setting("REQUEST_ID_HEADER", "X-Request-ID"))
        self.header_bytes = self.header.lower().encode("latin-1")
        self.trust_header = bool(self._setting("REQUEST_ID_TRUST_HEADER", True, cast=bool))
        self.access_log = bool(self._setting("ACCESS_LOG", True, cast=bool))
        self.access_log_level = str(self._setting("ACCESS_LOG_LEVEL", "INFO")).upper()
        require("loguru", "logging")
        from loguru import logger

        self._access_logger = logger.bind(logger_name="dyne.access")
        app.add_request_property("request_id", _request_id_of)
        app.logging  # noqa: B018 - the app's sinks start with it, so access lines have a home
        instruments_for(app).context = self

    def request_id_for(self, scope: Scope) -> str:
        """The incoming id when valid (and trusted), else a new one."""
        if self.trust_header:
            wanted = self.header_bytes
            for name, value in scope["headers"]:
                if name == wanted:
                    text = value.decode("latin-1")
                    if VALID_REQUEST_ID.fullmatch(text):
                        scope["dyne.request_id"] = text
                        return text
                    break
        new = os.urandom(16).hex()
        scope["dyne.request_id"] = new
        return new

    @contextmanager
    def bind(self, request_id: str) -> Iterator[None]:
        """Make ``request_id`` the current one (and so loguru's ``extra["request_id"]``)."""
        token = _request_id.set(request_id)
        try:
            yield
        finally:
            _request_id.reset(token)

    def access(self, scope: Scope, template: str, status: int, duration: float) -> None:
        """Write the access-log line of a finished request."""
        if not self.access_log:
            return
        client = scope.get("client")
        # Keyword arguments fill the message and become extra values (fields
        # of JSON lines), without the cost of a bind() per request.
        self._access_logger.log(
            self.access_log_level, "{method} {route} {status} {duration_ms:.2f}ms",
            method=scope["method"], route=template, path=scope["path"], status=status,
            duration_ms=round(duration * 1000, 3),
            client=f"{client[0]}:{client[1]}" if client else None)


def _request_id_of(req: Request) -> str | None:
    return req.scope.get("dyne.request_id")  # type: ignore[no-any-return]
