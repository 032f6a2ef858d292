"""How an error becomes a response: the app's error-handler policy.

``ErrorHandlers`` holds the handlers registered with ``app.error_handler``
(by status code, or by exception class along the MRO) and turns an exception
raised while answering a request into the response:

* ``HTTPException`` (``abort``): its status and headers, then the status
  handler if one is registered, else the default body (plain text, the
  ``detail`` as JSON for a dict or list, or RFC 9457 problem details when
  the app has ``problem_details=True``);
* a client that went away mid-body: a bare 400;
* another exception: its class handler (status 500 unless the handler sets
  another, or raises ``HTTPException`` to answer with that status), else, in
  debug mode, "not handled" (the caller re-raises, for the debug page), else
  a logged 500 through the 500 status handler or a plain body.

A handler that fails is logged and answered with a plain 500 (re-raised in
debug mode); a status handler raising ``HTTPException`` is such a failure,
so nothing loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .concurrency import is_async_callable, run_sync
from .exceptions import ClientDisconnect, HTTPException, status_phrase
from .formats import json_dumps

if TYPE_CHECKING:
    from logging import Logger

    from .request import Request
    from .response import Response

__all__ = ["ErrorHandler", "ErrorHandlers", "check_error_key", "problem_document"]

#: ``handler(req, resp, exc)``, sync or async.
ErrorHandler = Callable[["Request", "Response", BaseException], Any]



def _logger() -> Logger:
    import logging  # on first error: it is not needed to import dyne

    return logging.getLogger("dyne")


def problem_document(status: int, detail: Any) -> dict[str, Any]:
    """The RFC 9457 problem document dyne sends for an ``HTTPException``
    (with ``problem_details=True``): ``type`` (``about:blank``), ``title``
    (the status phrase) and ``status``, then the detail. A string (or list)
    detail is ``detail`` (left out when it only repeats the title); a dict
    detail's members are extension members of the problem (the 400 of
    ``@input`` gives ``"errors": {"field": ["message"]}``) and may set
    ``type``, ``title``, ``detail`` and ``instance``; ``status`` is always the
    response's."""
    problem: dict[str, Any] = {"type": "about:blank", "title": status_phrase(status),
                               "status": status}
    if isinstance(detail, dict):
        problem.update(detail)
        problem["status"] = status
    elif detail != problem["title"]:
        problem["detail"] = detail
    return problem


def check_error_key(key: Any) -> None:
    """A status code 400-599 or an exception class, else ``ValueError``/``TypeError``."""
    if isinstance(key, int) and not isinstance(key, bool):
        if not 400 <= key <= 599:
            raise ValueError(f"Error handlers are for status codes 400-599, got {key}")
    elif not (isinstance(key, type) and issubclass(key, BaseException)):
        raise TypeError(f"error_handler() takes a status code or an exception class, got {key!r}")


class ErrorHandlers:
    """The error handlers of one app and the policy that applies them.

    ``debug`` and ``problem_details`` are read from ``settings`` (the app)
    when an error happens, so changing them on the app takes effect at once.
    """

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        #: Status code -> handler.
        self.status_handlers: dict[int, ErrorHandler] = {}
        #: Exception class -> handler (a subclass is handled by its closest base's).
        self.exception_handlers: dict[type[BaseException], ErrorHandler] = {}

    def add(self, key: int | type[BaseException], handler: ErrorHandler) -> None:
        check_error_key(key)
        if isinstance(key, int):
            self.status_handlers[key] = handler
        else:
            self.exception_handlers[key] = handler

    def for_exception(self, exc: BaseException) -> ErrorHandler | None:
        """The handler registered for ``exc``'s class or its closest base."""
        handlers = self.exception_handlers
        if handlers:
            for cls in type(exc).__mro__:
                handler = handlers.get(cls)
                if handler is not None:
                    return handler
        return None

    async def handle(self, req: Request, resp: Response, exc: Exception) -> bool:
        """Turn ``exc`` into the response. ``False`` means: not handled, re-raise
        (only for unhandled errors in debug mode)."""
        if isinstance(exc, HTTPException):
            handler = self.status_handlers.get(exc.status_code) or self.for_exception(exc)
            resp.clear()
            for name, value in exc.headers.items():
                resp.headers[name] = value
            resp.status_code = exc.status_code
            if handler is None:
                self.default_body(resp, exc.status_code, exc.detail)
                return True
            return await self._run(handler, req, resp, exc)
        if isinstance(exc, ClientDisconnect):
            resp.clear()
            resp.status_code = 400
            return True
        handler = self.for_exception(exc)
        if handler is not None:
            resp.clear()
            resp.status_code = 500
            return await self._run(handler, req, resp, exc)
        if self._settings.debug:
            return False
        _logger().error("Unhandled error in %s %s", req.scope.get("method"), req.scope.get("path"),
                     exc_info=exc)
        resp.clear()
        resp.status_code = 500
        handler = self.status_handlers.get(500)
        if handler is not None:
            return await self._run(handler, req, resp, exc)
        resp.text = "500 Internal Server Error"
        return True

    async def _run(self, handler: ErrorHandler, req: Request, resp: Response,
                   exc: BaseException) -> bool:
        try:
            if is_async_callable(handler):
                await handler(req, resp, exc)
            else:
                await run_sync(handler, req, resp, exc)
        except HTTPException as translated:
            if isinstance(exc, HTTPException):  # a status handler may not re-enter itself
                return self._failed(handler, resp, translated)
            # An exception-class handler translated the error into an HTTP
            # status: answer it like any HTTPException (status handlers,
            # problem details), e.g. a database IntegrityError -> 409.
            return await self.handle(req, resp, translated)
        except Exception as handler_error:
            return self._failed(handler, resp, handler_error)
        return True

    def _failed(self, handler: ErrorHandler, resp: Response, handler_error: Exception) -> bool:
        if self._settings.debug:
            raise handler_error
        _logger().error("Error handler %r failed", handler, exc_info=handler_error)
        resp.clear()
        resp.status_code = 500
        resp.text = "500 Internal Server Error"
        return True

    def default_body(self, resp: Response, status: int, detail: Any) -> None:
        """The body of an error response no handler answered."""
        if status in (204, 304):
            return
        if self._settings.problem_details:
            encoders = getattr(self._settings, "encoders", None)
            dumps = encoders.json if encoders is not None else json_dumps
            resp.content = dumps(problem_document(status, detail))
            resp.mimetype = "application/problem+json"
        elif isinstance(detail, (dict, list)):
            resp.media = detail
        else:
            resp.text = str(detail)
