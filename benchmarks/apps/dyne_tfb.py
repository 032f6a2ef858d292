"""dyne on the TechEmpower scenarios, written as its documentation shows.

``driver``: ``(req, resp)`` views on an asyncpg pool opened at start-up.
``batteries``: the Alchemical extension (SQLAlchemy 2 async, one session per
request through ``await req.db``), the path dyne's database docs teach: the
views that only read are ``@db.read_only`` (on PostgreSQL they then read
without a transaction, see docs/database.md).
"""

from __future__ import annotations

import random

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.db.alchemical import Alchemical, Model

from ._tfb import (
    FORTUNES_TEMPLATE,
    HELLO,
    PLAINTEXT,
    POOL_SIZE,
    SQLALCHEMY_URL,
    driver_pool,
    fetch_fortunes,
    fetch_world,
    fetch_worlds,
    query_count,
    random_id,
    sorted_fortunes,
    update_worlds,
)

# -- driver: asyncpg directly ---------------------------------------------------------------

driver = dyne.App()
#: Compiled once, from dyne's Jinja2 environment (HTML-escaped).
_template = driver.templates.env.from_string(FORTUNES_TEMPLATE)


@driver.on_event("startup")
async def open_pool():
    driver.state.pool = await driver_pool()


@driver.on_event("shutdown")
async def close_pool():
    await driver.state.pool.close()


@driver.get("/plaintext")
async def plaintext(req, resp):
    resp.content = PLAINTEXT
    resp.mimetype = "text/plain"


@driver.get("/json")
async def json_(req, resp):
    resp.media = HELLO


@driver.get("/db")
async def single_query(req, resp):
    resp.media = await fetch_world(driver.state.pool)


@driver.get("/queries")
async def queries(req, resp):
    resp.media = await fetch_worlds(driver.state.pool, query_count(req.params.get("queries")))


@driver.get("/updates")
async def updates(req, resp):
    resp.media = await update_worlds(driver.state.pool, query_count(req.params.get("queries")))


@driver.get("/fortunes")
async def fortunes(req, resp):
    resp.html = _template.render(fortunes=await fetch_fortunes(driver.state.pool))


# -- batteries: the Alchemical extension -------------------------------------------------------

class World(Model):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


batteries = dyne.App()
db = Alchemical(batteries, url=SQLALCHEMY_URL,
                engine_options={"pool_size": POOL_SIZE, "max_overflow": 0})
_orm_template = batteries.templates.env.from_string(FORTUNES_TEMPLATE)


@batteries.get("/db")
@db.read_only
async def orm_single_query(req, resp):
    session = await req.db
    world = await session.get(World, random_id())
    resp.media = {"id": world.id, "randomNumber": world.randomnumber}


@batteries.get("/queries")
@db.read_only
async def orm_queries(req, resp):
    session = await req.db
    worlds = [await session.get(World, random_id())
              for _ in range(query_count(req.params.get("queries")))]
    resp.media = [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@batteries.get("/updates")
async def orm_updates(req, resp):
    session = await req.db
    count = query_count(req.params.get("queries"))
    ids = sorted(random.sample(range(1, 10001), count))
    worlds = [await session.get(World, i) for i in ids]
    for world in worlds:
        world.randomnumber = random_id()
    await session.commit()
    resp.media = [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@batteries.get("/fortunes")
@db.read_only
async def orm_fortunes(req, resp):
    session = await req.db
    rows = (await session.scalars(Fortune.select())).all()
    resp.html = _orm_template.render(fortunes=sorted_fortunes([(f.id, f.message) for f in rows]))
