"""The session class: read-only sessions (@db.read_only, db.session(read_only=True))
and statement routing to binds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import String, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from dyne import abort
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model, ReadOnlyError
from dyne.testing import TestClient


def define_note():
    class Note(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = mapped_column(String(100))

    return Note


@pytest.fixture
def database(database_url):
    db = Alchemical(url=database_url)
    Note = define_note()

    def run(steps):
        async def main():
            await db.create_all()
            async with db.begin():
                await Note.create(body="existing")
            try:
                return await steps(db, Note)
            finally:
                await db.dispose()

        return asyncio.run(main())

    return run


def test_read_only_session_refuses_every_kind_of_orm_write(database):
    async def steps(db, Note):
        refused = []
        attempts = {
            "new object": lambda s: Note.create(body="new"),
            "changed object": lambda s: change_first(s, Note),
            "deleted object": lambda s: delete_first(s, Note),
            "insert statement": lambda s: s.execute(insert(Note).values(body="x")),
            "update statement": lambda s: s.execute(update(Note).values(body="x")),
        }
        for label, attempt in attempts.items():
            async with db.session(read_only=True) as session:
                try:
                    await attempt(session)
                    await session.flush()
                except ReadOnlyError as exc:
                    refused.append(label)
                    message = str(exc)
        async with db.session(read_only=True) as session:
            rows = (await session.scalars(select(Note.body))).all()
            reading_works = [n.body for n in await Note.all()]
        return refused, message, rows, reading_works

    refused, message, rows, reading_works = database(steps)
    assert refused == ["new object", "changed object", "deleted object", "insert statement",
                       "update statement"]
    assert message.startswith("This session is read-only")
    assert rows == reading_works == ["existing"]


async def change_first(session, Note):
    note = (await session.scalars(select(Note))).first()
    note.body = "changed"


async def delete_first(session, Note):
    await session.delete((await session.scalars(select(Note))).first())


def test_postgresql_also_refuses_raw_sql_in_a_read_only_session(database, database_url):
    async def steps(db, Note):
        async with db.session(read_only=True) as session:
            try:
                await session.execute(text("INSERT INTO note (body) VALUES ('raw')"))
                await session.commit()
            except DBAPIError as exc:
                return str(exc.orig)
        async with db.session() as session:
            return (await session.scalars(select(Note.body).order_by(Note.id))).all()

    outcome = database(steps)
    if database_url.startswith("postgresql"):
        assert "read-only transaction" in outcome
    else:  # SQLite has no read-only transactions: only ORM writes are refused there
        assert outcome == ["existing", "raw"]


def test_read_only_decorator_without_a_request(database):
    async def steps(db, Note):
        @db.read_only
        async def list_notes():
            return [n.body for n in await Note.all()]

        @db.read_only
        async def sneaky_write():
            await Note.create(body="sneaky")

        with pytest.raises(ReadOnlyError):
            await sneaky_write()
        return await list_notes(), db.get_engine().pool.checkedout()

    assert database(steps) == (["existing"], 0)


def test_read_only_scope_ends_with_the_decorated_call(database):
    """A read-only helper inside a writing transaction: writes before and after it work."""

    async def steps(db, Note):
        @db.read_only
        async def count_notes():
            return len(await Note.all())

        @db.transaction
        async def add_two():
            await Note.create(body="before")
            counted = await count_notes()
            await Note.create(body="after")
            return counted

        counted = await add_two()
        async with db.session() as session:
            return counted, (await session.scalars(select(Note.body).order_by(Note.id))).all()

    assert database(steps) == (2, ["existing", "before", "after"])


def test_read_only_views_in_requests(make_app):
    app, db = make_app()
    Note = define_note()

    @app.route("/notes")
    @db.read_only
    async def list_notes(req, resp):
        resp.media = [n.body for n in await Note.all()]

    @app.route("/notes", methods=["POST"])
    @db.read_only
    async def mistaken(req, resp):
        await Note.create(body="x")

    assert app.client.get("/notes").json() == []
    assert app.client.post("/notes").status_code == 500
    assert app.client.get("/notes").json() == []


# -- @db.read_only views on PostgreSQL: reads without a transaction ------------------------------


def test_read_only_views_read_without_begin_and_rollback_on_postgresql(make_app, database_url):
    from tests.ext.db.alchemical.test_pool import statement_log

    app, db = make_app()
    Note = define_note()

    @app.route("/plain")
    async def plain(req, resp):
        await req.db
        resp.media = [n.body for n in await Note.all()]

    @app.route("/read-only")
    @db.read_only
    async def read_only(req, resp):
        resp.media = [n.body for n in await Note.all()]

    client = app.client
    assert client.get("/plain").json() == client.get("/read-only").json() == []
    if not database_url.startswith("postgresql"):
        return  # SQLite sends no BEGIN for reads anyway: nothing to save there
    sent = statement_log(db)
    db.get_engine().sync_engine.pool.dispose()  # a new connection, which logs
    client.get("/plain")
    sent.clear()
    client.get("/plain")
    assert sent == ["BEGIN;", "ROLLBACK;"]
    sent.clear()
    client.get("/read-only")
    assert sent == []  # only the prepared SELECT: one round trip instead of three


def test_after_a_read_only_view_the_connection_is_transactional_again(make_app):
    """One pooled connection: the read-only request's autocommit must not
    outlive it, or the failing request's row would be committed at once."""
    app, db = make_app(ALCHEMICAL_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    Note = define_note()

    @app.route("/notes")
    @db.read_only
    async def list_notes(req, resp):
        resp.media = [n.body for n in await Note.all()]

    @app.route("/notes", methods=["POST"])
    async def add_then_fail(req, resp):
        session = await req.db
        session.add(Note(body="never"))
        await session.flush()
        raise RuntimeError("rolled back")

    client = app.client
    assert client.get("/notes").json() == []
    assert TestClient(app, raise_server_exceptions=False).post("/notes").status_code == 500
    assert client.get("/notes").json() == []
    assert db.get_engine().pool.checkedout() == 0


def test_objects_read_in_a_read_only_helper_can_be_changed_afterwards(make_app):
    app, db = make_app()
    Note = define_note()

    @db.read_only
    async def first_note(req):
        session = await req.db
        return (await session.scalars(select(Note).order_by(Note.id))).first()

    @app.route("/notes", methods=["POST"])
    @db.transaction
    async def add(req, resp):
        await Note.create(body=req.media()["body"])

    @app.route("/first", methods=["PATCH"])
    async def rename_first(req, resp):
        note = await first_note(req)        # read without a transaction...
        note.body = req.media()["body"]      # ...then changed and committed in one
        session = await req.db
        await session.commit()
        resp.media = {"body": note.body}

    @app.route("/notes")
    @db.read_only
    async def list_notes(req, resp):
        session = await req.db
        async with session.begin():           # an explicit transaction stays one
            resp.media = (await session.scalars(select(Note.body).order_by(Note.id))).all()

    client = app.client
    assert client.post("/notes", json={"body": "a"}).status_code == 200
    assert client.post("/notes", json={"body": "b"}).status_code == 200
    assert client.patch("/first", json={"body": "renamed"}).json() == {"body": "renamed"}
    assert client.get("/notes").json() == ["renamed", "b"]
    assert db.get_engine().pool.checkedout() == 0


def test_changing_an_object_in_a_read_only_view_is_refused(make_app):
    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=True)
    Note = define_note()

    @app.route("/notes", methods=["POST"])
    @db.transaction
    async def add(req, resp):
        await Note.create(body="original")

    @app.route("/notes")
    @db.read_only
    async def list_notes(req, resp):
        notes = await Note.all()
        resp.media = [n.body for n in notes]

    @app.route("/sneaky")
    @db.read_only
    async def sneaky(req, resp):
        note = (await Note.all())[0]
        note.body = "changed"                 # never flushed here: refused at the end

    @app.route("/failing")
    @db.read_only
    async def failing(req, resp):
        await Note.all()
        abort(404)

    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/notes").status_code == 200
    assert client.get("/sneaky").status_code == 500
    assert client.get("/failing").status_code == 404
    assert client.get("/notes").json() == ["original"]
    assert db.get_engine().pool.checkedout() == 0
    client.close()


def test_a_read_only_session_begins_read_only_in_one_round_trip_on_postgresql(postgres_url):
    from tests.ext.db.alchemical.test_pool import statement_log

    db = Alchemical(url=postgres_url)
    Note = define_note()
    sent = statement_log(db)

    async def main():
        await db.create_all()
        sent.clear()
        async with db.session(read_only=True) as session:
            notes = (await session.scalars(select(Note))).all()
        await db.dispose()
        return notes

    assert asyncio.run(main()) == []
    assert sent == ["BEGIN READ ONLY;", "ROLLBACK;"]  # no separate SET TRANSACTION READ ONLY


def test_data_errors_in_read_only_views_are_still_400(make_app, database_url):
    """The autocommit connections share the engine's error mapping: asyncpg's
    class-22 errors are raised as DataError, answered with 400."""
    from sqlalchemy.exc import DataError

    app, db = make_app()
    caught = []

    @app.route("/cast/{value}")
    @db.read_only
    async def cast(req, resp, *, value):
        session = await req.db
        try:
            resp.media = {"n": (await session.execute(
                text("SELECT CAST(CAST(:value AS TEXT) AS INTEGER)"), {"value": value})).scalar()}
        except DataError:
            caught.append(value)
            raise

    client = app.client
    assert client.get("/cast/12").json() == {"n": 12}
    if database_url.startswith("postgresql"):
        assert client.get("/cast/twelve").status_code == 400
        assert caught == ["twelve"]
    assert db.get_engine().pool.checkedout() == 0
