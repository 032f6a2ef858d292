"""Responder on seed 003's benchmark (list users from SQLite, aiosqlite
directly), written as its documentation shows."""

from __future__ import annotations

import responder

from ._users import Pool, fetch_users

driver = responder.API()
_state: dict = {}


@driver.on_event("startup")
async def open_pool():
    _state["pool"] = await Pool.open()


@driver.on_event("shutdown")
async def close_pool():
    await _state.pop("pool").close()


@driver.route("/api/v1/users")
async def users(req, resp):
    resp.media = await fetch_users(_state["pool"])
