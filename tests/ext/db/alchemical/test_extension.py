"""Alchemical(app): configuration, engines, the request-scoped session and its
lifecycle, standalone sessions, binds, error mapping."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from sqlalchemy import String, func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model
from dyne.testing import AsyncTestClient
from tests.conftest import ROOT


def define_user():
    class User(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        username: Mapped[str] = mapped_column(String(64), unique=True)

    return User


async def count(db, model) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


def run(coroutine):
    """Run a check on the test clients' event loop (where the app's engines live)."""
    from dyne.testing import _shared_portal

    return _shared_portal().call(lambda: coroutine)


# -- optional dependency ------------------------------------------------------------------


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def test_dyne_and_the_cli_plugin_do_not_import_sqlalchemy():
    result = python("import sys, dyne, dyne.ext.db, dyne.ext.db.cli\n"
                    "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
                    "{'sqlalchemy', 'alembic', 'alchemical', 'asyncpg', 'aiosqlite'})\n"
                    "assert not heavy, heavy\n")
    assert result.returncode == 0, result.stderr


def test_without_the_extra_the_import_error_names_the_pip_install():
    result = python("import sys\nsys.modules['sqlalchemy'] = None\n"
                    "import dyne.ext.db.alchemical\n")
    assert result.returncode != 0
    assert 'ImportError: dyne.ext.db.alchemical needs SQLAlchemy and Alchemical: ' \
           'pip install "dyne[sqlalchemy]"' in result.stderr


# -- configuration ---------------------------------------------------------------------------


def test_missing_database_url_fails_clearly_at_startup():
    app = dyne.App()
    Alchemical(app)
    with pytest.raises(RuntimeError, match=r"^Missing required config: ALCHEMICAL_DATABASE_URL$"):
        app.client.get("/")


async def test_missing_database_url_fails_clearly_on_first_use_without_startup(caplog):
    app = dyne.App()
    db = Alchemical(app)

    @app.route("/")
    async def view(req, resp):
        await req.db

    async with AsyncTestClient(app, lifespan=False) as client:
        assert (await client.get("/")).status_code == 500
    assert "RuntimeError: Missing required config: ALCHEMICAL_DATABASE_URL" in caplog.text
    with pytest.raises(RuntimeError, match="Missing required config: ALCHEMICAL_DATABASE_URL"):
        db.get_engine()


def test_empty_database_url_is_refused(monkeypatch):
    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", "")
    db = Alchemical(dyne.App())
    with pytest.raises(RuntimeError, match="ALCHEMICAL_DATABASE_URL must be a database URL"):
        db.get_engine()


@pytest.mark.parametrize("order", ["config first", "extension first"])
def test_config_may_be_loaded_before_or_after_the_extension(order, database_url):
    class Config:
        ALCHEMICAL_DATABASE_URL = database_url

    app = dyne.App()
    if order == "config first":
        app.config.from_object(Config)
        db = Alchemical(app)
    else:
        db = Alchemical(app)
        app.config.from_object(Config)

    @app.route("/")
    async def ping(req, resp):
        session = await req.db
        resp.media = {"one": await session.scalar(text("SELECT 1"))}

    try:
        assert app.client.get("/").json() == {"one": 1}
    finally:
        app.client.close()
    assert db.url == database_url


def test_sync_urls_are_mapped_to_async_drivers(make_app, database_url):
    _app, db = make_app()
    expected = "sqlite+aiosqlite" if database_url.startswith("sqlite") else "postgresql+asyncpg"
    assert db.get_engine().url.drivername == expected
    assert Alchemical(url="postgres://u@h/d").engine_arguments()[0] == "postgresql+asyncpg://u@h/d"
    assert Alchemical(url="postgresql+psycopg2://u@h/d").engine_arguments()[0] == (
        "postgresql+asyncpg://u@h/d")
    assert Alchemical(url="sqlite+aiosqlite:///x.db").engine_arguments()[0] == "sqlite+aiosqlite:///x.db"


def test_a_missing_driver_is_an_import_error_naming_it():
    db = Alchemical(url="mysql://user@localhost/db")
    with pytest.raises(ImportError, match=r"needs the 'aiomysql' driver.*pip install aiomysql"):
        db.get_engine()


def test_settings_from_environment_strings(monkeypatch, tmp_path):
    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", f"sqlite:///{tmp_path / 'main.db'}")
    monkeypatch.setenv("ALCHEMICAL_BINDS", f'{{"other": "sqlite:///{tmp_path / "other.db"}"}}')
    monkeypatch.setenv("ALCHEMICAL_ENGINE_OPTIONS", '{"echo": true}')
    monkeypatch.setenv("ALCHEMICAL_AUTOCOMMIT", "true")
    db = Alchemical(dyne.App())
    assert db.autocommit is True
    assert db.get_engine().echo is True
    assert db.get_engine("other").url.database == str(tmp_path / "other.db")
    assert db.bind_names() == ["other"]


def test_malformed_binds_are_a_config_error(monkeypatch):
    from dyne.config import ConfigError

    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("ALCHEMICAL_BINDS", "not json")
    with pytest.raises(ConfigError, match="ALCHEMICAL_BINDS"):
        Alchemical(dyne.App()).get_engine()


def test_registration_state_extensions_and_init_app():
    app = dyne.App()
    db = Alchemical()
    db.init_app(app)
    assert app.state.db is db
    assert app.extensions["db"] is db
    db.init_app(app)  # again: nothing changes
    with pytest.raises(RuntimeError, match="already has a database extension"):
        Alchemical(app)
    with pytest.raises(RuntimeError, match="already belongs to another app"):
        db.init_app(dyne.App())


def test_engines_and_session_factory_are_made_once_at_startup(make_app):
    app, db = make_app()
    User = define_user()
    sessions = []

    @app.route("/plain")
    async def plain(req, resp):
        resp.text = "no database"

    @app.route("/twice")
    async def twice(req, resp):
        first = await req.db
        second = await req.db
        sessions.append(first)
        resp.media = {"same": first is second, "users": await User.all() == []}

    client = app.client
    client.get("/plain")  # starts the app
    engine, factory = db.get_engine(), db.Session
    made = []
    db.session_class = lambda: made.append(1) or factory()
    assert client.get("/plain").text == "no database"
    assert made == []  # no session for a request that did not ask
    assert client.get("/twice").json() == {"same": True, "users": True}
    assert client.get("/twice").json() == {"same": True, "users": True}
    assert made == [1, 1]  # one per request that asked
    assert sessions[0] is not sessions[1]
    assert db.get_engine() is engine


# -- the request's session -----------------------------------------------------------------


@pytest.mark.parametrize("autocommit", [False, True])
def test_request_session_lifecycle(make_app, autocommit):
    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=autocommit)
    User = define_user()

    @app.route("/add/{name}", methods=["POST"])
    async def add(req, resp, name):
        session = await req.db
        session.add(User(username=name))
        await session.flush()
        if req.params.get("fail") == "abort":
            dyne.abort(422, "refused")
        if req.params.get("fail") == "raise":
            raise ValueError("view bug")
        resp.status_code = 201

    @app.route("/commit/{name}", methods=["POST"])
    async def add_and_commit(req, resp, name):
        session = await req.db
        session.add(User(username=name))
        await session.commit()

    client = app.client
    assert client.post("/add/kept").status_code == 201
    assert client.post("/add/aborted?fail=abort").status_code == 422
    assert client.post("/add/broken?fail=raise").status_code == 500
    assert client.post("/commit/committed").status_code == 200
    names = run(_usernames(db, User))
    # Without autocommit only the explicit commit stays; with it, successful requests too.
    assert names == (["committed", "kept"] if autocommit else ["committed"])
    assert db.get_engine().pool.checkedout() == 0


async def _usernames(db, model):
    async with db.session() as session:
        return sorted((await session.scalars(select(model.username))).all())


def test_a_failing_autocommit_is_the_request_error(make_app):
    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=True)
    User = define_user()

    @app.route("/users/{name}", methods=["POST"])
    async def create(req, resp, name):
        session = await req.db
        session.add(User(username=name))  # flushed by the commit at the end of the request
        resp.status_code = 201

    assert app.client.post("/users/ada").status_code == 201
    assert app.client.post("/users/ada").status_code == 409  # the commit failed: not a 201
    assert run(_usernames(db, User)) == ["ada"]
    assert db.get_engine().pool.checkedout() == 0


def test_session_is_closed_and_unusable_after_the_request(make_app):
    app, _db = make_app()
    User = define_user()
    seen = {}

    @app.route("/later")
    async def later(req, resp):
        session = await req.db
        seen["session"] = session

        @app.background.task
        async def after_the_response():
            await asyncio.sleep(0.05)
            for label, attempt in (("req.db", lambda: req.db), ("crud", User.all)):
                try:
                    await attempt()
                except RuntimeError as exc:
                    seen[label] = str(exc)

        after_the_response()
        resp.text = "ok"

    assert app.client.get("/later").text == "ok"
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen["req.db"].startswith("This request has finished and its database session is closed")
    assert "async with db.session()" in seen["req.db"]
    assert seen["crud"] == "No active database session. Did you await req.db?"
    assert not seen["session"].in_transaction()


def test_background_work_uses_a_session_of_its_own(make_app):
    app, db = make_app()
    User = define_user()
    done = []

    @app.route("/signup/{name}", methods=["POST"])
    async def signup(req, resp, name):
        @app.background.task
        async def create_later():
            async with db.begin():
                await User.create(username=name)
            done.append(name)

        create_later()
        resp.status_code = 202

    assert app.client.post("/signup/ada").status_code == 202
    deadline = time.monotonic() + 5
    while not done and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run(_usernames(db, User)) == ["ada"]


def test_request_session_outside_an_http_request_is_refused(make_app):
    app, db = make_app()
    outcome = {}

    @app.route("/ws", websocket=True)
    async def feed(ws):
        await ws.accept()
        try:
            await db.request_session(ws)
        except RuntimeError as exc:
            outcome["error"] = str(exc)
        await ws.send_text("done")
        await ws.close()

    with app.client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "done"
    assert "AlchemicalMiddleware" in outcome["error"]
    with pytest.raises(TypeError, match="needs a request"):
        run(db.request_session(object()))


def test_explicit_url_without_an_app(database_url):
    db = Alchemical(url=database_url)
    User = define_user()

    async def scenario():
        await db.create_all()
        async with db.begin():
            await User.create(username="script")
        async with db.session() as session:
            names = (await session.scalars(select(User.username))).all()
        await db.dispose()
        return names

    assert asyncio.run(scenario()) == ["script"]


# -- schema and binds --------------------------------------------------------------------------


def test_binds_route_models_to_their_database_even_when_defined_late(make_app, tmp_path):
    analytics = f"sqlite:///{tmp_path / 'analytics.db'}"
    app, db = make_app(ALCHEMICAL_BINDS={"analytics": analytics})
    User = define_user()

    @app.route("/")
    async def index(req, resp):
        session = await req.db
        session.add(User(username="u"))
        session.add(Event(name="signup"))
        await session.commit()
        resp.media = {"events": len(await Event.all()), "users": len(await User.all())}

    app.client.get("/missing")  # start-up (engines made) before Event exists

    class Event(CRUDMixin, Model):
        __bind_key__ = "analytics"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))

    run(db.create_all())
    assert app.client.get("/").json() == {"events": 1, "users": 1}

    assert run(table_names(db.get_engine("analytics"))) == ["event"]
    assert "event" not in run(table_names(db.get_engine()))


async def table_names(engine):
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: sa_inspect(sync).get_table_names())


def test_a_bind_key_without_a_database_is_a_clear_error(make_app):
    _app, db = make_app()

    class Metric(CRUDMixin, Model):
        __bind_key__ = "metrics"
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(RuntimeError, match=r"__bind_key__ = 'metrics'.*add 'metrics' to ALCHEMICAL_BINDS"):
        run(db.create_all())


def test_drop_all_removes_the_tables(make_app):
    _app, db = make_app()
    User = define_user()

    async def scenario():
        await db.create_all()
        async with db.begin():
            await User.create(username="x")
        await db.drop_all()
        await db.create_all()
        return await count(db, User)

    assert run(scenario()) == 0


# -- errors caused by the data -------------------------------------------------------------------


def test_duplicates_are_409_bad_values_400_and_no_connection_leaks(make_app, database_url):
    app, db = make_app()
    User = define_user()

    @app.route("/users", methods=["POST"])
    async def create(req, resp):
        data = await req.media()
        session = await req.db
        session.add(User(username=data["username"]))
        await session.commit()
        resp.status_code = 201

    client = app.client
    assert client.post("/users", json={"username": "ada"}).status_code == 201
    duplicate = client.post("/users", json={"username": "ada"})
    assert duplicate.status_code == 409
    assert duplicate.text.startswith("Conflict: the data breaks a database constraint")
    too_long = client.post("/users", json={"username": "x" * 100})
    # PostgreSQL refuses a value longer than String(64) (a DataError); SQLite stores it.
    assert too_long.status_code == (400 if database_url.startswith("postgresql") else 201)
    assert db.get_engine().pool.checkedout() == 0


def test_debug_mode_shows_the_database_message_and_409_handlers_apply(make_app):
    app, _db = make_app()
    app.debug = True
    User = define_user()

    @app.error_handler(409)
    async def conflict(req, resp, exc):
        resp.status_code = 409
        resp.media = {"conflict": exc.detail}

    @app.route("/users/{name}", methods=["POST"])
    async def create(req, resp, name):
        session = await req.db
        await User.create(username=name)
        await session.commit()

    app.client.post("/users/ada")
    body = app.client.post("/users/ada").json()
    assert body["conflict"].startswith("Conflict:")
    assert "unique" in body["conflict"].lower()


def test_error_mapping_can_be_turned_off(database_url):
    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = database_url
    db = Alchemical(app, map_errors=False)
    User = define_user()
    app.on_event("startup")(db.create_all)

    @app.route("/users/{name}", methods=["POST"])
    async def create(req, resp, name):
        session = await req.db
        await User.create(username=name)
        await session.commit()

    try:
        assert app.client.post("/users/ada").status_code == 200
        assert app.client.post("/users/ada").status_code == 500
    finally:
        app.client.close()


# -- bodies decoded before the view ------------------------------------------------------------


def test_small_structured_bodies_are_decoded_before_the_view(make_app):
    app, _db = make_app()
    seen = []

    @app.route("/echo", methods=["POST"])
    async def echo(req, resp):
        data = req.media()  # no await, as Dyne's examples write it
        seen.append(isinstance(data, dict))
        if not isinstance(data, dict):
            data = await data
        resp.media = {"keys": sorted(data)}

    client = app.client
    assert client.post("/echo", json={"a": 1, "b": 2}).json() == {"keys": ["a", "b"]}
    assert client.post("/echo", data={"form": "field"}).json() == {"keys": ["form"]}
    big = {"blob": "x" * (1024 * 1024)}
    assert client.post("/echo", json=big).json() == {"keys": ["blob"]}  # over 1 MiB: the view awaits
    chunked = client.post("/echo", content=iter([b'{"streamed":', b" true}"]),
                          headers={"content-type": "application/json"})
    assert chunked.json() == {"keys": ["streamed"]}
    assert seen == [True, True, False, False]
    malformed = client.post("/echo", content=b"{oops", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    # Never before routing: a path that matches no route is a 404, body unread.
    missing = client.post("/nowhere", content=b"{oops", headers={"content-type": "application/json"})
    assert missing.status_code == 404


def test_early_decoding_only_for_formats_the_route_accepts(make_app):
    app, _db = make_app()
    seen = []

    @app.route("/json-only", methods=["POST"], media_formats=["json"])
    async def json_only(req, resp):
        seen.append(req._body is not None)
        resp.media = {"ok": True}

    client = app.client
    yaml_body = b"[" + b"a, " * 1000 + b"a]"
    answer = client.post("/json-only", content=yaml_body, headers={"content-type": "application/yaml"})
    assert answer.status_code == 200 and seen == [False]  # never decoded: the route takes JSON only
    assert client.post("/json-only", json={"a": 1}).status_code == 200
    assert seen == [False, True]


def test_early_decoding_can_be_turned_off(database_url):
    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = database_url
    Alchemical(app, early_decode_limit=None)
    seen = []

    @app.route("/echo", methods=["POST"])
    async def echo(req, resp):
        data = req.media()
        seen.append(isinstance(data, dict))
        resp.media = await data

    try:
        assert app.client.post("/echo", json={"a": 1}).json() == {"a": 1}
        assert app.client.post("/nowhere", content=b"{oops").status_code == 404
    finally:
        app.client.close()
    assert seen == [False]
