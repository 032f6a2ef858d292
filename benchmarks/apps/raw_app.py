"""Raw ASGI: the ceiling. Hand-written dispatch, orjson, the same pydantic model."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from pydantic import ValidationError

from ._common import HELLO, ROUTE_COUNT, Item

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def _send_json(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    method = scope["method"]
    if path == "/" and method == "GET":
        await _send_json(send, 200, orjson.dumps(HELLO))
    elif path.startswith("/users/") and method == "GET":
        value = path[7:]
        if value.isdigit():
            await _send_json(send, 200, orjson.dumps({"id": int(value)}))
        else:
            await _send_json(send, 404, b'{"detail":"Not Found"}')
    elif path == "/search" and method == "GET":
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        try:
            result = {"q": query["q"], "limit": int(query.get("limit", 10)),
                      "offset": int(query.get("offset", 0))}
        except (KeyError, ValueError):
            await _send_json(send, 400, b'{"detail":"Bad query"}')
            return
        await _send_json(send, 200, orjson.dumps(result))
    elif path == "/items" and method == "POST":
        try:
            item = Item.model_validate_json(await _read_body(receive))
        except ValidationError as exc:
            await _send_json(send, 422, exc.json().encode())
            return
        await _send_json(send, 200, item.model_dump_json().encode())
    else:
        await _send_json(send, 404, b'{"detail":"Not Found"}')


_ROUTES = {f"r{n}": n for n in range(ROUTE_COUNT)}


async def many(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    parts = scope["path"].split("/")  # "", "api", "r<n>", "items", "<id>"
    if (len(parts) == 5 and parts[1] == "api" and parts[3] == "items" and parts[4].isdigit()
            and parts[2] in _ROUTES and scope["method"] == "GET"):
        body = orjson.dumps({"route": _ROUTES[parts[2]], "item_id": int(parts[4])})
        await _send_json(send, 200, body)
    else:
        await _send_json(send, 404, b'{"detail":"Not Found"}')
