"""Starlette on the TechEmpower scenarios (asyncpg directly, Jinja2 templates),
written as its documentation shows."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route

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

_template = fortunes_template()


async def plaintext(request):
    return PlainTextResponse(PLAINTEXT)


async def json_(request):
    return JSONResponse(HELLO)


async def single_query(request):
    return JSONResponse(await fetch_world(request.state.pool))


async def queries(request):
    count = query_count(request.query_params.get("queries"))
    return JSONResponse(await fetch_worlds(request.state.pool, count))


async def updates(request):
    count = query_count(request.query_params.get("queries"))
    return JSONResponse(await update_worlds(request.state.pool, count))


async def fortunes(request):
    return HTMLResponse(_template.render(fortunes=await fetch_fortunes(request.state.pool)))


@contextlib.asynccontextmanager
async def lifespan(app):
    pool = await driver_pool()
    yield {"pool": pool}
    await pool.close()


driver = Starlette(lifespan=lifespan, routes=[
    Route("/plaintext", plaintext),
    Route("/json", json_),
    Route("/db", single_query),
    Route("/queries", queries),
    Route("/updates", updates),
    Route("/fortunes", fortunes),
])
