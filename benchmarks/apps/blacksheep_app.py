"""BlackSheep, written as its documentation shows (typed handlers, FromJSON body)."""

from __future__ import annotations

from blacksheep import Application, FromJSON, Response, json
from blacksheep.contents import Content
from blacksheep.server.routing import Router

from ._common import HELLO, ROUTE_COUNT, Item

app = Application(router=Router())
get = app.router.get


@get("/")
async def hello():
    return json(HELLO)


@get("/users/{int:user_id}")
async def user(user_id: int):
    return json({"id": user_id})


@get("/search")
async def search(q: str, limit: int = 10, offset: int = 0):
    return json({"q": q, "limit": limit, "offset": offset})


@app.router.post("/items")
async def create_item(item: FromJSON[Item]):
    body = item.value.model_dump_json().encode()
    return Response(200, None, Content(b"application/json", body))


many = Application(router=Router())


def _add_many_route(n: int) -> None:
    async def endpoint(item_id: int):
        return json({"route": n, "item_id": item_id})

    many.router.add_get(f"/api/r{n}/items/{{int:item_id}}", endpoint)


for _n in range(ROUTE_COUNT):
    _add_many_route(_n)
