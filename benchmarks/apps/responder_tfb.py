"""Responder on the TechEmpower scenarios (asyncpg directly, Jinja2), written
as its documentation shows."""

from __future__ import annotations

import responder

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

driver = responder.API()
_template = fortunes_template()
_state: dict = {}


@driver.on_event("startup")
async def open_pool():
    _state["pool"] = await driver_pool()


@driver.on_event("shutdown")
async def close_pool():
    await _state.pop("pool").close()


@driver.route("/plaintext")
async def plaintext(req, resp):
    resp.content = PLAINTEXT
    resp.mimetype = "text/plain"


@driver.route("/json")
async def json_(req, resp):
    resp.media = HELLO


@driver.route("/db")
async def single_query(req, resp):
    resp.media = await fetch_world(_state["pool"])


@driver.route("/queries")
async def queries(req, resp):
    resp.media = await fetch_worlds(_state["pool"], query_count(req.params.get("queries")))


@driver.route("/updates")
async def updates(req, resp):
    resp.media = await update_worlds(_state["pool"], query_count(req.params.get("queries")))


@driver.route("/fortunes")
async def fortunes(req, resp):
    resp.html = _template.render(fortunes=await fetch_fortunes(_state["pool"]))
