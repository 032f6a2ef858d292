"""Litestar, written as its documentation shows (typed handlers, a pydantic body)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post

from ._common import HELLO, ROUTE_COUNT, Item


@get("/")
async def hello() -> dict[str, str]:
    return HELLO


@get("/users/{user_id:int}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@get("/search")
async def search(q: str, limit: int = 10, offset: int = 0) -> dict[str, Any]:
    return {"q": q, "limit": limit, "offset": offset}


@post("/items", status_code=200)
async def create_item(data: Item) -> Item:
    return data


app = Litestar(route_handlers=[hello, user, search, create_item])


def _many_route(n: int) -> Any:
    async def endpoint(item_id: int) -> dict[str, int]:
        return {"route": n, "item_id": item_id}

    return get(f"/api/r{n}/items/{{item_id:int}}", name=f"route_{n}",
               operation_id=f"route_{n}")(endpoint)


many = Litestar(route_handlers=[_many_route(n) for n in range(ROUTE_COUNT)])
