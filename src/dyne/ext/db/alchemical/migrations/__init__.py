"""Alembic migrations for an ``Alchemical`` database: what ``dyne db ...`` runs.

Each function takes the ``Alchemical`` instance and the migrations
directory. The models are the ones the application defined (every model
class imported when the app was loaded), in the default database and in each
bind; one revision file holds the changes of all of them, as
``upgrade_<bind>()`` functions (``upgrade_()`` for the default database),
the layout of Alembic's multi-database template (and of Alchemical's).

Migrations run online, on fresh engines (no pool) made from the database's
URLs and engine options, inside ``asyncio.run``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from ..extension import Alchemical

__all__ = [
    "DEFAULT_DIRECTORY",
    "alembic_config",
    "current",
    "downgrade",
    "heads",
    "history",
    "init",
    "migrate",
    "show",
    "stamp",
    "upgrade",
]

DEFAULT_DIRECTORY = "migrations"
TEMPLATE = Path(__file__).parent / "templates" / "dyne"
#: ``Config.attributes`` key through which the env script gets the database.
DB_ATTRIBUTE = "dyne.db"


def alembic_config(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY) -> Config:
    """The Alembic configuration of a migrations directory, wired to ``db``."""
    path = Path(directory)
    ini = path / "alembic.ini"
    if not ini.is_file():
        option = "" if str(directory) == DEFAULT_DIRECTORY else f" -d {directory}"
        raise FileNotFoundError(f"{ini} not found: create the migrations directory with "
                                f"`dyne db{option} init`")
    config = Config(str(ini), stdout=sys.stdout)
    config.set_main_option("script_location", str(path))
    config.attributes[DB_ATTRIBUTE] = db
    return config


def init(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
         app_path: str = "app:app") -> Path:
    """Create the migrations directory: ``alembic.ini``, ``env.py``,
    ``script.py.mako``, ``README`` and ``versions/``. Refuses a directory
    that exists and is not empty."""
    path = Path(directory)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} already exists and is not empty")
    (path / "versions").mkdir(parents=True, exist_ok=True)
    for name in ("env.py", "script.py.mako", "README"):
        shutil.copyfile(TEMPLATE / name, path / name)
    ini = (TEMPLATE / "alembic.ini.template").read_text(encoding="utf-8")
    (path / "alembic.ini").write_text(ini.replace("{dyne_app}", app_path), encoding="utf-8")
    return path


def migrate(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
            message: str | None = None, autogenerate: bool = True) -> Any:
    """A new revision, with the differences between the models and the
    databases (autogenerate)."""
    return command.revision(alembic_config(db, directory), message=message, autogenerate=autogenerate)


def upgrade(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
            revision: str = "head") -> None:
    command.upgrade(alembic_config(db, directory), revision)


def downgrade(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
              revision: str = "-1") -> None:
    command.downgrade(alembic_config(db, directory), revision)


def history(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
            rev_range: str | None = None, verbose: bool = False, indicate_current: bool = False) -> None:
    command.history(alembic_config(db, directory), rev_range, verbose=verbose,
                    indicate_current=indicate_current)


def current(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
            verbose: bool = False) -> None:
    command.current(alembic_config(db, directory), verbose=verbose)


def heads(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
          verbose: bool = False) -> None:
    command.heads(alembic_config(db, directory), verbose=verbose)


def show(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
         revision: str = "head") -> None:
    command.show(alembic_config(db, directory), revision)


def stamp(db: Alchemical, directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
          revision: str = "head") -> None:
    command.stamp(alembic_config(db, directory), revision)
