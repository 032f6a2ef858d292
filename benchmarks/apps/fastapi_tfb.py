"""FastAPI on the TechEmpower scenarios, written as its documentation shows.

``driver``: asyncpg directly (a pool opened in the lifespan). ``batteries``:
SQLAlchemy's async session from a ``yield`` dependency, as FastAPI's SQL
database tutorial does it with an async engine.
"""

from __future__ import annotations

import contextlib
import random
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

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


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await driver_pool()
    yield
    await app.state.pool.close()


driver = FastAPI(lifespan=lifespan)


@driver.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return PLAINTEXT


@driver.get("/json")
async def json_():
    return HELLO


@driver.get("/db")
async def single_query(request: Request):
    return await fetch_world(request.app.state.pool)


@driver.get("/queries")
async def queries(request: Request, queries: str | None = None):
    return await fetch_worlds(request.app.state.pool, query_count(queries))


@driver.get("/updates")
async def updates(request: Request, queries: str | None = None):
    return await update_worlds(request.app.state.pool, query_count(queries))


@driver.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request):
    return _template.render(fortunes=await fetch_fortunes(request.app.state.pool))


# -- batteries: SQLAlchemy async sessions ------------------------------------------------

engine = create_async_engine(SQLALCHEMY_URL, pool_size=POOL_SIZE, max_overflow=0)
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


@contextlib.asynccontextmanager
async def orm_lifespan(app: FastAPI):
    yield
    await engine.dispose()


batteries = FastAPI(lifespan=orm_lifespan)


@batteries.get("/db")
async def orm_single_query(session: Session):
    world = await session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@batteries.get("/queries")
async def orm_queries(session: Session, queries: str | None = None):
    worlds = [await session.get(World, random_id()) for _ in range(query_count(queries))]
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@batteries.get("/updates")
async def orm_updates(session: Session, queries: str | None = None):
    ids = sorted(random.sample(range(1, 10001), query_count(queries)))
    worlds = [await session.get(World, i) for i in ids]
    for world in worlds:
        world.randomnumber = random_id()
    await session.commit()
    return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


@batteries.get("/fortunes", response_class=HTMLResponse)
async def orm_fortunes(session: Session):
    rows = (await session.scalars(select(Fortune))).all()
    return _template.render(fortunes=sorted_fortunes([(f.id, f.message) for f in rows]))
