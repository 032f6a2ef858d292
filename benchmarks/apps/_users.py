"""What every app of the ``users`` suite shares (imported inside each framework's venv).

Seed 003's benchmark: ``GET /api/v1/users`` runs one query on a SQLite
database and answers every user as JSON. The runner creates and seeds the
file (``benchmarks/users_db.py``) and names it in ``USERS_DATABASE_PATH``.
aiosqlite has no pool, so the "driver" apps share :class:`Pool`: a fixed set
of connections, as many as the ORM apps' SQLAlchemy pools hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

#: The SQLite file (the same default as ``benchmarks/users_db.py``).
DATABASE_PATH = os.environ.get("USERS_DATABASE_PATH") or str(
    Path(tempfile.gettempdir()) / "dyne-bench-users.sqlite3")
#: The same for SQLAlchemy's aiosqlite dialect (the "batteries" flavour).
SQLALCHEMY_URL = f"sqlite+aiosqlite:///{DATABASE_PATH}"
#: Connections per worker, the same for every framework and flavour.
POOL_SIZE = int(os.environ.get("USERS_POOL_SIZE", "8"))

SELECT_USERS = "SELECT id, name, email FROM users ORDER BY id"


class Pool:
    """``size`` aiosqlite connections handed out one request at a time."""

    def __init__(self, connections: list) -> None:
        self._connections = connections
        self._idle: asyncio.Queue = asyncio.Queue()
        for connection in connections:
            self._idle.put_nowait(connection)

    @classmethod
    async def open(cls, path: str = DATABASE_PATH, size: int = POOL_SIZE) -> Pool:
        import aiosqlite

        # mode=rw: a missing file is an error here, not an empty database later.
        uri = _read_write_uri(path)
        try:
            return cls([await aiosqlite.connect(uri, uri=True) for _ in range(size)])
        except sqlite3.OperationalError as exc:
            raise RuntimeError(f"cannot open {path} ({exc}): seed it with "
                               "python3 -m benchmarks.users_db") from exc

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator:
        connection = await self._idle.get()
        try:
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()


def _read_write_uri(path: str) -> str:
    return Path(path).absolute().as_uri() + "?mode=rw"


async def fetch_users(pool: Pool) -> list[dict]:
    """Every user, in id order, as the JSON objects the scenario expects."""
    async with pool.acquire() as connection:
        rows = await connection.execute_fetchall(SELECT_USERS)
    return [{"id": row[0], "name": row[1], "email": row[2]} for row in rows]
