"""FastAPI on seed 003's benchmark (list users from SQLite), written as its
documentation shows.

``driver``: aiosqlite directly (connections opened in the lifespan).
``batteries``: SQLAlchemy's async session from a ``yield`` dependency, as
FastAPI's SQL database tutorial does it with an async engine, on
``sqlite+aiosqlite``.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from ._users import POOL_SIZE, SQLALCHEMY_URL, Pool, fetch_users
from ._users_orm import User

# -- driver ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await Pool.open()
    yield
    await app.state.pool.close()


driver = FastAPI(lifespan=lifespan)


@driver.get("/api/v1/users")
async def users(request: Request):
    return await fetch_users(request.app.state.pool)


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


@batteries.get("/api/v1/users")
async def orm_users(session: Session):
    rows = (await session.scalars(select(User).order_by(User.id))).all()
    return [{"id": u.id, "name": u.name, "email": u.email} for u in rows]
