"""What a migrations directory's ``env.py`` runs (inside Alembic).

The database is the one ``dyne db`` passed in ``Config.attributes``; under a
plain ``alembic -c migrations/alembic.ini ...`` it is found by loading the
application named by ``dyne_app`` in ``alembic.ini`` (or ``DYNE_APP``).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from alembic import context
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from . import DB_ATTRIBUTE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.schema import MetaData

    from ..extension import Alchemical

__all__ = ["run_migrations"]

#: Defaults for ``context.configure``: compare column types; batch mode so
#: that SQLite, which cannot ALTER most things, gets table rebuilds.
DEFAULT_OPTIONS: dict[str, Any] = {"compare_type": True, "render_as_batch": True}


def _database() -> Alchemical:
    from ..extension import Alchemical

    config = context.config
    db = config.attributes.get(DB_ATTRIBUTE)
    if db is None:
        from dyne.cli import load_app

        app_path = config.get_main_option("dyne_app") or os.environ.get("DYNE_APP") or "app:app"
        app = load_app(app_path)
        db = getattr(app, "extensions", {}).get("db")
    if not isinstance(db, Alchemical):
        raise CommandError("No Alchemical database found: the app must create `db = Alchemical(app)` "
                           "(set the app with `dyne --app module:app db ...` or dyne_app in alembic.ini)")
    return db


def _without_pool_options(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items()
            if key == "pool_pre_ping" or not (key.startswith("pool") or key == "max_overflow")}


def _migrate_one(connection: Connection, metadata: MetaData | None, name: str,
                 options: dict[str, Any]) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      upgrade_token=f"{name}_upgrades", downgrade_token=f"{name}_downgrades",
                      **options)
    context.run_migrations(engine_name=name)


async def _run_online(db: Alchemical, binds: list[str | None], options: dict[str, Any]) -> None:
    opened: list[tuple[str | None, Any, Any, Any]] = []
    try:
        for bind in binds:
            url, engine_options = db.engine_arguments(bind)
            engine = create_async_engine(url, poolclass=NullPool, **_without_pool_options(engine_options))
            connection = await engine.connect()
            transaction = await connection.begin()
            opened.append((bind, engine, connection, transaction))
        for bind, _, connection, _ in opened:
            await connection.run_sync(_migrate_one, db.metadatas.get(bind), bind or "", options)
        for _, _, _, transaction in opened:
            await transaction.commit()
    except BaseException:
        for _, _, _, transaction in opened:
            if transaction.is_active:
                await transaction.rollback()
        raise
    finally:
        for _, engine, connection, _ in opened:
            await connection.close()
            await engine.dispose()


def run_migrations(options: dict[str, Any] | None = None) -> None:
    """Run the migration command Alembic is executing, on the default database
    and every bind. ``options`` go to ``context.configure`` (``compare_type``
    and ``render_as_batch`` are on by default)."""
    db = _database()
    db.get_engine()  # reads the configuration; fails clearly without a URL
    binds: list[str | None] = [None, *sorted(db.binds or {})]
    context.config.set_main_option("databases", ",".join(bind or "" for bind in binds))
    if context.is_offline_mode():
        raise CommandError("Offline (--sql) migrations are not supported: run them against the database")
    asyncio.run(_run_online(db, binds, {**DEFAULT_OPTIONS, **(options or {})}))
