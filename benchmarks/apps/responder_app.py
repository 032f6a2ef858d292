"""Responder, written as its documentation shows (``(req, resp)`` views)."""

from __future__ import annotations

import responder
from pydantic import ValidationError

from ._common import HELLO, ROUTE_COUNT, Item

app = responder.API()


@app.route("/")
async def hello(req, resp):
    resp.media = HELLO


@app.route("/users/{user_id:int}")
async def user(req, resp, *, user_id):
    resp.media = {"id": user_id}


@app.route("/search")
async def search(req, resp):
    params = req.params
    try:
        resp.media = {"q": params["q"], "limit": int(params.get("limit", 10)),
                      "offset": int(params.get("offset", 0))}
    except (KeyError, ValueError):
        resp.status_code = 400
        resp.media = {"detail": "Bad query"}


@app.route("/items", methods=["POST"])
async def create_item(req, resp):
    try:
        item = Item.model_validate_json(await req.content)
    except ValidationError as exc:
        resp.status_code = 422
        resp.media = exc.errors(include_url=False, include_context=False)
        return
    resp.media = item.model_dump()


many = responder.API()


def _add_many_route(n: int) -> None:
    async def endpoint(req, resp, *, item_id):
        resp.media = {"route": n, "item_id": item_id}

    many.add_route(f"/api/r{n}/items/{{item_id:int}}", endpoint)


for _n in range(ROUTE_COUNT):
    _add_many_route(_n)
