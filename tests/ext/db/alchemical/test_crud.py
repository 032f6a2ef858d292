"""CRUDMixin: the helpers, their session requirement, and how they treat input."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from sqlalchemy import Boolean, DateTime, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, CRUDMixin, FieldError, Model

NO_SESSION = "No active database session. Did you await req.db?"


def define_models():
    class Author(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(40))
        email: Mapped[str | None] = mapped_column(String(80), unique=True)
        role: Mapped[str] = mapped_column(String(20), default="user")
        rating: Mapped[float | None] = mapped_column(Float)
        active: Mapped[bool] = mapped_column(Boolean, default=True)
        joined: Mapped[datetime.datetime | None] = mapped_column(DateTime)

        @property
        def display(self) -> str:
            return f"{self.name} <{self.email}>"

        @property
        def nickname(self) -> str:
            return self.name.lower()

        @nickname.setter
        def nickname(self, value: str) -> None:
            self.name = value.title()

    return Author


@pytest.fixture
def scenario(database_url):
    """Run ``steps(db, Author)`` in a session of its own, on a fresh schema."""
    db = Alchemical(url=database_url)
    Author = define_models()

    def run(steps):
        async def main():
            await db.create_all()
            try:
                async with db.session() as session:
                    return await steps(session, Author)
            finally:
                await db.dispose()

        return asyncio.run(main())

    return run


def test_create_all_find_get(scenario):
    async def steps(session, Author):
        ada = await Author.create(name="Ada", email="ada@example.com")
        grace = await Author.create(name="Grace", email="grace@example.com", rating="4.5")
        await session.commit()
        return (ada.id, grace.id, grace.rating, [a.name for a in await Author.all()],
                (await Author.find(email="grace@example.com")).name,
                await Author.find(email="nobody@example.com"),
                (await Author.get(ada.id)).name, (await Author.get(str(grace.id))).name,
                await Author.get(999), await Author.get("abc"), await Author.get(None),
                await Author.find(id="abc"), await Author.find(id=2**70),
                (await Author.find(name="Ada", role="user")).email)

    (ada_id, grace_id, rating, names, found, missing, by_id, by_str_id, absent, bad_id, none_id,
     bad_find, huge_find, two_criteria) = scenario(steps)
    assert isinstance(ada_id, int) and grace_id == ada_id + 1
    assert rating == 4.5
    assert names == ["Ada", "Grace"]
    assert (found, missing, by_id, by_str_id) == ("Grace", None, "Ada", "Grace")
    assert absent is bad_id is none_id is bad_find is huge_find is None
    assert two_criteria == "ada@example.com"


def test_save_patch_modify_destroy(scenario):
    async def steps(session, Author):
        author = Author(name="Lin")
        assert await author.save() is author
        assert author.id is not None
        assert await author.patch(role="admin", rating=5, unknown="ignored", nickname="LIN LI") is author
        assert await author.modify(email="lin@example.com") is author
        await session.commit()
        session.expunge_all()
        stored = await Author.get(author.id)
        fields = (stored.role, stored.rating, stored.email, stored.name, stored.active)
        await stored.destroy()
        await session.commit()
        return fields, await Author.get(author.id), hasattr(stored, "unknown")

    fields, gone, has_unknown = scenario(steps)
    assert fields == ("admin", 5.0, "lin@example.com", "Lin Li", True)
    assert gone is None
    assert has_unknown is False


def test_helpers_flush_but_never_commit(scenario):
    async def steps(session, Author):
        await Author.create(name="Temp")
        await session.rollback()
        return await Author.all()

    assert scenario(steps) == []


def test_values_are_checked_and_converted(scenario):
    async def steps(session, Author):
        errors = []
        for values in ({"name": "A", "bogus": 1, "save": 2}, {"name": 42}, {"name": "x" * 41},
                       {"name": "A", "rating": "high", "active": "maybe"},
                       {"name": None}, {"name": "A", "joined": "yesterday"}, {"name": "A", "display": "x"}):
            with pytest.raises(FieldError) as caught:
                await Author.create(**values)
            errors.append(caught.value.errors)
        author = await Author.create(name="A", rating="3", active="false", joined="2024-05-01T10:00:00")
        with pytest.raises(FieldError) as caught:
            await author.patch(rating=True)
        errors.append(caught.value.errors)
        with pytest.raises(FieldError) as caught:
            await Author.find(nickname="a")  # a property, not a column: cannot be searched
        errors.append(caught.value.errors)
        return errors, (author.rating, author.active, author.joined)

    errors, converted = scenario(steps)
    assert errors == [
        {"bogus": ["Unknown field."], "save": ["Unknown field."]},
        {"name": ["Expected a string."]},
        {"name": ["At most 40 characters."]},
        {"rating": ["Expected a number."], "active": ["Expected true or false."]},
        {"name": ["May not be null."]},
        {"joined": ["Expected a date-time."]},
        {"display": ["Unknown field."]},
        {"rating": ["Expected a number."]},
        {"nickname": ["Unknown field."]},
    ]
    assert converted == (3.0, False, datetime.datetime(2024, 5, 1, 10, 0))


def test_field_error_message_names_the_model_and_fields(scenario):
    async def steps(session, Author):
        try:
            await Author.create(name=1, bogus=2)
        except FieldError as exc:
            return str(exc), exc.model is Author

    message, same_model = scenario(steps)
    assert message == "Invalid values for Author: name: Expected a string.; bogus: Unknown field."
    assert same_model


@pytest.mark.parametrize("call", ["save", "patch", "destroy", "create", "all", "find", "get", "modify"])
def test_every_helper_needs_an_active_session(call):
    Author = define_models()
    calls = {
        "save": lambda: Author(name="x").save(),
        "patch": lambda: Author(name="x").patch(name="y"),
        "modify": lambda: Author(name="x").modify(name="y"),
        "destroy": lambda: Author(name="x").destroy(),
        "create": lambda: Author.create(name="x"),
        "all": Author.all,
        "find": lambda: Author.find(name="x"),
        "get": lambda: Author.get(1),
    }
    with pytest.raises(RuntimeError, match="session") as caught:
        asyncio.run(calls[call]())
    assert str(caught.value) == NO_SESSION


def test_in_a_request_without_await_req_db_the_error_is_a_500(make_app, caplog):
    app, _db = make_app()
    Author = define_models()

    @app.route("/authors")
    async def forgot(req, resp):
        resp.media = [a.name for a in await Author.all()]

    response = app.client.get("/authors")
    assert response.status_code == 500
    assert f"RuntimeError: {NO_SESSION}" in caplog.text


def test_docs_usage_in_requests_and_4xx_for_bad_input(make_app):
    app, db = make_app()
    Author = define_models()

    @app.route("/authors", methods=["POST"])
    async def create_author(req, resp):
        session = await req.db
        author = await Author.create(**await req.media())
        await session.commit()
        resp.status_code = 201
        resp.media = {"id": author.id}

    @app.route("/authors/{id}/promote", methods=["POST"])
    async def promote(req, resp, id):
        session = await req.db
        author = await Author.find(id=id)
        if not author:
            resp.status_code = 404
            return
        await author.patch(role="admin")
        await session.commit()
        resp.media = {"status": "promoted", "role": author.role}

    client = app.client
    created = client.post("/authors", json={"name": "Ada", "email": "ada@example.com"})
    assert created.status_code == 201
    author_id = created.json()["id"]
    assert client.post(f"/authors/{author_id}/promote").json() == {"status": "promoted", "role": "admin"}
    assert client.post("/authors/abc/promote").status_code == 404
    assert client.post("/authors/99999999999999999999999/promote").status_code == 404
    bad = client.post("/authors", json={"name": ["not", "a", "string"], "is_admin": True})
    assert bad.status_code == 400
    assert bad.json() == {"errors": {"name": ["Expected a string."], "is_admin": ["Unknown field."]}}
    duplicate = client.post("/authors", json={"name": "Ada 2", "email": "ada@example.com"})
    assert duplicate.status_code == 409
    assert db.get_engine().pool.checkedout() == 0
