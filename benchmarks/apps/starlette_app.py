"""Starlette, written as its documentation shows."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._common import HELLO, ROUTE_COUNT, Item


async def hello(request):
    return JSONResponse(HELLO)


async def user(request):
    return JSONResponse({"id": request.path_params["user_id"]})


async def search(request):
    params = request.query_params
    try:
        result = {"q": params["q"], "limit": int(params.get("limit", 10)),
                  "offset": int(params.get("offset", 0))}
    except (KeyError, ValueError):
        return JSONResponse({"detail": "Bad query"}, status_code=400)
    return JSONResponse(result)


async def create_item(request):
    try:
        item = Item.model_validate_json(await request.body())
    except ValidationError as exc:
        return Response(exc.json(), status_code=422, media_type="application/json")
    return Response(item.model_dump_json(), media_type="application/json")


app = Starlette(routes=[
    Route("/", hello),
    Route("/users/{user_id:int}", user),
    Route("/search", search),
    Route("/items", create_item, methods=["POST"]),
])


def _many_route(n: int) -> Route:
    async def endpoint(request):
        return JSONResponse({"route": n, "item_id": request.path_params["item_id"]})

    return Route(f"/api/r{n}/items/{{item_id:int}}", endpoint)


many = Starlette(routes=[_many_route(n) for n in range(ROUTE_COUNT)])
