"""dyne on seed 003's benchmark (list users from SQLite), written as its
documentation shows.

``driver``: a ``(req, resp)`` view on aiosqlite connections opened at start-up.
``batteries``: the Alchemical extension on ``sqlite+aiosqlite`` (SQLAlchemy 2
async, one session per request through ``await req.db``), the path dyne's
database docs teach, with the same list view as their example.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.db.alchemical import Alchemical, Model

from ._users import POOL_SIZE, SQLALCHEMY_URL, Pool, fetch_users

# -- driver: aiosqlite directly ----------------------------------------------------------------

driver = dyne.App()


@driver.on_event("startup")
async def open_pool():
    driver.state.pool = await Pool.open()


@driver.on_event("shutdown")
async def close_pool():
    await driver.state.pool.close()


@driver.get("/api/v1/users")
async def users(req, resp):
    resp.media = await fetch_users(driver.state.pool)


# -- batteries: the Alchemical extension -------------------------------------------------------

class User(Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(120))


batteries = dyne.App()
db = Alchemical(batteries, url=SQLALCHEMY_URL,
                engine_options={"pool_size": POOL_SIZE, "max_overflow": 0})


@batteries.get("/api/v1/users")
async def orm_users(req, resp):
    session = await req.db
    rows = (await session.scalars(User.select().order_by(User.id))).all()
    resp.media = [{"id": u.id, "name": u.name, "email": u.email} for u in rows]
