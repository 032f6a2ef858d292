"""Litestar on seed 003's benchmark (list users from SQLite), written as its
documentation shows.

``driver``: aiosqlite directly (connections opened on start-up, kept in the
app's state). ``batteries``: Litestar's SQLAlchemy plugin on
``sqlite+aiosqlite``, which injects a ``db_session`` per request.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.plugins.sqlalchemy import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ._users import POOL_SIZE, SQLALCHEMY_URL, Pool, fetch_users
from ._users_orm import User

# -- driver ----------------------------------------------------------------------------


async def open_pool(app: Litestar) -> None:
    app.state.pool = await Pool.open()


async def close_pool(app: Litestar) -> None:
    await app.state.pool.close()


@get("/api/v1/users")
async def users(state: State) -> list[dict[str, Any]]:
    return await fetch_users(state.pool)


driver = Litestar(route_handlers=[users], on_startup=[open_pool], on_shutdown=[close_pool])

# -- batteries: the SQLAlchemy plugin ------------------------------------------------------


@get("/api/v1/users")
async def orm_users(db_session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await db_session.scalars(select(User).order_by(User.id))).all()
    return [{"id": u.id, "name": u.name, "email": u.email} for u in rows]


_alchemy = SQLAlchemyAsyncConfig(
    connection_string=SQLALCHEMY_URL, create_all=False,
    session_config=AsyncSessionConfig(expire_on_commit=False),
    engine_config=EngineConfig(pool_size=POOL_SIZE, max_overflow=0))
batteries = Litestar(route_handlers=[orm_users], plugins=[SQLAlchemyPlugin(config=_alchemy)])
