"""BlackSheep on the TechEmpower scenarios (asyncpg directly, Jinja2), written
as its documentation shows."""

from __future__ import annotations

from blacksheep import Application, Request, html, json, text

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

driver = Application()
_template = fortunes_template()
_state: dict = {}


async def open_pool(application: Application) -> None:
    _state["pool"] = await driver_pool()


async def close_pool(application: Application) -> None:
    await _state.pop("pool").close()


driver.on_start += open_pool
driver.on_stop += close_pool


def _queries(request: Request) -> int:
    values = request.query.get("queries")
    return query_count(values[0] if values else None)


@driver.router.get("/plaintext")
async def plaintext(request: Request):
    return text(PLAINTEXT.decode())


@driver.router.get("/json")
async def json_(request: Request):
    return json(HELLO)


@driver.router.get("/db")
async def single_query(request: Request):
    return json(await fetch_world(_state["pool"]))


@driver.router.get("/queries")
async def queries(request: Request):
    return json(await fetch_worlds(_state["pool"], _queries(request)))


@driver.router.get("/updates")
async def updates(request: Request):
    return json(await update_worlds(_state["pool"], _queries(request)))


@driver.router.get("/fortunes")
async def fortunes(request: Request):
    return html(_template.render(fortunes=await fetch_fortunes(_state["pool"])))
