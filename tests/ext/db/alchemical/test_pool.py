"""Pooled connections are pinged after they sat idle, not before every use
(``ping_after_idle``): what the database receives, and what a request sees
when the server dropped its connection."""

from __future__ import annotations

import secrets
import time

import pytest
from sqlalchemy import event, text

import dyne
from dyne.ext.db.alchemical import Alchemical
from tests.ext.db.alchemical.test_errors import kill_backends


def statement_log(db: Alchemical) -> list[str]:
    """The commands asyncpg sends outside prepared statements for the app's
    engine from now on: transaction control (``BEGIN;``, ``ROLLBACK;``) and
    pings (``;``). (asyncpg's query logger leaves out the executions of
    prepared statements, which is how SQLAlchemy runs the request's own SQL.)"""
    sent: list[str] = []

    def log(record) -> None:
        sent.append(record.query.strip())

    @event.listens_for(db.get_engine().sync_engine, "connect")
    def on_connect(dbapi_connection, record) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    return sent


def counting_app(url: str, name: str = "", **options) -> tuple[dyne.App, Alchemical]:
    app = dyne.App(static_dir=None)
    engine_options = {"pool_size": 1, "max_overflow": 0}
    if name:
        engine_options["connect_args"] = {"server_settings": {"application_name": name}}
    engine_options.update(options.pop("engine_options", {}))
    db = Alchemical(app, url=url, engine_options=engine_options, **options)

    @app.route("/")
    async def one(req, resp):
        session = await req.db
        resp.media = {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    return app, db


def test_recently_used_connections_are_not_pinged(postgres_url):
    app, db = counting_app(postgres_url, ping_after_idle=30)
    client = app.client
    try:
        sent = statement_log(db)
        assert client.get("/").json() == {"one": 1}   # connects (and reads the server's settings)
        sent.clear()
        for _ in range(3):
            assert client.get("/").json() == {"one": 1}
        # Each request: its transaction (around the prepared SELECT); never a ping (";").
        assert sent == ["BEGIN;", "ROLLBACK;"] * 3
    finally:
        client.close()


def test_a_connection_idle_past_the_window_is_pinged_first(postgres_url):
    app, db = counting_app(postgres_url, ping_after_idle=0.2)
    client = app.client
    try:
        sent = statement_log(db)
        assert client.get("/").json() == {"one": 1}
        sent.clear()
        time.sleep(0.3)
        assert client.get("/").json() == {"one": 1}
        # The ping (in a transaction of its own, as SQLAlchemy sends it), then the request.
        assert sent == ["BEGIN;", ";", "ROLLBACK;", "BEGIN;", "ROLLBACK;"]
    finally:
        client.close()


def test_a_dropped_idle_connection_is_replaced_without_failing(postgres_url):
    name = f"dyne-idle-{secrets.token_hex(3)}"
    app, _db = counting_app(postgres_url, name, ping_after_idle=0.2)
    client = app.client
    try:
        assert client.get("/").status_code == 200
        kill_backends(postgres_url, name)
        time.sleep(0.4)
        assert client.get("/").json() == {"one": 1}
    finally:
        client.close()


def test_within_the_window_a_dropped_connection_fails_one_request_with_503(postgres_url):
    """The price of not pinging busy connections: the request that finds its
    connection dead (e.g. right after a database restart) is answered 503 with
    Retry-After, and the pool is renewed for the next one."""
    name = f"dyne-busy-{secrets.token_hex(3)}"
    app, db = counting_app(postgres_url, name, ping_after_idle=30)
    client = app.client
    try:
        assert client.get("/").status_code == 200
        kill_backends(postgres_url, name)
        time.sleep(0.2)
        failed = client.get("/")
        assert failed.status_code == 503 and failed.headers["retry-after"] == "5"
        assert client.get("/").json() == {"one": 1}
        assert db.get_engine().pool.checkedout() == 0
    finally:
        client.close()


@pytest.mark.parametrize("options", [{"ping_after_idle": 0},
                                     {"engine_options": {"pool_pre_ping": True}}])
def test_pinging_every_checkout_can_be_asked_for(postgres_url, options):
    name = f"dyne-always-{secrets.token_hex(3)}"
    app, db = counting_app(postgres_url, name, **options)
    client = app.client
    try:
        assert db.engine_arguments()[1]["pool_pre_ping"] is True
        assert client.get("/").status_code == 200
        kill_backends(postgres_url, name)
        time.sleep(0.2)
        assert client.get("/").json() == {"one": 1}  # pinged, replaced: no 503
    finally:
        client.close()


def test_idle_connections_are_pinged_on_either_database(database_url):
    """SQLite too: a ping after the window, then the request's own work."""
    app, db = counting_app(database_url, ping_after_idle=0.05)

    @app.route("/count", methods=["POST"])
    async def count(req, resp):
        session = await req.db
        await session.execute(text("CREATE TABLE IF NOT EXISTS hits (n INTEGER)"))
        await session.execute(text("INSERT INTO hits VALUES (1)"))
        await session.commit()
        resp.media = {"hits": (await session.execute(text("SELECT count(*) FROM hits"))).scalar()}

    client = app.client
    try:
        assert [client.post("/count").json()["hits"] for _ in range(2)] == [1, 2]
        time.sleep(0.1)
        assert client.post("/count").json() == {"hits": 3}
        assert db.ping_after_idle == 0.05 and "pool_pre_ping" not in db.engine_arguments()[1]
    finally:
        client.close()


def test_no_pinging_at_all(postgres_url):
    app, db = counting_app(postgres_url, ping_after_idle=None)
    client = app.client
    try:
        sent = statement_log(db)
        assert client.get("/").status_code == 200
        time.sleep(0.1)
        assert client.get("/").status_code == 200
        assert ";" not in sent
    finally:
        client.close()
