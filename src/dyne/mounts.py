"""Other applications mounted under a path prefix: ``app.mount("/legacy", flask_app)``.

A mounted application gets every request (and websocket) whose path is the
prefix or starts with ``prefix + "/"``. As the ASGI specification and
Starlette do it, the child scope keeps the full ``path`` and gets the prefix
appended to ``root_path``; ASGI frameworks (Starlette, FastAPI, dyne itself)
and the WSGI bridge compute their own path from the two, so ``/legacy/users``
reaches the mounted app's ``/users``.

WSGI applications (Flask, Django...) are detected by their call signature
and run through ``a2wsgi``'s ``WSGIMiddleware`` in a thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .concurrency import is_async_callable
from .routing import route_path

if TYPE_CHECKING:
    from .types import Receive, Scope, Send

__all__ = ["Mount", "is_wsgi_app", "route_path"]


def is_wsgi_app(app: Any) -> bool:
    """A WSGI app is a synchronous callable taking ``(environ, start_response)``;
    an ASGI app is an ``async`` callable taking ``(scope, receive, send)``."""
    if is_async_callable(app):
        return False
    import inspect

    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return False
    kinds = inspect.Parameter
    positional = [p for p in signature.parameters.values()
                  if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 2


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError(f"Mount paths must start with '/', got {prefix!r}")
    stripped = prefix.rstrip("/")
    if not stripped:
        raise ValueError("Cannot mount an application at '/': it would hide every route. "
                         "Mount it under a prefix such as '/legacy'.")
    if "{" in stripped or "}" in stripped:
        raise ValueError(f"Mount paths are plain prefixes without parameters, got {prefix!r}")
    return stripped


class Mount:
    """One mounted application. ``app`` is what was given; ``asgi`` is what gets
    called (the WSGI bridge for a WSGI app)."""

    __slots__ = ("app", "asgi", "name", "prefix", "wsgi")

    def __init__(self, prefix: str, app: Any, *, name: str | None = None,
                 wsgi: bool | None = None) -> None:
        if not callable(app):
            raise TypeError(f"mount() needs an ASGI or WSGI application, got {app!r}")
        self.prefix = _check_prefix(prefix)
        self.app = app
        self.name = name or type(app).__name__
        self.wsgi = is_wsgi_app(app) if wsgi is None else wsgi
        if self.wsgi:
            try:
                from a2wsgi import WSGIMiddleware
            except ModuleNotFoundError:  # pragma: no cover - a2wsgi is a dependency
                raise ImportError('Mounting a WSGI app needs a2wsgi: pip install "a2wsgi"') from None
            self.asgi: Any = WSGIMiddleware(app)
        else:
            self.asgi = app

    def matches(self, path: str) -> bool:
        prefix = self.prefix
        return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send,
                       max_body_size: int | None = None) -> None:
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + self.prefix
        if max_body_size is not None and scope["type"] == "http":
            await _call_with_body_limit(self.asgi, max_body_size, child, receive, send)
        else:
            await self.asgi(child, receive, send)

    def __repr__(self) -> str:
        kind = "WSGI" if self.wsgi else "ASGI"
        return f"<Mount {self.prefix!r} -> {kind} {self.name}>"


async def _send_413(send: Send, limit: int) -> None:
    body = f"Request body larger than the {limit}-byte limit".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _call_with_body_limit(app: Any, limit: int, scope: Scope, receive: Receive,
                                send: Send) -> None:
    """Call a mounted app, refusing bodies over ``limit`` with 413: at once when
    ``Content-Length`` says so, else when the running total passes it (the app
    then sees the client disconnect, and its response is replaced by the 413
    when it has not started one)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                await _send_413(send, limit)
                return
            break
    total = 0
    exceeded = False
    started = False

    async def limited_receive() -> Any:
        nonlocal total, exceeded
        if exceeded:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                exceeded = True
                return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: dict[str, Any]) -> None:
        nonlocal started
        if exceeded and not started:
            return
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, limited_receive, guarded_send)
    except Exception:
        if not exceeded:
            raise
    if exceeded and not started:
        await _send_413(send, limit)
