"""Create and seed the SQLite database of the ``users`` suite, with ``sqlite3`` only.

Seed 003's own benchmark (Patera's README): ``GET /api/v1/users`` answers the
users of a small SQLite table as JSON, 139 bytes, at a concurrency of 200.
The table here holds the three users of :data:`benchmarks.scenarios.USERS`
(145 bytes as compact JSON). The file is named by ``USERS_DATABASE_PATH``
(default ``dyne-bench-users.sqlite3`` in the temporary directory); the runner
points it at a fresh temporary directory for each run. Standard library only,
like the runner.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from .scenarios import USERS

ENV = "USERS_DATABASE_PATH"


def database_path() -> str:
    return os.environ.get(ENV) or str(Path(tempfile.gettempdir()) / "dyne-bench-users.sqlite3")


def seed(path: str | None = None) -> str:
    """(Re)create the ``users`` table at ``path`` with the benchmark's users.
    Returns the path used."""
    path = path or database_path()
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("DROP TABLE IF EXISTS users")
            connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, "
                               "name VARCHAR(64) NOT NULL UNIQUE, "
                               "email VARCHAR(120) NOT NULL)")
            connection.executemany("INSERT INTO users (id, name, email) VALUES (?, ?, ?)",
                                   [(u["id"], u["name"], u["email"]) for u in USERS])
    finally:
        connection.close()
    return path


if __name__ == "__main__":
    print(f"seeded {seed()}")
