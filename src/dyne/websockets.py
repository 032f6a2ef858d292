"""WebSockets: ``@app.route("/ws", websocket=True)``.

A websocket view receives one argument, the connection (Starlette's
``WebSocket``): ``await ws.accept()``, ``ws.send_text/send_json/send_bytes``,
``ws.receive_text/receive_json/receive_bytes``, ``ws.close(code)``, plus
``ws.path_params``, ``ws.query_params``, ``ws.headers``, ``ws.cookies``.

When the client goes away, the next ``receive_*`` raises
``WebSocketDisconnect`` (with ``.code``); a view may catch it to clean up, and
dyne ends the connection quietly when it does not. Any other unhandled error
closes the connection with code 1011 (internal error) and is logged.

The names here are Starlette's classes, imported on first use so that
``import dyne`` stays light: catching ``dyne.websockets.WebSocketDisconnect``
and ``starlette.websockets.WebSocketDisconnect`` is the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]

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
    if name in __all__:
        import starlette.websockets

        return getattr(starlette.websockets, name)
    raise AttributeError(f"module 'dyne.websockets' has no attribute {name!r}")
