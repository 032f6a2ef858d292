"""BlackSheep on seed 003's benchmark (list users from SQLite, aiosqlite
directly), written as its documentation shows."""

from __future__ import annotations

from blacksheep import Application, Request, json

from ._users import Pool, fetch_users

driver = Application()
_state: dict = {}


async def open_pool(application: Application) -> None:
    _state["pool"] = await Pool.open()


async def close_pool(application: Application) -> None:
    await _state.pop("pool").close()


driver.on_start += open_pool
driver.on_stop += close_pool


@driver.router.get("/api/v1/users")
async def users(request: Request):
    return json(await fetch_users(_state["pool"]))
