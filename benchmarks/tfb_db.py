"""Create and seed the TechEmpower tables on PostgreSQL, with ``psql`` only.

``world`` gets 10,000 rows ``(id, randomnumber)``, ids 1..10000 and random
numbers in 1..10000; ``fortune`` the 12 standard fortunes. The database named
by ``TFB_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/dyne_tfb``)
is created when missing. Standard library only, like the runner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import urlsplit, urlunsplit

from .scenarios import FORTUNES

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dyne_tfb"


def database_url() -> str:
    return os.environ.get("TFB_DATABASE_URL", DEFAULT_URL)


def _psql(url: str, sql: str) -> str:
    psql = shutil.which("psql")
    if psql is None:
        raise RuntimeError("psql is not installed (apt-get install postgresql-client)")
    result = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-qAt", url], input=sql,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"psql {url}: {result.stderr.strip()}")
    return result.stdout


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def seed(url: str | None = None) -> str:
    """Create the database (if missing) and (re)create and fill both tables.
    Returns the URL used."""
    url = url or database_url()
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    exists = _psql(maintenance, f"SELECT 1 FROM pg_database WHERE datname = {_literal(name)};")
    if not exists.strip():
        _psql(maintenance, f'CREATE DATABASE "{name}";')
    fortunes = ",\n".join(f"({i}, {_literal(message)})" for i, message in enumerate(FORTUNES, 1))
    _psql(url, f"""
        DROP TABLE IF EXISTS world;
        DROP TABLE IF EXISTS fortune;
        CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0);
        INSERT INTO world (id, randomnumber)
            SELECT n, 1 + floor(random() * 10000)::integer FROM generate_series(1, 10000) AS n;
        CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL);
        INSERT INTO fortune (id, message) VALUES {fortunes};
        ANALYZE world;
        ANALYZE fortune;
    """)
    return url


if __name__ == "__main__":
    print(f"seeded {seed()}")
