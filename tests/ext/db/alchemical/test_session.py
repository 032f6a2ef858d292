"""The session class: read-only sessions (@db.read_only, db.session(read_only=True))
and statement routing to binds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import String, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model, ReadOnlyError


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
