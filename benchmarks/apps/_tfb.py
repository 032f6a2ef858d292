"""What every TechEmpower-style app shares (imported inside each framework's venv).

The test types follow the TechEmpower Framework Benchmarks rules: ``world``
holds 10,000 rows ``(id, randomnumber)`` with ids 1..10000, ``fortune`` the 12
standard fortunes; the fortunes page adds one fortune at request time, sorts
by message and renders an HTML table with Jinja2 (escaping on). The
``queries`` parameter is clamped to 1..500, and anything that is not an
integer counts as 1.
"""

from __future__ import annotations

import os
import random

#: The database the TFB apps use (the runner creates and seeds it).
DATABASE_URL = os.environ.get("TFB_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/dyne_tfb")
#: The same for SQLAlchemy's asyncpg dialect (the "batteries" flavour).
SQLALCHEMY_URL = DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1)
#: Connections per worker, the same for every framework and flavour.
POOL_SIZE = int(os.environ.get("TFB_POOL_SIZE", "8"))

HELLO = {"message": "Hello, World!"}
PLAINTEXT = b"Hello, World!"
ADDITIONAL_FORTUNE = "Additional fortune added at request time."

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
UPDATE_WORLDS = ("UPDATE world SET randomnumber = v.r FROM (SELECT unnest($1::int[]) AS i, "
                 "unnest($2::int[]) AS r) AS v WHERE world.id = v.i")
SELECT_FORTUNES = "SELECT id, message FROM fortune"

FORTUNES_TEMPLATE = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for fortune in fortunes %}<tr><td>{{ fortune[0] }}</td><td>{{ fortune[1] }}</td></tr>"
    "{% endfor %}</table></body></html>")


def random_id() -> int:
    return random.randint(1, 10000)


def query_count(value: str | None) -> int:
    """The ``queries`` parameter as the rules say: an int clamped to 1..500, else 1."""
    try:
        count = int(value) if value is not None else 1
    except ValueError:
        return 1
    return min(max(count, 1), 500)


def sorted_fortunes(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The rows plus the request-time fortune, sorted by message."""
    fortunes = [(row[0], row[1]) for row in rows]
    fortunes.append((0, ADDITIONAL_FORTUNE))
    fortunes.sort(key=lambda fortune: fortune[1])
    return fortunes


def fortunes_template():
    import jinja2

    return jinja2.Environment(autoescape=True).from_string(FORTUNES_TEMPLATE)


async def driver_pool():
    """The asyncpg pool of the "driver" flavour."""
    import asyncpg

    return await asyncpg.create_pool(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)


async def fetch_world(pool) -> dict:
    async with pool.acquire() as connection:
        row = await connection.fetchrow(SELECT_WORLD, random_id())
    return {"id": row[0], "randomNumber": row[1]}


async def fetch_worlds(pool, count: int) -> list[dict]:
    statement_ids = [random_id() for _ in range(count)]
    async with pool.acquire() as connection:
        statement = await connection.prepare(SELECT_WORLD)
        return [{"id": row[0], "randomNumber": row[1]}
                for row in [await statement.fetchrow(i) for i in statement_ids]]


async def update_worlds(pool, count: int) -> list[dict]:
    ids = sorted(random.sample(range(1, 10001), count))  # sorted: no deadlocks between requests
    async with pool.acquire() as connection:
        statement = await connection.prepare(SELECT_WORLD)
        worlds = []
        for i in ids:
            row = await statement.fetchrow(i)
            worlds.append({"id": row[0], "randomNumber": random_id()})
        await connection.execute(UPDATE_WORLDS, ids, [w["randomNumber"] for w in worlds])
    return worlds


async def fetch_fortunes(pool) -> list[tuple[int, str]]:
    async with pool.acquire() as connection:
        rows = await connection.fetch(SELECT_FORTUNES)
    return sorted_fortunes([(row[0], row[1]) for row in rows])
