"""``dyne db``: the CLI plugin and a migration round trip on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

DYNE = str(Path(sys.executable).with_name("dyne"))

APP = '''
import os

import dyne
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, Model

app = dyne.App()
db = Alchemical(app)


class Author(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    if os.environ.get("MODEL_VERSION") == "2":
        email: Mapped[str | None] = mapped_column(String(80), unique=True)


class Visit(Model):
    __bind_key__ = "analytics"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))
    if os.environ.get("MODEL_VERSION") == "2":
        referrer: Mapped[str | None] = mapped_column(String(200))
'''


def dyne_command(*args: str, cwd: Path, env: dict[str, str], ok: bool = True) -> str:
    result = subprocess.run([DYNE, *args], cwd=cwd, env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=120)
    if ok:
        assert result.returncode == 0, f"dyne {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


async def columns(url: str, table: str) -> list[str]:
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    from dyne.ext.db.alchemical import Alchemical

    engine = create_async_engine(Alchemical(url=url).engine_arguments()[0])
    try:
        async with engine.connect() as connection:
            def read(sync):
                inspector = inspect(sync)
                return ([c["name"] for c in inspector.get_columns(table)]
                        if inspector.has_table(table) else [])

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def test_migration_round_trip(tmp_path, database_url):
    analytics = f"sqlite:///{tmp_path / 'analytics.db'}"
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    env = {"ALCHEMICAL_DATABASE_URL": database_url, "ALCHEMICAL_BINDS": f'{{"analytics": "{analytics}"}}',
           "PYTHONPATH": str(ROOT), "MODEL_VERSION": "1"}
    v2 = {**env, "MODEL_VERSION": "2"}

    def run(*args: str, environment: dict[str, str] = env) -> str:
        return dyne_command("--app", "app", "db", *args, cwd=tmp_path, env=environment)

    assert "Created migrations/" in run("init")
    assert sorted(p.name for p in (tmp_path / "migrations").iterdir()) == [
        "README", "alembic.ini", "env.py", "script.py.mako", "versions"]
    assert "Detected added table 'author'" in run("migrate", "-m", "first tables")
    run("upgrade")
    assert asyncio.run(columns(database_url, "author")) == ["id", "name"]
    assert asyncio.run(columns(analytics, "visit")) == ["id", "path"]

    output = run("migrate", "-m", "add email and referrer", environment=v2)
    assert "Detected added column 'author.email'" in output
    assert "Detected added column 'visit.referrer'" in output
    revisions = sorted((tmp_path / "migrations" / "versions").glob("*.py"))
    assert len(revisions) == 2
    second = next(path for path in revisions if "add_email" in path.name).read_text()
    assert "def upgrade_() -> None:" in second and "def upgrade_analytics() -> None:" in second
    run("upgrade", environment=v2)
    assert asyncio.run(columns(database_url, "author")) == ["id", "name", "email"]
    assert asyncio.run(columns(analytics, "visit")) == ["id", "path", "referrer"]

    head = second.split("Revision ID: ")[1].split()[0]
    first = second.split("Revises: ")[1].split()[0]
    assert f"{head} (head)" in run("current")
    assert run("heads").split() == [head, "(head)"]
    history = run("history", "-i")
    assert f"{first} -> {head} (head) (current), add email and referrer" in history
    assert f"<base> -> {first}, first tables" in history
    assert f"Revision ID: {head}" in run("show", head)

    run("downgrade", environment=v2)
    assert asyncio.run(columns(database_url, "author")) == ["id", "name"]
    assert asyncio.run(columns(analytics, "visit")) == ["id", "path"]
    assert first in run("current")
    run("stamp", "head")  # records a revision without running it
    assert f"{head} (head)" in run("current")
    assert asyncio.run(columns(database_url, "author")) == ["id", "name"]
    run("stamp", first)
    run("downgrade", "base")
    assert asyncio.run(columns(database_url, "author")) == []
    assert asyncio.run(columns(analytics, "visit")) == []


def test_plain_alembic_finds_the_app_through_alembic_ini(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    env = {"ALCHEMICAL_DATABASE_URL": f"sqlite:///{tmp_path / 'main.db'}",
           "ALCHEMICAL_BINDS": f'{{"analytics": "sqlite:///{tmp_path / "analytics.db"}"}}',
           "PYTHONPATH": str(ROOT)}
    dyne_command("--app", "app", "db", "init", cwd=tmp_path, env=env)
    alembic = str(Path(sys.executable).with_name("alembic"))
    result = subprocess.run([alembic, "-c", "migrations/alembic.ini", "revision", "--autogenerate",
                             "-m", "by alembic"], cwd=tmp_path, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Detected added table 'author'" in result.stderr


def test_clear_errors(tmp_path):
    env = {"PYTHONPATH": str(ROOT)}
    (tmp_path / "bare.py").write_text("import dyne\napp = dyne.App()\n")
    (tmp_path / "nourl.py").write_text("import dyne\nfrom dyne.ext.db.alchemical import Alchemical\n"
                                       "app = dyne.App()\ndb = Alchemical(app)\n")
    cases = [
        (["--app", "bare", "db", "upgrade"], "Error: The app bare:app has no Alchemical database"),
        (["--app", "nourl", "db", "upgrade"], "Error: migrations/alembic.ini not found: create the "
                                              "migrations directory with `dyne db init`"),
        (["--app", "nourl", "db", "-d", "elsewhere", "current"], "`dyne db -d elsewhere init`"),
        (["--app", "nourl", "db", "init"], None),
        (["--app", "nourl", "db", "init"], "Error: migrations already exists and is not empty"),
        (["--app", "nourl", "db", "upgrade"], "Error: Missing required config: ALCHEMICAL_DATABASE_URL"),
        (["--app", "missing", "db", "upgrade"], "Error: Could not import 'missing'"),
    ]
    for args, message in cases:
        output = dyne_command(*args, cwd=tmp_path, env=env, ok=message is None)
        if message is not None:
            assert message in output, (args, output)
            assert "Traceback" not in output


def test_help_lists_the_commands_and_the_plugin_imports_nothing_heavy():
    result = subprocess.run([DYNE, "db", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("init", "migrate", "upgrade", "downgrade", "history", "current", "heads", "show",
                    "stamp"):
        assert f"  {command} " in result.stdout
    code = ("import sys\nfrom dyne.cli import cli, load_plugins\nload_plugins()\n"
            "assert 'db' in cli.commands, cli.commands\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'sqlalchemy', 'alembic', 'alchemical', 'asyncpg', 'aiosqlite'})\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_without_the_extra_db_commands_name_the_pip_install(tmp_path):
    code = ("import sys\nsys.modules['sqlalchemy'] = None\n"
            "sys.argv = ['dyne', '--app', 'app', 'db', 'upgrade']\n"
            "from dyne.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 1
    assert 'Error: dyne.ext.db.alchemical needs SQLAlchemy and Alchemical: pip install "dyne[sqlalchemy]"' \
        in result.stderr


def test_directory_option(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    env = {"ALCHEMICAL_DATABASE_URL": f"sqlite:///{tmp_path / 'main.db'}",
           "ALCHEMICAL_BINDS": f'{{"analytics": "sqlite:///{tmp_path / "analytics.db"}"}}',
           "PYTHONPATH": str(ROOT)}
    dyne_command("--app", "app", "db", "--directory", "db/migrations", "init", cwd=tmp_path, env=env)
    assert (tmp_path / "db" / "migrations" / "alembic.ini").is_file()
    dyne_command("--app", "app", "db", "-d", "db/migrations", "migrate", "-m", "x", cwd=tmp_path, env=env)
    assert len(list((tmp_path / "db" / "migrations" / "versions").glob("*.py"))) == 1
