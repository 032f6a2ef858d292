"""Raw ASGI + asyncpg: the ceiling of the TechEmpower scenarios (hand-written
dispatch, orjson, prepared statements, a Jinja2 template for fortunes)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from ._tfb import (
    HELLO,
    PLAINTEXT,
    driver_pool,
    fetch_fortunes,
    fetch_world,
    fetch_worlds,
    fortunes_template,
    query_count,
    update_worlds,
)

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_HTML = (b"content-type", b"text/html; charset=utf-8")
_template = fortunes_template()
_state: dict = {}


async def _send(send, content_type: tuple[bytes, bytes], body: bytes, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [content_type, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _queries(scope) -> int:
    return query_count(dict(parse_qsl(scope["query_string"].decode("latin-1"))).get("queries"))


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _state["pool"] = await driver_pool()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state.pop("pool").close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def driver(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    pool = _state.get("pool")
    if path == "/plaintext":
        await _send(send, _TEXT, PLAINTEXT)
    elif path == "/json":
        await _send(send, _JSON, orjson.dumps(HELLO))
    elif path == "/db":
        await _send(send, _JSON, orjson.dumps(await fetch_world(pool)))
    elif path == "/queries":
        await _send(send, _JSON, orjson.dumps(await fetch_worlds(pool, _queries(scope))))
    elif path == "/updates":
        await _send(send, _JSON, orjson.dumps(await update_worlds(pool, _queries(scope))))
    elif path == "/fortunes":
        html = _template.render(fortunes=await fetch_fortunes(pool))
        await _send(send, _HTML, html.encode())
    else:
        await _send(send, _TEXT, b"Not Found", 404)


#: Raw ASGI has no ORM: the ceiling of the "batteries" flavour is the same app.
batteries = driver
