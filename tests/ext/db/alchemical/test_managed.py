"""@db.managed_session and @db.readonly_session (PyJolt's session decorators):
injection, commit, rollback, closing, read-only refusal, sync views, methods,
misuse, and an end-to-end run under uvicorn. SQLite and PostgreSQL."""

from __future__ import annotations

import inspect

import httpx
import pytest
import yaml
from sqlalchemy import String, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

import dyne
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model, ReadOnlyError
from tests.conftest import serve_in_thread


def define_user():
    class User(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(50), unique=True)

    return User


def stored_names(db, User) -> list[str]:
    """The names in the table, read by a fresh session on the app's event loop."""
    from dyne.testing import _shared_portal

    async def read():
        async with db.session() as session:
            return sorted((await session.scalars(select(User.name))).all())

    return _shared_portal().call(read)


def run(coroutine_function, *args):
    """Run a coroutine on the loop the app's engines live on."""
    from dyne.testing import _shared_portal

    return _shared_portal().call(coroutine_function, *args)


def test_commits_on_success_rolls_back_on_error_and_always_closes(make_app):
    app, db = make_app()
    User = define_user()
    seen = {}

    @app.route("/users", methods=["POST"])
    @db.managed_session
    async def create_user(req, resp, *, session):
        seen["session"] = session
        data = await req.media()
        user = User(name=data["name"])
        session.add(user)
        await session.flush()  # the id is known before the commit
        if data.get("crash"):
            raise RuntimeError("after the flush")
        if data.get("abort"):
            dyne.abort(422, "changed my mind")
        resp.status_code = 201
        resp.media = {"id": user.id, "name": user.name}

    client = app.client
    created = client.post("/users", json={"name": "ada"})
    assert created.status_code == 201 and created.json()["name"] == "ada"
    assert isinstance(created.json()["id"], int)
    assert isinstance(seen["session"], AsyncSession)
    assert client.post("/users", json={"name": "crash", "crash": True}).status_code == 500
    assert client.post("/users", json={"name": "abort", "abort": True}).status_code == 422
    assert client.post("/users", json={"name": "ada"}).status_code == 409  # flush fails: rolled back
    assert stored_names(db, User) == ["ada"]
    assert db.get_engine().pool.checkedout() == 0
    # The session was closed: it holds no objects and no transaction any more.
    assert not seen["session"].in_transaction() and list(seen["session"]) == []


def test_the_injected_session_is_the_active_one(make_app):
    """CRUDMixin, Model.query() and @db.transaction helpers (without a
    request) work on the managed session and join its transaction."""
    app, db = make_app()
    User = define_user()

    @db.transaction
    async def add(name):
        return await User.create(name=name)

    @app.route("/pair/{fail}", methods=["POST"])
    @db.managed_session
    async def pair(req, resp, *, fail, session):
        await add("first")                     # joins: not committed on its own
        await User.create(name="second")
        assert {u.name for u in await User.query().all()} == {"first", "second"}
        assert session.in_transaction()
        if fail == "yes":
            raise RuntimeError("both are rolled back")
        resp.media = {"count": await User.query(session).count()}

    client = app.client
    assert client.post("/pair/yes").status_code == 500
    assert stored_names(db, User) == []
    assert client.post("/pair/no").json() == {"count": 2}
    assert stored_names(db, User) == ["first", "second"]


def test_each_call_gets_its_own_session_not_the_requests(make_app):
    app, db = make_app()
    define_user()
    sessions = []

    @app.route("/two")
    @db.readonly_session
    async def two(req, resp, *, session):
        sessions.append(session)
        sessions.append(await req.db)
        resp.media = {"same": sessions[0] is sessions[1]}

    assert app.client.get("/two").json() == {"same": False}
    assert app.client.get("/two").status_code == 200
    assert sessions[0] is not sessions[2]


def test_readonly_session_refuses_writes(make_app, database_url):
    app, db = make_app()
    User = define_user()
    seed(app, db, User, "existing")
    outcomes = {}

    @app.route("/users")
    @db.readonly_session
    async def list_users(req, resp, *, session):
        resp.media = [u.name for u in await User.query(session).order_by(User.id).all()]

    @app.route("/sneaky", methods=["POST"])
    @db.readonly_session
    async def sneaky(req, resp, *, session):
        session.add(User(name="sneaky"))
        resp.media = {"pending": True}      # never flushed: discarded at close

    @app.route("/flush", methods=["POST"])
    @db.readonly_session
    async def flush(req, resp, *, session):
        session.add(User(name="flushed"))
        try:
            await session.commit()
        except ReadOnlyError as exc:
            outcomes["commit"] = str(exc)
        await session.rollback()
        (await User.query(session).one()).name = "renamed"
        await session.flush()

    @app.route("/raw", methods=["POST"])
    @db.readonly_session
    async def raw(req, resp, *, session):
        try:
            await session.execute(text("INSERT INTO \"user\" (name) VALUES ('raw')"))
            await session.commit()
        except DBAPIError as exc:
            outcomes["raw"] = str(exc.orig)

    client = app.client
    assert client.get("/users").json() == ["existing"]
    assert client.post("/sneaky").json() == {"pending": True}
    assert client.post("/flush").status_code == 500
    assert outcomes["commit"].startswith("This session is read-only")
    assert client.post("/raw").status_code == 200
    if database_url.startswith("postgresql"):
        assert "read-only transaction" in outcomes["raw"]
        assert stored_names(db, User) == ["existing"]
    else:  # SQLite has no read-only transactions: only ORM writes are refused there
        assert "raw" not in outcomes
        assert stored_names(db, User) == ["existing", "raw"]
    assert db.get_engine().pool.checkedout() == 0


def seed(app, db, User, *names):
    """Start the app (engines, tables) and store users with ``names``."""
    app.client.start()

    async def add():
        async with db.begin() as session:
            session.add_all([User(name=name) for name in names])

    run(add)


def test_sync_views_get_a_sync_session(make_app):
    app, db = make_app()
    User = define_user()
    types = []

    @app.route("/users", methods=["POST"])
    @db.managed_session
    def create_user(req, resp, *, session):
        types.append(type(session))
        session.add(User(name=req.params["name"]))
        session.flush()
        if req.params.get("crash"):
            raise RuntimeError("rolled back")
        resp.media = {"users": User.query(session).count()}

    @app.route("/users")
    @db.readonly_session
    def list_users(req, resp, *, session):
        page = User.query(session).order_by(User.name).paginate(page=1, per_page=1)
        resp.media = {"first": page.items[0].name, "pages": page.pages}

    client = app.client
    assert client.post("/users?name=bo").json() == {"users": 1}
    assert client.post("/users?name=al&crash=1").status_code == 500
    assert client.post("/users?name=al").json() == {"users": 2}
    assert client.get("/users").json() == {"first": "al", "pages": 2}
    assert all(issubclass(t, Session) for t in types)
    assert stored_names(db, User) == ["al", "bo"]
    assert db.get_engine().pool.checkedout() == 0


def test_methods_of_a_plain_class(make_app):
    """PyJolt's form: methods ``(self, req, ..., session)``, called directly."""
    app, db = make_app()
    User = define_user()

    class UsersApi:
        def __init__(self):
            self.calls = 0

        @db.managed_session
        async def create_user(self, req, name: str, session: AsyncSession):
            self.calls += 1
            session.add(User(name=name))
            await session.flush()
            if name == "fail":
                raise ValueError("rolled back")
            return await User.query(session).count()

        @db.readonly_session
        async def get_user(self, req, user_id: int, session: AsyncSession):
            return (await User.query(session).filter_by(id=user_id).one()).name

    api = UsersApi()

    async def scenario():
        counted = await api.create_user("req", "ada")
        with pytest.raises(ValueError, match="rolled back"):
            await api.create_user("req", name="fail")
        user_id = await _first_id(db, User)
        return counted, await api.get_user(None, user_id), api.calls

    app.client.start()  # engines, tables
    assert run(scenario) == (1, "ada", 2)
    assert stored_names(db, User) == ["ada"]


async def _first_id(db, User):
    async with db.session() as session:
        return (await session.scalars(select(User.id))).first()


def test_class_based_views(make_app):
    app, db = make_app()
    User = define_user()

    @app.route("/users")
    class Users:
        @db.managed_session
        async def on_post(self, req, resp, *, session):
            session.add(User(name=(await req.media())["name"]))
            resp.status_code = 201

        @db.readonly_session
        async def on_get(self, req, resp, *, session):
            resp.media = [u.name for u in await User.query(session).all()]

    assert app.client.post("/users", json={"name": "cy"}).status_code == 201
    assert app.client.get("/users").json() == ["cy"]


def test_a_session_passed_by_the_caller_is_used_as_it_is(make_app):
    app, db = make_app()
    User = define_user()

    @db.managed_session
    async def add(name, *, session):
        session.add(User(name=name))
        await session.flush()
        return session

    @db.readonly_session
    async def peek(*, session):
        return [u.name for u in await User.query(session).all()]

    @db.readonly_session
    async def sneaky(*, session):
        session.add(User(name="sneaky"))
        await session.flush()

    async def scenario():
        async with db.session() as mine:
            used = await add("kept", session=mine)
            seen = await peek(session=mine)
            with pytest.raises(ReadOnlyError):
                await sneaky(session=mine)
            await mine.rollback()
            await add("after", session=mine)     # read-only only for the call
            still_open = mine.in_transaction()
            await mine.commit()
        return used is mine, seen, still_open

    app.client.start()
    assert run(scenario) == (True, ["kept"], True)
    assert stored_names(db, User) == ["after"]


def test_outside_a_request_each_call_has_its_own_session(make_app):
    app, db = make_app()
    User = define_user()

    @db.managed_session
    async def add(name, *, session):
        session.add(User(name=name))

    app.client.start()
    run(add, "script")
    assert stored_names(db, User) == ["script"]


def test_custom_session_name_and_signature_without_the_session(make_app):
    app, db = make_app()
    User = define_user()

    @app.route("/users/{user_id:int}")
    @db.readonly_session(session_name="db_session")
    async def get_user(req, resp, *, user_id, db_session):
        resp.media = {"name": (await User.query(db_session).filter_by(id=user_id).one()).name}

    @db.managed_session()
    async def with_parentheses(req, *, session):
        return session

    assert list(inspect.signature(get_user).parameters) == ["req", "resp", "user_id"]
    assert list(inspect.signature(with_parentheses).parameters) == ["req"]
    assert get_user.__name__ == "get_user"
    seed(app, db, User, "ada")
    assert app.client.get("/users/1").json() == {"name": "ada"}


def test_misuse_fails_when_decorating(make_app):
    app, db = make_app()

    with pytest.raises(TypeError, match="has no parameter 'session' to receive the session"):
        @db.managed_session
        async def no_session(req, resp):
            pass

    with pytest.raises(TypeError, match="must accept a keyword argument"):
        @db.readonly_session
        async def positional_only(req, resp, session, /):
            pass

    with pytest.raises(ValueError, match="session_name must be a parameter name"):
        db.managed_session(session_name="not a name")

    with pytest.raises(TypeError, match="decorates a function or method"):
        db.readonly_session(42)

    @db.managed_session
    async def takes_any_keyword(req, resp, **kwargs):
        resp.media = {"injected": isinstance(kwargs["session"], AsyncSession)}

    app.add_route("/any", takes_any_keyword)
    assert app.client.get("/any").json() == {"injected": True}


def test_no_result_found_escaping_a_view_is_a_404(make_app):
    app, db = make_app()
    User = define_user()

    @app.route("/users/{user_id:int}")
    @db.readonly_session
    async def get_user(req, resp, *, user_id, session):
        resp.media = {"name": (await User.query(session).filter_by(id=user_id).one()).name}

    @app.route("/many")
    @db.readonly_session
    async def many(req, resp, *, session):
        await User.query(session).one()

    seed(app, db, User, "ada", "bo")
    assert app.client.get("/users/1").json() == {"name": "ada"}
    missing = app.client.get("/users/99")
    assert missing.status_code == 404
    assert "Not Found" in missing.text
    assert app.client.get("/many").status_code == 500   # a bug, not a missing row


def test_end_to_end_over_http(make_app):
    """Under uvicorn with httpx: create, read, a 404, a page, a rollback."""
    app, db = make_app()
    User = define_user()

    @app.route("/users", methods=["POST"])
    @db.managed_session
    async def create_user(req, resp, *, session):
        data = await req.media()
        user = User(name=data["name"])
        session.add(user)
        await session.flush()
        if data.get("fail"):
            raise RuntimeError("rolled back")
        resp.status_code = 201
        resp.media = {"id": user.id, "name": user.name}

    @app.route("/users/{user_id:int}")
    @db.readonly_session
    async def get_user(req, resp, *, user_id, session):
        user = await User.query(session).filter_by(id=user_id).one()
        resp.media = {"id": user.id, "name": user.name}

    @app.route("/users")
    @db.readonly_session
    async def list_users(req, resp, *, session):
        try:
            page_number = int(req.params.get("page", "1"))
            page = await User.query(session).order_by(User.id).paginate(page=page_number, per_page=2)
        except ValueError as exc:
            dyne.abort(400, str(exc))
        resp.media = page.as_dict(items=[u.name for u in page.items])

    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        ids = [client.post("/users", json={"name": name}).json()["id"] for name in ("a", "b", "c")]
        assert client.post("/users", json={"name": "d", "fail": True}).status_code == 500
        assert client.get(f"/users/{ids[1]}").json() == {"id": ids[1], "name": "b"}
        assert client.get("/users/999999").status_code == 404
        assert client.get("/users?page=2").json() == {
            "items": ["c"], "total": 3, "page": 2, "pages": 2, "per_page": 2,
            "has_next": False, "has_prev": True}
        bad = client.get("/users?page=0")
        assert bad.status_code == 400 and "page must be a positive integer" in bad.text
    assert stored_names_after_stop(db, User) == ["a", "b", "c"]


def stored_names_after_stop(db, User):
    import asyncio

    async def read():
        try:
            async with db.session() as session:
                return sorted((await session.scalars(select(User.name))).all())
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_concurrent_managed_requests_lose_nothing_and_leak_nothing(database_url):
    """Through a real server: each request writes in its own managed session;
    one in ten fails after flushing and must leave nothing behind."""
    import asyncio

    requests = 30 if database_url.startswith("sqlite") else 120  # SQLite: one writer at a time
    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = database_url
    app.config["ALCHEMICAL_ENGINE_OPTIONS"] = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 60}
    db = Alchemical(app)
    User = define_user()
    app.on_event("startup")(db.create_all)

    @app.route("/users/{n:int}", methods=["POST"])
    @db.managed_session
    async def create(req, resp, *, n, session):
        session.add(User(name=f"user {n}"))
        await session.flush()
        await asyncio.sleep(0.01)  # hold the transaction open while others run
        if n % 10 == 0:
            raise RuntimeError("this request fails after writing")

    @app.route("/state")
    @db.readonly_session
    async def state(req, resp, *, session):
        resp.media = {"rows": await User.query(session).count(),
                      "names": sorted(u.name for u in await User.query(session).all())}

    async def hammer(base):
        limits = httpx.Limits(max_connections=requests)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
            responses = await asyncio.gather(*(client.post(f"/users/{n}") for n in range(1, requests + 1)))
            return [r.status_code for r in responses], (await client.get("/state")).json()

    with serve_in_thread(app) as base:
        statuses, seen = asyncio.run(hammer(base))
        checked_out = db.get_engine().pool.checkedout()
    kept = [n for n in range(1, requests + 1) if n % 10]
    assert statuses.count(500) == requests - len(kept)
    assert statuses.count(200) == len(kept)
    assert seen == {"rows": len(kept), "names": sorted(f"user {n}" for n in kept)}
    assert checked_out == 0


@pytest.mark.parametrize("order", ["input outside", "input inside"])
def test_combines_with_input_and_output_in_either_order(make_app, order):
    from pydantic import BaseModel

    from dyne.ext.io.pydantic import input, output
    from dyne.ext.openapi import OpenAPI

    app, db = make_app()
    OpenAPI(app)
    User = define_user()

    class UserIn(BaseModel):
        name: str

    class UserOut(UserIn):
        id: int

    async def create_user(req, resp, *, data, session):
        user = User(name=data["name"])
        session.add(user)
        await session.flush()
        resp.obj = user

    if order == "input outside":
        view = input(UserIn)(output(UserOut, status_code=201)(db.managed_session(create_user)))
    else:
        view = db.managed_session(input(UserIn)(output(UserOut, status_code=201)(create_user)))
    app.add_route("/users", view, methods=["POST"])

    created = app.client.post("/users", json={"name": "ada"})
    assert created.status_code == 201 and created.json()["name"] == "ada"
    assert app.client.post("/users", json={"nom": "x"}).status_code == 400
    assert stored_names(db, User) == ["ada"]
    document = yaml.safe_load(app.client.get("/schema.yml").text)
    operation = document["paths"]["/users"]["post"]
    assert "UserIn" in str(operation["requestBody"]) and "session" not in str(operation)
