"""dyne's controller scenarios ("controller-hello", "-path", "-post"): a
``dyne.controllers`` controller in PyJolt's form, answering like the function
views of ``dyne_app``; the report compares each with dyne's own hello, path and
post (the cost of the class form).

Its own module, imported only for the ``controlled`` target, so the plain
apps are measured in a process that never imported ``dyne.controllers``; and
without ``from __future__ import annotations``, as a user's module would be.
"""

import dyne
from dyne.controllers import (
    Controller,
    HttpStatus,
    MediaType,
    Response,
    consumes,
    get,
    path,
    post,
    produces,
)

from ._common import HELLO, Item

controlled = dyne.App()


@path("/")
class BenchApi(Controller):
    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    async def hello(self, req) -> Response:
        return req.response.json(HELLO)

    @get("/users/<int:user_id>")
    @produces(MediaType.APPLICATION_JSON)
    async def user(self, req, user_id: int) -> Response:
        return req.response.json({"id": user_id})

    @post("/items")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    async def create_item(self, req, item: Item) -> Response[Item]:
        return req.response.json(item).status(HttpStatus.OK)


controlled.add_controller(BenchApi)
