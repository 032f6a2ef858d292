"""WebSockets: ``@app.route("/ws", websocket=True)``.

A websocket view receives one argument, the connection (Starlette's
``WebSocket``): ``await ws.accept()``, ``ws.send_text/send_json/send_bytes``,
``ws.receive_text/receive_json/receive_bytes``, ``ws.close(code)``, plus
``ws.path_params``, ``ws.query_params``, ``ws.headers``, ``ws.cookies``.

When the client goes away, the next ``receive_*`` raises
``WebSocketDisconnect`` (with ``.code``); a view may catch it to clean up, and
dyne ends the connection quietly when it does not. Any other unhandled error
closes the connection with code 1011 (internal error) and is logged.

Limits (``docs/websockets.md``): ``idle_timeout=`` (seconds) closes a
connection with code 1001 when the view has waited that long for a message
and none went either way; ``max_message_size=`` (bytes) closes it with code
1009 when a bigger message arrives. Give them per route
(``@app.route("/ws", websocket=True, idle_timeout=60)``) or app-wide as the
``WEBSOCKET_IDLE_TIMEOUT`` and ``WEBSOCKET_MAX_MESSAGE_SIZE`` config values;
``None`` on a route turns an app-wide limit off there.

The names here are Starlette's classes, imported on first use so that
``import dyne`` stays light: catching ``dyne.websockets.WebSocketDisconnect``
and ``starlette.websockets.WebSocketDisconnect`` is the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["LIMIT_OPTIONS", "WebSocket", "WebSocketDisconnect", "WebSocketGuard", "WebSocketState"]

#: Route options (and config keys) for the limits.
LIMIT_OPTIONS = {"idle_timeout": "WEBSOCKET_IDLE_TIMEOUT",
                 "max_message_size": "WEBSOCKET_MAX_MESSAGE_SIZE"}
#: Close codes: the server is going away (idle), the message is too big.
CLOSE_IDLE = 1001
CLOSE_TOO_BIG = 1009


def check_limit(name: str, value: Any) -> float | int | None:
    """``value`` as a limit (a positive number, or ``None`` for none); a
    ``ValueError`` naming the option otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value) if name == "idle_timeout" else int(value)
        except ValueError:
            raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return int(value) if name == "max_message_size" else float(value)


def route_limits(options: dict[str, Any]) -> dict[str, Any]:
    """Take the limit options out of a websocket route's keyword options, checked."""
    return {name: check_limit(name, options.pop(name)) for name in list(options)
            if name in LIMIT_OPTIONS}


class WebSocketGuard:
    """Wraps a connection's ASGI ``receive`` and ``send`` to enforce the limits.

    The idle clock starts when the connection is accepted and restarts with
    every message, sent or received; it is checked while the view waits in
    ``receive``. A message over ``max_message_size`` (text counted in UTF-8
    bytes) is not handed to the view. Either way the guard sends the close
    frame and the view's ``receive_*`` raises ``WebSocketDisconnect`` with
    the close code; a later ``send_*`` raises it too.
    """

    __slots__ = ("_pending", "_receive", "_send", "accepted", "closed", "idle_timeout", "last",
                 "max_message_size")

    def __init__(self, receive: Callable[[], Any], send: Callable[[Any], Any],
                 idle_timeout: float | None = None, max_message_size: int | None = None) -> None:
        self._receive = receive
        self._send = send
        self.idle_timeout = idle_timeout
        self.max_message_size = max_message_size
        self.accepted = False
        #: The close code the guard sent, once it closed the connection.
        self.closed: int | None = None
        self.last = 0.0
        self._pending: asyncio.Future[Any] | None = None

    def configure(self, limits: Mapping[str, Any]) -> None:
        """Apply a route's limits (over the app-wide ones)."""
        for name, value in limits.items():
            setattr(self, name, value)

    @staticmethod
    def _now() -> float:
        import time

        return time.monotonic()

    async def send(self, message: Any) -> None:
        if self.closed is not None:
            if message.get("type") == "websocket.close":
                return  # already closed by the guard
            from starlette.websockets import WebSocketDisconnect

            raise WebSocketDisconnect(code=self.closed)
        if message.get("type") == "websocket.accept":
            self.accepted = True
        self.last = self._now()
        await self._send(message)

    async def receive(self) -> Any:
        if self.closed is not None:
            return {"type": "websocket.disconnect", "code": self.closed}
        idle = self.idle_timeout
        if idle is None or not self.accepted:
            if self._pending is not None:
                message = await self._pending
                self._pending = None
            else:
                message = await self._receive()
        else:
            import asyncio

            if self._pending is None:
                self._pending = asyncio.ensure_future(self._receive())
            while True:
                remaining = self.last + idle - self._now()
                if remaining <= 0:
                    return await self._close(CLOSE_IDLE, "idle timeout")
                done, _ = await asyncio.wait({self._pending}, timeout=remaining)
                if done:
                    message = self._pending.result()
                    self._pending = None
                    break
        self.last = self._now()
        limit = self.max_message_size
        if limit is not None and message.get("type") == "websocket.receive" and _size_over(message, limit):
            return await self._close(CLOSE_TOO_BIG, "message too big")
        return message

    async def _close(self, code: int, reason: str) -> dict[str, Any]:
        self.closed = code
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:  # the client is gone already
            pass
        return {"type": "websocket.disconnect", "code": code}

    async def finish(self) -> None:
        """Stop waiting for the client (at the end of the connection)."""
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            import asyncio

            pending.cancel()
            await asyncio.wait({pending})


def _size_over(message: Mapping[str, Any], limit: int) -> bool:
    data = message.get("bytes")
    if data is not None:
        return len(data) > limit
    text = message.get("text") or ""
    if len(text) > limit:
        return True  # at least one byte per character
    if len(text) * 4 <= limit:
        return False  # at most four bytes per character
    return len(text.encode("utf-8")) > limit

_websocket_class: Any = None


def websocket_class() -> Any:
    """The class of the connections dyne hands to websocket views: Starlette's
    ``WebSocket`` whose ``send_json`` writes JSON as the rest of the app does
    (orjson, the app's ``json_encoders``; the app sets ``ws.json_dumps``)."""
    global _websocket_class
    if _websocket_class is None:
        from starlette.websockets import WebSocket

        from .formats import json_dumps as dumps

        class DyneWebSocket(WebSocket):
            json_dumps = staticmethod(dumps)

            async def send_json(self, data: Any, mode: str = "text") -> None:
                if mode not in {"text", "binary"}:
                    raise RuntimeError('The "mode" argument should be "text" or "binary".')
                payload = self.json_dumps(data)
                if mode == "text":
                    await self.send({"type": "websocket.send", "text": payload.decode("utf-8")})
                else:
                    await self.send({"type": "websocket.send", "bytes": payload})

        _websocket_class = DyneWebSocket
    return _websocket_class


def __getattr__(name: str) -> Any:
    if name in ("WebSocket", "WebSocketDisconnect", "WebSocketState"):
        import starlette.websockets

        return getattr(starlette.websockets, name)
    raise AttributeError(f"module 'dyne.websockets' has no attribute {name!r}")
