"""FastAPI, written as its documentation shows (typed parameters, a body model)."""

from __future__ import annotations

from fastapi import FastAPI

from ._common import HELLO, ROUTE_COUNT, Item

app = FastAPI()


@app.get("/")
async def hello():
    return HELLO


@app.get("/users/{user_id}")
async def user(user_id: int):
    return {"id": user_id}


@app.get("/search")
async def search(q: str, limit: int = 10, offset: int = 0):
    return {"q": q, "limit": limit, "offset": offset}


@app.post("/items")
async def create_item(item: Item) -> Item:
    return item


many = FastAPI()


def _add_many_route(n: int) -> None:
    async def endpoint(item_id: int):
        return {"route": n, "item_id": item_id}

    many.add_api_route(f"/api/r{n}/items/{{item_id}}", endpoint, methods=["GET"],
                       name=f"route_{n}")


for _n in range(ROUTE_COUNT):
    _add_many_route(_n)
