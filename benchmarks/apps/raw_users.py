"""Raw ASGI + aiosqlite: the ceiling of the ``users`` suite (hand-written
dispatch, orjson, a shared set of aiosqlite connections)."""

from __future__ import annotations

import orjson

from ._users import Pool, fetch_users

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_state: dict = {}


async def _send(send, content_type: tuple[bytes, bytes], body: bytes, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [content_type, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _state["pool"] = await Pool.open()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state.pop("pool").close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def driver(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/api/v1/users" and scope["method"] == "GET":
        await _send(send, _JSON, orjson.dumps(await fetch_users(_state["pool"])))
    else:
        await _send(send, _TEXT, b"Not Found", 404)


#: Raw ASGI has no ORM: the ceiling of the "batteries" flavour is the same app.
batteries = driver
