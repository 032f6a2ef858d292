"""Patera (seed 003, the renamed PyJolt) on its own benchmark: list users from
SQLite, written as its README shows.

Patera 0.111.13 (the version of seed 003) needs Python 3.12 or newer: the
runner builds its venv with such an interpreter (see ``run.py``). Its
application is a ``Patera`` subclass decorated with ``@app``, configured by a
``BaseConfig`` class that names the controllers, extensions and models by
import string; the controller is a class with ``@path`` and ``@get``.

``driver``: aiosqlite directly, connections opened in an ``@on_startup``
method. ``batteries``: the ``SqlDatabase`` extension (SQLAlchemy 2 async on
``sqlite+aiosqlite``), a model queried with ``Model.query(session)`` in an
endpoint decorated with ``@db.readonly_session``, the README's read path.
Everything else is left at its defaults (CORS on, for one), as a user gets
them, with two settings of a production deployment: ``DEBUG`` off, and the
default logger at ``WARNING``, the level its README shows how to set: at its
default level it writes a line for every request, an access log, and every
other server runs without one (uvicorn's ``--no-access-log``).
"""

from __future__ import annotations

import os

from patera import (
    BaseConfig,
    HttpStatus,
    LogLevel,
    MediaType,
    Patera,
    Request,
    Response,
    app,
    on_shutdown,
    on_startup,
)
from patera.controller import Controller, get, path, produces
from patera.database.sql import AsyncSession, DeclarativeBaseModel, SqlDatabase
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ._users import SQLALCHEMY_URL, Pool, fetch_users

_MODULE = __name__
#: No line per request (the other servers run without an access log too).
_LOGGER = {"LEVEL": LogLevel.WARNING}

# -- driver: aiosqlite directly ----------------------------------------------------------------


@path("/api/v1/users")
class UsersApi(Controller):
    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    async def get_users(self, req: Request) -> Response:
        return req.response.json(await fetch_users(self.app.pool)).status(HttpStatus.OK)


class DriverConfig(BaseConfig):
    APP_NAME: str = "users (aiosqlite)"
    VERSION: str = "1.0"
    SECRET_KEY: str = "benchmark-only-secret"
    BASE_PATH: str = os.path.dirname(__file__)
    DEBUG: bool = False
    DEFAULT_LOGGER: dict = _LOGGER
    CONTROLLERS: list[str] = [f"{_MODULE}:UsersApi"]


@app(__name__, configs=DriverConfig)
class DriverApplication(Patera):
    @on_startup
    async def open_pool(self):
        self.pool = await Pool.open()

    @on_shutdown
    async def close_pool(self):
        await self.pool.close()


driver = DriverApplication()

# -- batteries: the SqlDatabase extension -----------------------------------------------------

db = SqlDatabase()


class User(DeclarativeBaseModel):
    __tablename__ = "users"
    __db_name__ = "db"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(120))


@path("/api/v1/users")
class OrmUsersApi(Controller):
    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    @db.readonly_session
    async def get_users(self, req: Request, session: AsyncSession) -> Response:
        users = await User.query(session).order_by(User.id).all()
        return req.response.json(
            [{"id": u.id, "name": u.name, "email": u.email} for u in users]).status(HttpStatus.OK)


class BatteriesConfig(BaseConfig):
    APP_NAME: str = "users (SqlDatabase)"
    VERSION: str = "1.0"
    SECRET_KEY: str = "benchmark-only-secret"
    BASE_PATH: str = os.path.dirname(__file__)
    DEBUG: bool = False
    DEFAULT_LOGGER: dict = _LOGGER
    CONTROLLERS: list[str] = [f"{_MODULE}:OrmUsersApi"]
    EXTENSIONS: list[str] = [f"{_MODULE}:db"]
    MODELS: list[str] = [f"{_MODULE}:User"]
    SQL_DATABASE: dict = {"DATABASE_URI": SQLALCHEMY_URL}


@app(__name__, configs=BatteriesConfig)
class BatteriesApplication(Patera):
    pass


batteries = BatteriesApplication()
