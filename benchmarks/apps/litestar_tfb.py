"""Litestar on the TechEmpower scenarios, written as its documentation shows.

``driver``: asyncpg directly (a pool opened on start-up, kept in the app's
state). ``batteries``: Litestar's SQLAlchemy plugin, which injects a
``db_session`` per request.
"""

from __future__ import annotations

import random
from typing import Any

from litestar import Litestar, MediaType, get
from litestar.datastructures import State
from litestar.plugins.sqlalchemy import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ._tfb import (
    HELLO,
    PLAINTEXT,
    POOL_SIZE,
    SQLALCHEMY_URL,
    driver_pool,
    fetch_fortunes,
    fetch_world,
    fetch_worlds,
    fortunes_template,
    query_count,
    random_id,
    sorted_fortunes,
    update_worlds,
)
from ._tfb_orm import Fortune, World

_template = fortunes_template()

# -- driver ----------------------------------------------------------------------------


async def open_pool(app: Litestar) -> None:
    app.state.pool = await driver_pool()


async def close_pool(app: Litestar) -> None:
    await app.state.pool.close()


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> bytes:
    return PLAINTEXT


@get("/json")
async def json_() -> dict[str, str]:
    return HELLO


@get("/db")
async def single_query(state: State) -> dict[str, int]:
    return await fetch_world(state.pool)


@get("/queries")
async def queries(state: State, queries: str | None = None) -> list[dict[str, int]]:
    return await fetch_worlds(state.pool, query_count(queries))


@get("/updates")
async def updates(state: State, queries: str | None = None) -> list[dict[str, int]]:
    return await update_worlds(state.pool, query_count(queries))


@get("/fortunes", media_type=MediaType.HTML)
async def fortunes(state: State) -> str:
    return _template.render(fortunes=await fetch_fortunes(state.pool))


driver = Litestar(route_handlers=[plaintext, json_, single_query, queries, updates, fortunes],
                  on_startup=[open_pool], on_shutdown=[close_pool])

# -- batteries: the SQLAlchemy plugin ------------------------------------------------------


@get("/db")
async def orm_single_query(db_session: AsyncSession) -> dict[str, int]:
    world = await db_session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@get("/queries")
async def orm_queries(db_session: AsyncSession, queries: str | None = None) -> list[dict[str, Any]]:
    worlds = [await db_session.get(World, random_id()) for _ in range(query_count(queries))]
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@get("/updates")
async def orm_updates(db_session: AsyncSession, queries: str | None = None) -> list[dict[str, Any]]:
    ids = sorted(random.sample(range(1, 10001), query_count(queries)))
    worlds = [await db_session.get(World, i) for i in ids]
    for world in worlds:
        world.randomnumber = random_id()
    await db_session.commit()
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@get("/fortunes", media_type=MediaType.HTML)
async def orm_fortunes(db_session: AsyncSession) -> str:
    rows = (await db_session.scalars(select(Fortune))).all()
    return _template.render(fortunes=sorted_fortunes([(f.id, f.message) for f in rows]))


_alchemy = SQLAlchemyAsyncConfig(
    connection_string=SQLALCHEMY_URL, create_all=False,
    # Objects stay readable after a commit (async code cannot reload them lazily).
    session_config=AsyncSessionConfig(expire_on_commit=False),
    engine_config=EngineConfig(pool_size=POOL_SIZE, max_overflow=0))
batteries = Litestar(route_handlers=[orm_single_query, orm_queries, orm_updates, orm_fortunes],
                     plugins=[SQLAlchemyPlugin(config=_alchemy)])
