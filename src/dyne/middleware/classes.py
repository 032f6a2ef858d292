"""Middleware classes, PyJolt's idiom: a class with ``async def middleware(self,
req)`` that returns a response, usually the one ``await self.next(req)``
gives::

    import time
    from dyne.middleware import MiddlewareBase

    class TimingMW(MiddlewareBase):
        async def middleware(self, req):
            t0 = time.perf_counter()
            resp = await self.next(req)      # the rest of the chain, then the view
            resp.headers["x-process-time-ms"] = str(int((time.perf_counter() - t0) * 1000))
            return resp

    app.add_middleware_class(TimingMW)       # or MIDDLEWARE = ["app.middleware:TimingMW"]

Unlike ASGI middleware (``app.add_middleware``), these see dyne's ``Request``
and ``Response``, and run inside the app's error handling: an exception raised
by the view (or by a middleware) travels up through the middleware's ``await
self.next(req)`` and, if no middleware catches it, reaches the app's error
handlers (``app.error_handler``). The first class registered is the outermost.
They run for the app's HTTP requests (routes, 404s, redirects), not for
websockets or mounted applications. The chain is built once, when the app
starts serving; an app without middleware classes pays nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..response import Response

if TYPE_CHECKING:
    from ..app import App
    from ..request import Request

__all__ = ["MiddlewareBase", "MiddlewareChain", "Next", "check_middleware_class"]

#: ``await next(req)``: the rest of the chain; returns the response.
Next = Callable[["Request"], Awaitable[Response]]
#: Where the chain keeps the request's default response (``resp``) in the scope.
RESPONSE_KEY = "dyne.response"


class MiddlewareBase:
    """Base class of middleware classes: override ``middleware``.

    ``self.app`` is the application; ``await self.next(req)`` runs the rest of
    the chain (the next middleware class, or the app's routing and view) and
    returns the response. One instance per app, made when the app starts
    serving: keep per-request data on ``req.state``, not on ``self``.
    """

    def __init__(self, app: App, next: Next) -> None:
        self.app = app
        self.next: Next = next

    async def middleware(self, req: Request) -> Any:
        """Answer ``req``: return ``await self.next(req)`` (possibly changed),
        or a response of your own to stop the request here (short-circuit).

        A ``Response`` is returned as is; a value a view may return (a dict or
        list, a string, bytes, a model, ``(body, status[, headers])``) becomes
        the body of the request's response."""
        return await self.next(req)


def check_middleware_class(cls: Any) -> type[MiddlewareBase]:
    """``cls`` if it is a usable middleware class, else a ``TypeError`` saying why."""
    if not (isinstance(cls, type) and issubclass(cls, MiddlewareBase)):
        raise TypeError(f"Middleware classes subclass dyne.middleware.MiddlewareBase, got {cls!r} "
                        "(for ASGI middleware use app.add_middleware)")
    if cls.middleware is MiddlewareBase.middleware:
        raise TypeError(f"{cls.__qualname__} must define async def middleware(self, req)")
    if not inspect.iscoroutinefunction(cls.middleware):
        raise TypeError(f"{cls.__qualname__}.middleware must be async: "
                        "async def middleware(self, req)")
    return cls


def _as_response(req: Request, result: Any, source: MiddlewareBase) -> Response:
    if isinstance(result, Response):
        if result.req is None:  # Response() made without the request: negotiate for this one
            result.req = req
        return result
    if result is None:
        raise TypeError(f"{type(source).__qualname__}.middleware returned None: return "
                        "await self.next(req), or a response to stop the request there")
    resp: Response = req.scope[RESPONSE_KEY]
    try:
        resp.apply_return(result)
    except TypeError:
        raise TypeError(f"{type(source).__qualname__}.middleware returned "
                        f"{type(result).__name__}; return a Response, or what a view may "
                        "return (dict, list, str, bytes, a model, (body, status))") from None
    return resp


class MiddlewareChain:
    """The middleware classes of one app, composed once: ``await chain(req,
    resp)`` runs them (first registered outermost) around ``app._respond``
    and returns the response to send."""

    def __init__(self, app: App, classes: Iterable[type[MiddlewareBase]]) -> None:
        self.app = app
        entry: Next = self._endpoint
        self.instances: list[MiddlewareBase] = []
        for cls in reversed(list(classes)):
            instance = cls(app, entry)
            self.instances.insert(0, instance)
            entry = self._link(instance)
        self._entry = entry

    @staticmethod
    def _link(instance: MiddlewareBase) -> Next:
        middleware = instance.middleware

        async def call(req: Request) -> Response:
            return _as_response(req, await middleware(req), instance)

        return call

    async def _endpoint(self, req: Request) -> Response:
        resp: Response = req.scope[RESPONSE_KEY]
        await self.app._respond(req, resp, req.scope)
        return resp

    async def __call__(self, req: Request, resp: Response) -> Response:
        req.scope[RESPONSE_KEY] = resp
        return await self._entry(req)
