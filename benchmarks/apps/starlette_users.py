"""Starlette on seed 003's benchmark (list users from SQLite, aiosqlite
directly), written as its documentation shows."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._users import Pool, fetch_users


async def users(request):
    return JSONResponse(await fetch_users(request.state.pool))


@contextlib.asynccontextmanager
async def lifespan(app):
    pool = await Pool.open()
    yield {"pool": pool}
    await pool.close()


driver = Starlette(lifespan=lifespan, routes=[Route("/api/v1/users", users)])
