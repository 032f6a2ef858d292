"""``Model.query(session)``: PyJolt's chainable query builder, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import ForeignKey, String
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, AsyncQuery, Model, Pagination, Query

NAMES = ["ada", "Alan", "barbara", "Brian", "carol", "Dennis", "edsger"]


def define_models():
    class Author(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(50))
        age: Mapped[int]

    class Post(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(100))
        author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))

    return Author, Post


@pytest.fixture
def database(database_url):
    """``database(steps)`` runs ``await steps(db, session, Author, Post)`` with
    seven authors (ids 1-7, ages 20, 25, ... 50) and three posts."""
    db = Alchemical(url=database_url)
    Author, Post = define_models()

    def run(steps):
        async def main():
            await db.create_all()
            async with db.begin() as session:
                session.add_all([Author(name=name, age=20 + 5 * n) for n, name in enumerate(NAMES)])
                await session.flush()
                session.add_all([Post(title="Notes", author_id=1), Post(title="Engine", author_id=1),
                                 Post(title="Unix", author_id=6)])
            try:
                async with db.session() as session:
                    return await steps(db, session, Author, Post)
            finally:
                await db.dispose()

        return asyncio.run(main())

    return run


def names(rows):
    return [row.name for row in rows]


def test_builder_methods_chain_and_run(database):
    async def steps(db, session, Author, Post):
        query = Author.query(session)
        return {
            "type": type(query),
            "all": names(await query.order_by(Author.id).all()),
            "filter_by": names(await query.filter_by(name="carol").all()),
            "where": names(await query.where(Author.age >= 45).order_by(Author.id).all()),
            "filter, several conditions": names(
                await query.filter(Author.age > 20, Author.age < 35).order_by(Author.id).all()),
            "order_by desc": names(await query.order_by(Author.age.desc()).limit(2).all()),
            "order_by name": names(await query.order_by("age").limit(2).all()),
            "limit offset": names(await query.order_by(Author.id).offset(2).limit(3).all()),
            "first": (await query.order_by(Author.age.desc()).first()).name,
            "first of nothing": await query.filter_by(name="nobody").first(),
            "count": await query.count(),
            "count filtered": await query.where(Author.age < 30).count(),
            "count with limit": await query.limit(3).count(),
        }

    result = database(steps)
    assert result == {
        "type": AsyncQuery,
        "all": NAMES,
        "filter_by": ["carol"],
        "where": ["Dennis", "edsger"],
        "filter, several conditions": ["Alan", "barbara"],
        "order_by desc": ["edsger", "Dennis"],
        "order_by name": ["ada", "Alan"],
        "limit offset": ["barbara", "Brian", "carol"],
        "first": "edsger",
        "first of nothing": None,
        "count": 7,
        "count filtered": 2,
        "count with limit": 3,
    }


def test_like_and_ilike_take_a_column_name_or_a_column(database):
    async def steps(db, session, Author, Post):
        query = Author.query(session).order_by(Author.id)
        return (names(await query.like("name", "%r%").all()),
                names(await query.like(Author.name, "%a").all()),
                names(await query.ilike("name", "B%").all()),
                names(await query.ilike(Author.name, "%AR%").all()),
                names(await query.like("name", "10!%", escape="!").all()))

    like_r, like_a, ilike_b, ilike_ar, escaped = database(steps)
    assert like_r == ["barbara", "Brian", "carol", "edsger"]
    assert like_a == ["ada", "barbara"]
    assert ilike_b == ["barbara", "Brian"]
    assert ilike_ar == ["barbara", "carol"]
    assert escaped == []


def test_like_is_case_sensitive_on_postgresql(database, database_url):
    async def steps(db, session, Author, Post):
        return names(await Author.query(session).like("name", "b%").all())

    expected = ["barbara"] if database_url.startswith("postgresql") else ["barbara", "Brian"]
    assert database(steps) == expected


def test_join_filters_on_the_joined_model(database):
    async def steps(db, session, Author, Post):
        posts = await (Post.query(session).join(Author).filter(Author.name == "ada")
                       .order_by(Post.title).all())
        authors = await (Author.query(session).join(Post).where(Post.title == "Unix").all())
        outer = await (Author.query(session).join(Post, isouter=True).where(Post.id.is_(None))
                       .count())
        return [p.title for p in posts], names(authors), outer

    assert database(steps) == (["Engine", "Notes"], ["Dennis"], 5)


def test_a_query_is_unchanged_by_the_queries_built_from_it(database):
    async def steps(db, session, Author, Post):
        adults = Author.query(session).where(Author.age >= 40).order_by(Author.id)
        first_two = adults.limit(2)
        named = adults.filter_by(name="edsger")
        return (names(await adults.all()), names(await first_two.all()), names(await named.all()),
                names(await adults.all()))

    assert database(steps) == (["carol", "Dennis", "edsger"], ["carol", "Dennis"], ["edsger"],
                               ["carol", "Dennis", "edsger"])


def test_one_returns_the_only_row_and_raises_for_none_or_many(database):
    async def steps(db, session, Author, Post):
        query = Author.query(session)
        one = await query.filter_by(name="carol").one()
        with pytest.raises(NoResultFound) as none:
            await query.filter_by(name="nobody").one()
        with pytest.raises(MultipleResultsFound) as many:
            await query.where(Author.age > 40).one()
        limited = await query.order_by(Author.id).limit(1).one()
        return (one.name, str(none.value), str(many.value), limited.name,
                await query.filter_by(name="nobody").one_or_none(),
                (await query.filter_by(name="ada").one_or_none()).name)

    one, none, many, limited, missing, present = database(steps)
    assert one == "carol"
    assert none == "Author.query().one(): no row matched, exactly one was required"
    assert many == "Author.query().one(): more than one row matched, exactly one was required"
    assert limited == "ada"
    assert missing is None and present == "ada"


def test_one_or_none_with_many_rows_raises(database):
    async def steps(db, session, Author, Post):
        with pytest.raises(MultipleResultsFound):
            await Author.query(session).one_or_none()
        return "raised"

    assert database(steps) == "raised"


def test_paginate_pages_and_edges(database):
    async def steps(db, session, Author, Post):
        query = Author.query(session).order_by(Author.id)
        default = await query.paginate()
        return {
            "default": (default.page, default.per_page, default.pages, len(default.items)),
            "first": await query.paginate(page=1, per_page=3),
            "middle": await query.paginate(page=2, per_page=3),
            "last": await query.paginate(page=3, per_page=3),
            "past the end": await query.paginate(page=4, per_page=3),
            "exact fit": await query.paginate(page=1, per_page=7),
            "filtered": await query.where(Author.age >= 45).paginate(page=1, per_page=1),
            "empty": await query.filter_by(name="nobody").paginate(),
            "own limit ignored": await query.limit(1).offset(5).paginate(page=1, per_page=4),
        }

    pages = database(steps)

    def summary(page):
        assert isinstance(page, Pagination)
        return (names(page["items"]), page["total"], page["page"], page["pages"],
                page["per_page"], page["has_next"], page["has_prev"])

    assert pages["default"] == (1, 10, 1, 7)
    assert summary(pages["first"]) == (["ada", "Alan", "barbara"], 7, 1, 3, 3, True, False)
    assert summary(pages["middle"]) == (["Brian", "carol", "Dennis"], 7, 2, 3, 3, True, True)
    assert summary(pages["last"]) == (["edsger"], 7, 3, 3, 3, False, True)
    assert summary(pages["past the end"]) == ([], 7, 4, 3, 3, False, True)
    assert summary(pages["exact fit"]) == (NAMES, 7, 1, 1, 7, False, False)
    assert summary(pages["filtered"]) == (["Dennis"], 2, 1, 2, 1, True, False)
    assert summary(pages["empty"]) == ([], 0, 1, 0, 10, False, False)
    assert summary(pages["own limit ignored"]) == (["ada", "Alan", "barbara", "Brian"], 7, 1, 2,
                                                   4, True, False)
    as_dict = dict(pages["last"])
    assert sorted(as_dict) == ["has_next", "has_prev", "items", "page", "pages", "per_page", "total"]
    assert as_dict["pages"] == 3 and pages["last"].pages == 3
    with pytest.raises(KeyError):
        pages["last"]["next"]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"page": 0}, "page must be a positive integer, got 0"),
    ({"page": -1}, "page must be a positive integer, got -1"),
    ({"per_page": 0}, "per_page must be a positive integer, got 0"),
    ({"page": "2"}, "page must be a positive integer, got '2'"),
    ({"per_page": 2.5}, "per_page must be a positive integer, got 2.5"),
    ({"page": True}, "page must be a positive integer, got True"),
])
def test_paginate_refuses_pages_and_sizes_below_one(database, arguments, message):
    async def steps(db, session, Author, Post):
        with pytest.raises(ValueError, match="must be a positive integer") as error:
            await Author.query(session).paginate(**arguments)
        return str(error.value)

    assert database(steps) == message


def test_misuse_is_a_clear_error_when_the_query_is_built(database):
    async def steps(db, session, Author, Post):
        query = Author.query(session)
        errors = []
        for build in (lambda: query.like("nickname", "a%"), lambda: query.ilike("metadata", "a%"),
                      lambda: query.order_by("nickname"), lambda: query.limit(-1),
                      lambda: query.offset("3"), lambda: Author.query("not a session")):
            with pytest.raises((AttributeError, ValueError, TypeError)) as error:
                build()
            errors.append(f"{type(error.value).__name__}: {error.value}")
        return errors

    assert database(steps) == [
        "AttributeError: Author has no column 'nickname'",
        "AttributeError: Author has no column 'metadata'",
        "AttributeError: Author has no column 'nickname'",
        "ValueError: limit() needs an integer >= 0, got -1",
        "ValueError: offset() needs an integer >= 0, got '3'",
        "TypeError: Author.query() needs a database session (an AsyncSession, as "
        "@db.managed_session injects), got 'not a session'",
    ]


def test_without_a_session_the_query_runs_on_the_active_one(database):
    async def steps(db, session, Author, Post):
        # `session` (from db.session()) is the active session here.
        query = Author.query().filter_by(name="ada")
        found = (await query.one()).name
        return found, session.in_transaction()

    assert database(steps) == ("ada", True)


def test_without_any_session_a_query_says_so():
    class Lonely(Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(RuntimeError, match="No active database session"):
        asyncio.run(Lonely.query().all())


def test_a_sync_session_gets_a_sync_query(database):
    async def steps(db, session, Author, Post):
        def work(sync_session):
            query = Author.query(sync_session).order_by(Author.id)
            with pytest.raises(NoResultFound):
                query.filter_by(name="nobody").one()
            page = query.paginate(page=2, per_page=5)
            return (type(query), names(query.ilike("name", "b%").all()), query.first().name,
                    query.filter_by(name="carol").one().name, query.count(),
                    query.filter_by(name="x").one_or_none(), names(page.items), page.pages)

        return await session.run_sync(work)

    assert database(steps) == (Query, ["barbara", "Brian"], "ada", "carol", 7, None,
                               ["Dennis", "edsger"], 2)


def test_the_built_statement_is_available():
    class Gadget(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))

    query = Gadget.query().filter_by(name="x").order_by(Gadget.id).limit(5)
    sql = str(query.statement)
    assert "WHERE gadget.name = :name_1" in sql and "ORDER BY gadget.id" in sql
    assert repr(query).startswith("<AsyncQuery SELECT gadget.id, gadget.name")
