"""The examples of Dyne's documentation (shared seed 001) for the database:
"SQLAlchemy Integration (Alchemical)", "CRUDMixin (Active Record Utilities)",
"Transaction Decorator", and the ORM examples of "Response Serialization".

Each example is kept exactly as the documentation prints it, in a string, and
executed. The documentation's fragments use names defined elsewhere on the
page (``app``, ``db``, ``abort``, a ``Book`` model, SQLAlchemy's ``Column``...);
those are provided in the namespace. Where an example cannot run as printed,
the smallest fix is applied and noted next to it.
"""

from __future__ import annotations

import sys
import textwrap
import types
from typing import Any

import pytest
from sqlalchemy import Column, Float, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.exceptions import abort
from dyne.ext.db.alchemical import CRUDMixin, Model


def run(source: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute an example as a module named ``docs_example`` would run it
    (without this file's ``from __future__`` imports)."""
    namespace.setdefault("__name__", "docs_example")
    exec(compile(textwrap.dedent(source), "<dyne docs>", "exec", dont_inherit=True), namespace)
    return namespace


def run_async(source: str, namespace: dict[str, Any]) -> Any:
    """Run a fragment that uses top-level ``await`` as the body of a coroutine;
    returns the coroutine, whose result is the fragment's local names."""
    body = textwrap.indent(textwrap.dedent(source).strip("\n"), "    ")
    run(f"async def __fragment__():\n{body}\n    return locals()\n", namespace)
    return namespace["__fragment__"]()


def on_client_loop(coroutine_function):
    """Run ``coroutine_function()`` on the test clients' loop (where the app's engines live)."""
    from dyne.testing import _shared_portal

    return _shared_portal().call(coroutine_function)


@pytest.fixture
def docs_env(tmp_path, monkeypatch, database_url):
    """A temporary working directory; the database URL given through the
    environment, which wins over the examples' own ``sqlite:///app.db``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", database_url)
    apps = []
    yield apps
    for app in apps:
        if app._client is not None:
            app._client.close()


# -- SQLAlchemy Integration (Alchemical) -------------------------------------------------------

ENV_FILE = '''
ALCHEMICAL_DATABASE_URL="sqlite:///app.db"
ALCHEMICAL_AUTOCOMMIT=true
'''

INITIALIZING = '''
from dyne import App
from dyne.ext.db.alchemical import Alchemical

app = App()
db = Alchemical(app)
'''

ATTACHED_TO = '''
app.state.db
'''

DEFINING_MODELS = '''

from sqlalchemy.orm import Mapped, mapped_column
from dyne.ext.db.alchemical import Model
from sqlalchemy import String

class User(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
'''

CREATING_TABLES = '''
@app.on_event("startup")
async def create_tables():
    await db.create_all()
'''

ACCESSING_THE_SESSION = '''
@app.route("/users")
async def list_users(req, resp):
    session = await req.db

    result = await session.execute(
        User.select()
    )
    users = result.scalars().all()

    resp.media = [
        {"id": u.id, "username": u.username}
        for u in users
    ]
'''

CREATING_RECORDS = '''
@app.route("/users", methods=["POST"])
async def create_user(req, resp):
    data = await req.media()

    if "username" not in data:
        abort(400, "username required")

    user = User(username=data["username"])

    session = await req.db
    session.add(user)
    await session.commit() # Or not at all if auto commit is True

    resp.status_code = 201
    resp.media = {"message": "User created"}
'''

AUTOCOMMIT_SETTING = '''
ALCHEMICAL_AUTOCOMMIT=true
'''


def test_integration_section_examples(docs_env, tmp_path, database_url, monkeypatch):
    # The .env example, in the working directory where App() finds it. (The
    # database URL of the environment wins over the file's, as documented in
    # Configuration, so the same example runs on PostgreSQL too.)
    (tmp_path / ".env").write_text(textwrap.dedent(ENV_FILE).lstrip())
    namespace = run(INITIALIZING, {"abort": abort})
    app, db = namespace["app"], namespace["db"]
    docs_env.append(app)
    assert eval(ATTACHED_TO.strip(), namespace) is db
    assert db.autocommit is True  # ALCHEMICAL_AUTOCOMMIT=true from the .env file
    for example in (DEFINING_MODELS, CREATING_TABLES, ACCESSING_THE_SESSION, CREATING_RECORDS):
        run(example, namespace)

    client = app.client
    assert client.get("/users").json() == []
    created = client.post("/users", json={"username": "ada"})
    assert (created.status_code, created.json()) == (201, {"message": "User created"})
    missing = client.post("/users", json={"name": "no username"})
    assert (missing.status_code, missing.text) == (400, "username required")
    assert client.post("/users", json={"username": "ada"}).status_code == 409  # unique
    assert client.post("/users", content=b"[1, 2]", headers={"content-type": "application/json"}
                       ).status_code == 400  # a list has no "username": the example's own check
    assert client.get("/users").json() == [{"id": 1, "username": "ada"}]
    assert db.get_engine().pool.checkedout() == 0


def test_the_env_file_example_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(textwrap.dedent(ENV_FILE).lstrip())
    namespace = run(INITIALIZING, {})
    db = namespace["db"]
    assert db.get_engine().url.render_as_string() == "sqlite+aiosqlite:///app.db"
    assert db.autocommit is True
    (tmp_path / ".env").write_text(textwrap.dedent(AUTOCOMMIT_SETTING).lstrip()
                                   + 'ALCHEMICAL_DATABASE_URL="sqlite:///other.db"\n')
    assert run(INITIALIZING, {})["db"].autocommit is True


BINDS = '''
ALCHEMICAL_BINDS = {
    "analytics": "postgresql+asyncpg://..."
}
'''

BIND_KEY = '''
class Event(Model):
    __bind_key__ = "analytics"
'''
# As printed, Event has no columns, and SQLAlchemy refuses to map a class
# without a primary key. The smallest fix: one primary-key column, as any
# model has (the docs elide the model's columns).
BIND_KEY_FIXED = BIND_KEY + '''    id: Mapped[int] = mapped_column(primary_key=True)
'''


def test_binds_examples(tmp_path):
    config = run("class Config:\n" + textwrap.indent(textwrap.dedent(BINDS), "    "), {})["Config"]
    app = dyne.App()
    app.config.from_object(config)
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'main.db'}"
    from dyne.ext.db.alchemical import Alchemical

    db = Alchemical(app)
    namespace = run(BIND_KEY_FIXED, {"Model": Model, "Mapped": Mapped, "mapped_column": mapped_column})
    Event = namespace["Event"]
    assert db.get_engine("analytics").url.drivername == "postgresql+asyncpg"
    assert db.engine_for_metadata(Event.metadata) is db.get_engine("analytics")
    assert db.engine_for_metadata(Model.metadata) is db.get_engine()
    with pytest.raises(Exception, match="primary key"):
        run(BIND_KEY.replace("Event", "Unmappable"), {"Model": Model})


# -- CRUDMixin (Active Record Utilities) ----------------------------------------------------------

SESSION_REQUIREMENT = '''
await req.db
'''

SAVE = '''
user = User(name="Dyne")
await user.save()
'''

PATCH = '''
await user.patch(name="Updated Name", role="admin")
'''

DESTROY = '''
await user.destroy()
'''

CREATE = '''
user = await User.create(name="New User")
'''

ALL = '''
users = await User.all()
'''

FIND = '''
user = await User.find(email="test@example.com")
'''

USAGE_MODEL = '''
class User(CRUDMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
'''

USAGE_CREATE = '''
@app.route("/users", methods=["POST"])
async def create_user(req, resp):
    await req.db
    user = await User.create(name="Dyne User")
    resp.media = {"id": user.id}
'''

USAGE_UPDATE = '''
@app.route("/user/{id}/promote", methods=["POST"])
async def promote_user(req, resp, id):
    await req.db

    user = await User.find(id=int(id))
    if not user:
        resp.status_code = 404
        return

    await user.patch(role="admin")
    resp.media = {"status": "promoted"}
'''

MISSING_SESSION_ERROR = "RuntimeError: No active database session. Did you await req.db?"


def test_crud_method_examples(make_app):
    """The method examples, in order, on a user model that has the attributes
    they use (name, role, email)."""
    app, _db = make_app()

    class User(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(80))
        role: Mapped[str] = mapped_column(String(20), default="user")
        email: Mapped[str | None] = mapped_column(String(80))

    results = {}

    @app.route("/walkthrough", methods=["POST"])
    async def walkthrough(req, resp):
        namespace = {"req": req, "User": User}
        await run_async(SESSION_REQUIREMENT, namespace)
        saved = await run_async(SAVE, namespace)
        results["saved id"] = saved["user"].id
        namespace["user"] = saved["user"]
        await run_async(PATCH, namespace)
        results["patched"] = (saved["user"].name, saved["user"].role)
        await run_async(DESTROY, namespace)
        results["after destroy"] = await User.get(saved["user"].id)
        created = await run_async(CREATE, namespace)
        await User.create(name="Tester", email="test@example.com")
        results["all"] = [u.name for u in (await run_async(ALL, namespace))["users"]]
        results["found"] = (await run_async(FIND, namespace))["user"].name
        session = await req.db
        await session.commit()
        resp.media = {"created": created["user"].id}

    assert app.client.post("/walkthrough").status_code == 200
    assert isinstance(results.pop("saved id"), int)
    assert results == {"patched": ("Updated Name", "admin"), "after destroy": None,
                       "all": ["New User", "Tester"], "found": "Tester"}


def test_crud_usage_examples(make_app, caplog):
    app, _db = make_app()
    namespace = run(USAGE_MODEL, {"CRUDMixin": CRUDMixin, "Model": Model, "Mapped": Mapped,
                                  "mapped_column": mapped_column, "app": app})
    run(USAGE_CREATE, namespace)
    run(USAGE_UPDATE, namespace)
    client = app.client
    created = client.post("/users")
    assert created.json() == {"id": 1}
    # No commit in the example and autocommit is off: the user was not kept.
    assert client.post("/user/1/promote").status_code == 404
    app_with_autocommit, _ = make_app(ALCHEMICAL_AUTOCOMMIT="true")
    run(USAGE_CREATE, {**namespace, "app": app_with_autocommit})
    run(USAGE_UPDATE, {**namespace, "app": app_with_autocommit})
    client = app_with_autocommit.client
    user_id = client.post("/users").json()["id"]  # 1 on SQLite; PostgreSQL's sequence moved on
    # User has no role attribute: patch() updates only existing attributes.
    assert client.post(f"/user/{user_id}/promote").json() == {"status": "promoted"}
    assert client.post("/user/70/promote").status_code == 404


def test_crud_error_handling_example():
    class User(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    import asyncio

    with pytest.raises(RuntimeError, match="session") as caught:
        asyncio.run(User.all())
    assert f"{type(caught.value).__name__}: {caught.value}" == MISSING_SESSION_ERROR


# -- Transaction Decorator -------------------------------------------------------------------------

CREATE_WITHOUT_DECORATOR = '''
@app.route("/create", methods=["POST"])
async def create(req, resp):
    """Create book"""

    data = req.media()

    session = await req.db
    book = await Book.create(**data)
    await session.commit()

    resp.media = {"id": book.id, "title": book.title, "price": book.price}
'''

CREATE_WITH_DECORATOR = '''
@app.route("/create", methods=["POST"])
@db.transaction
async def create(req, resp):
    """Create book"""

    data = req.media()
    book = await Book.create(**data)

    resp.media = {"id": book.id, "title": book.title, "price": book.price}
'''

UPDATE_WITHOUT_DECORATOR = '''
@app.route("/update-price/{id}", methods=["PATCH"])
async def update_book_price(req, resp, id):
    """Update book price."""

    data = req.media()
    session = await req.db

    book = await Book.get(id)
    if not book:
        abort(404)

    await book.modify(**data)
    await session.commit()

    resp.status_code = 201
    resp.media = {"id": book.id, "title": book.title, "price": book.price}
'''

UPDATE_WITH_DECORATOR = '''
@app.route("/update-price/{id}", methods=["PATCH"])
@db.transaction
async def update_book_price(req, resp, id):
    """Update book price."""

    data = req.media()
    book = await Book.get(id)
    if not book:
        abort(404)

    await book.patch(**data)

    resp.status_code = 201
    resp.media = {"id": book.id, "title": book.title, "price": book.price}
'''


def define_book():
    # As in the documentation's OpenAPI example.
    class Book(CRUDMixin, Model):  # SQLAlchemy Model
        __tablename__ = "books"
        id = Column(Integer, primary_key=True)
        price = Column(Float)
        title = Column(String)
        cover = Column(String, nullable=True)

    return Book


@pytest.mark.parametrize("variant", ["without decorator", "with decorator"])
def test_transaction_examples(make_app, variant):
    app, db = make_app()
    Book = define_book()
    namespace = {"app": app, "db": db, "Book": Book, "abort": abort}
    if variant == "without decorator":
        run(CREATE_WITHOUT_DECORATOR, namespace)
        run(UPDATE_WITHOUT_DECORATOR, namespace)
    else:
        run(CREATE_WITH_DECORATOR, namespace)
        run(UPDATE_WITH_DECORATOR, namespace)

    client = app.client
    created = client.post("/create", json={"title": "Dune", "price": 9.99})
    assert created.status_code == 200
    assert created.json() == {"id": 1, "title": "Dune", "price": 9.99}
    updated = client.patch("/update-price/1", json={"price": 12.5})
    assert (updated.status_code, updated.json()) == (201, {"id": 1, "title": "Dune", "price": 12.5})
    assert client.patch("/update-price/2", json={"price": 1}).status_code == 404
    assert client.patch("/update-price/abc", json={"price": 1}).status_code == 404
    assert client.patch("/update-price/1", json={"price": "free"}).json() == {
        "errors": {"price": ["Expected a number."]}}
    assert client.post("/create", json={"title": "X", "isbn": "123"}).status_code == 400
    assert client.post("/create", content=b"{", headers={"content-type": "application/json"}
                       ).status_code == 400

    async def stored():
        async with db.session() as session:
            return [(b.title, b.price) for b in (await session.scalars(select(Book))).all()]

    assert on_client_loop(stored) == [("Dune", 12.5)]
    assert db.get_engine().pool.checkedout() == 0


# -- Response Serialization (the ORM examples) -------------------------------------------------------

# The two ORM examples of "Response Serialization", kept once, as printed, by the IO tests.
from tests.ext.io.test_doc_examples import MARSHMALLOW_OUTPUT, PYDANTIC_OUTPUT  # noqa: E402

# Both examples use Column, Integer, Float and String without importing them
# (from sqlalchemy): the namespace provides them.


def stand_in_output(library: str) -> types.ModuleType:
    """A minimal ``output`` for when ``dyne.ext.io`` is not installed: it
    serializes ``resp.obj`` (an object or a list) with the schema after the
    view, through the endpoint-spec contract ``@output`` uses."""
    from dyne.endpoints import get_endpoint_spec

    def output(schema: Any, status_code: int = 200, **options: Any) -> Any:
        def dump(obj: Any) -> Any:
            if library == "pydantic":
                if isinstance(obj, list):
                    return [schema.model_validate(item).model_dump() for item in obj]
                return schema.model_validate(obj).model_dump()
            dumper = schema() if isinstance(schema, type) else schema
            return dumper.dump(obj)

        def decorator(view: Any) -> Any:
            async def serialize(req: Any, resp: Any) -> None:
                resp.media = dump(resp.obj)
                resp.status_code = status_code

            get_endpoint_spec(view).add_after(serialize)
            return view

        return decorator

    module = types.ModuleType(f"dyne.ext.io.{library}")
    module.output = output  # type: ignore[attr-defined]
    return module


def io_output_module(library: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real ``dyne.ext.io.<library>`` when present, else the stand-in."""
    try:
        __import__(f"dyne.ext.io.{library}")
        return "dyne.ext.io"
    except ImportError:
        io = types.ModuleType("dyne.ext.io")
        io.__path__ = []  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "dyne.ext.io", io)
        monkeypatch.setitem(sys.modules, f"dyne.ext.io.{library}", stand_in_output(library))
        return "stand-in"


@pytest.mark.parametrize(("library", "example"), [("pydantic", PYDANTIC_OUTPUT),
                                                  ("marshmallow", MARSHMALLOW_OUTPUT)])
def test_response_serialization_orm_examples(library, example, tmp_path, monkeypatch):
    # As printed: SQLite in the working directory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALCHEMICAL_DATABASE_URL", raising=False)
    io_output_module(library, monkeypatch)
    namespace = run(example, {"Column": Column, "Integer": Integer, "Float": Float, "String": String,
                              "__name__": "docs_serialization"})
    app, db, Book = namespace["app"], namespace["db"], namespace["Book"]
    try:
        client = app.client
        assert client.get("/all-books").json() == []

        async def seed():
            async with db.begin() as session:
                session.add_all([Book(title="Dune", price=9.5), Book(title="Emma", price=4.0)])

        on_client_loop(seed)
        assert client.get("/books/2").json() == {"id": 2, "title": "Emma", "price": 4.0}
        assert client.get("/all-books").json() == [{"id": 1, "title": "Dune", "price": 9.5},
                                                   {"id": 2, "title": "Emma", "price": 4.0}]
        assert (tmp_path / "app.db").is_file()
        assert db.get_engine().pool.checkedout() == 0
    finally:
        app.client.close()
