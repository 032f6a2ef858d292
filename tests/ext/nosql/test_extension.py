"""NoSqlDatabase on an app: config, lifecycle, managed transactions, errors,
and seed 002's NoSQL examples in dyne's idiom (on the PostgreSQL jsonb backend)."""

from typing import Any

import pytest
from pydantic import BaseModel

import dyne
from dyne.ext.io.pydantic import input
from dyne.ext.nosql import AsyncNoSqlBackendBase, NoSqlDatabase
from dyne.ext.nosql.backends import PostgresJsonBackend
from dyne.extensions import ExtensionError


def make_app(settings, prefix=""):
    app = dyne.App()
    app.config[f"{prefix}NOSQL_DATABASE"] = settings
    return app


def test_seed_managed_database_example(postgres_settings):
    """Seed 002, "Managed database transactions": the controller method becomes
    a dyne view; @consumes/@produces become @input and resp.media."""
    app = make_app(postgres_settings)
    nosqldb: NoSqlDatabase = NoSqlDatabase()
    nosqldb.init_app(app)

    class TestModel(BaseModel):
        email: str
        fullname: str
        age: int

    @app.route("/", methods=["POST"])
    @input(TestModel)
    @nosqldb.managed_database
    async def create_user(req, resp, *, data: TestModel, db: Any, session: Any = None):
        """Consumes and produces json"""
        # inserts a new document into collection
        await db.insert_one("users", {"email": data.email, "fullname": data.fullname, "age": data.age},
                            session=session)
        resp.media = {"message": "User added successfully", "status": "success"}
        resp.status_code = 200

    @app.route("/users/{email}", methods=["GET"])
    async def get_user(req, resp, *, email):
        # "Simple queries/inserts": the extension object itself
        user = await nosqldb.find_one("users", {"email": email})
        if user is None:
            dyne.abort(404)
        resp.media = {"fullname": user["fullname"], "age": user["age"]}

    with app.client as client:
        r = client.post("/", json={"email": "ada@example.com", "fullname": "Ada Lovelace", "age": 36})
        assert (r.status_code, r.json()) == (200, {"message": "User added successfully",
                                                   "status": "success"})
        assert client.get("/users/ada@example.com").json() == {"fullname": "Ada Lovelace", "age": 36}
        assert client.get("/users/nobody@example.com").status_code == 404
        assert client.post("/", json={"email": "x"}).status_code == 400


def test_an_exception_rolls_the_whole_transaction_back(postgres_settings):
    app = make_app(postgres_settings)
    nosqldb = NoSqlDatabase(app)

    @app.route("/transfer", methods=["POST"])
    @nosqldb.managed_database
    async def transfer(req, resp, *, db, session):
        body = await req.media()
        await db.insert_one("ledger", {"_id": "debit", "amount": -body["amount"]}, session=session)
        if body["amount"] > 100:
            dyne.abort(422, detail="too much")
        await db.insert_one("ledger", {"_id": "credit", "amount": body["amount"]}, session=session)
        resp.media = {"ok": True}

    @app.route("/ledger", methods=["GET"])
    async def ledger(req, resp):
        resp.media = await nosqldb.find_many("ledger", sort=[("_id", 1)])

    with app.client as client:
        assert client.post("/transfer", json={"amount": 500}).status_code == 422
        assert client.get("/ledger").json() == []
        assert client.post("/transfer", json={"amount": 5}).json() == {"ok": True}
        assert client.get("/ledger").json() == [{"_id": "credit", "amount": 5},
                                                {"_id": "debit", "amount": -5}]


def test_errors_become_409_and_400(postgres_settings):
    app = make_app(postgres_settings)
    nosqldb = NoSqlDatabase(app)

    @app.route("/notes", methods=["POST"])
    async def create(req, resp):
        result = await nosqldb.insert_one("notes", await req.media())
        resp.media = {"id": result.inserted_id}

    @app.route("/search", methods=["POST"])
    async def search(req, resp):
        resp.media = await nosqldb.find_many("notes", await req.media())

    with app.client as client:
        assert client.post("/notes", json={"_id": "a"}).json() == {"id": "a"}
        duplicate = client.post("/notes", json={"_id": "a"})
        assert duplicate.status_code == 409
        refused = client.post("/search", json={"title": {"$where": "sleep(10)"}})
        assert refused.status_code == 400
        assert "$where" in refused.text
        assert client.post("/search", json={"_id": "a"}).json() == [{"_id": "a"}]
        deep: dict = {"a": 1}
        for _ in range(200):
            deep = {"$and": [deep]}
        too_deep = client.post("/search", json=deep)
        assert too_deep.status_code == 400 and "nested deeper" in too_deep.text
        value: list = []
        for _ in range(200):
            value = [value]
        assert client.post("/search", json={"a": value}).status_code == 400


def test_prefix_configures_a_second_database(postgres_settings):
    app = dyne.App()
    app.config["NOSQL_DATABASE"] = postgres_settings
    other_prefix = postgres_settings["TABLE_PREFIX"] + "b_"
    app.config["MY_PREFIX_NOSQL_DATABASE"] = {**postgres_settings, "TABLE_PREFIX": other_prefix,
                                              "DB_INJECT_NAME": "store", "SESSION_NAME": "tx"}
    first = NoSqlDatabase(app)
    second = NoSqlDatabase(app, variable_prefix="MY_PREFIX_")
    assert app.extensions["nosql"] is first
    assert app.extensions["my_prefix_nosql"] is second
    assert second.db_name == postgres_settings["DATABASE"]

    @app.route("/", methods=["POST"])
    @second.managed_database
    async def write(req, resp, *, store, tx):
        assert store is second and tx is not None
        await store.insert_one("things", {"_id": 1}, session=tx)

    with app.client as client:
        client.post("/")
        assert client.app.extensions["nosql"].backend.table_prefix != second.backend.table_prefix

    async def counts():
        await first.connect()
        await second.connect()
        try:
            return (len(await first.find_many("things")), len(await second.find_many("things")))
        finally:
            await first.disconnect()
            await second.disconnect()

    import asyncio

    assert asyncio.run(counts()) == (0, 1)


def test_config_from_the_environment(postgres_settings, monkeypatch):
    import json

    monkeypatch.setenv("NOSQL_DATABASE", json.dumps(postgres_settings))
    monkeypatch.setenv("NOSQL_DATABASE_TABLE_PREFIX", postgres_settings["TABLE_PREFIX"] + "env_")
    app = dyne.App()
    nosqldb = NoSqlDatabase(app)

    @app.route("/")
    async def view(req, resp):
        resp.media = {"backend": type(nosqldb.backend).__name__,
                      "prefix": nosqldb.backend.table_prefix}

    with app.client as client:
        assert client.get("/").json() == {"backend": "PostgresJsonBackend",
                                          "prefix": postgres_settings["TABLE_PREFIX"] + "env_"}
    with pytest.raises(RuntimeError, match="Backend not connected"):
        _ = nosqldb.backend


def test_clear_configuration_errors():
    app = dyne.App()
    nosqldb = NoSqlDatabase(app)
    with pytest.raises(Exception, match="needs a BACKEND"):
        app.client.get("/")
    app = dyne.App()
    app.config["NOSQL_DATABASE"] = {"BACKEND": "cassandra"}
    nosqldb = NoSqlDatabase(app)
    with pytest.raises(Exception, match="BACKEND 'cassandra'"):
        app.client.get("/")
    with pytest.raises(ExtensionError):
        NoSqlDatabase(app)
    with pytest.raises(TypeError, match="async"):
        nosqldb.managed_database(lambda req, resp: None)


def test_custom_backend_plugs_in():
    """Seed 002, "Custom backend implementations": a subclass of the abstract base."""
    events = []

    class DictBackend(AsyncNoSqlBackendBase):
        """An in-memory backend without transactions."""

        def __init__(self):
            self.collections: dict[str, list[dict]] = {}

        @classmethod
        def configure_from_app(cls, app, variable_prefix):
            events.append(("configure", variable_prefix))
            return cls()

        async def connect(self):
            events.append("connect")

        async def disconnect(self):
            events.append("disconnect")

        def database_handle(self):
            return self.collections

        def supports_transactions(self):
            return False

        async def start_session(self):
            return None

        async def with_transaction(self, fn, *args, session=None, **kwargs):
            return await fn(*args, session=None, **kwargs)

        def get_collection(self, name):
            return self.collections.setdefault(name, [])

        async def find_one(self, collection, filter, *, session=None, **kwargs):
            found = await self.find_many(collection, filter)
            return found[0] if found else None

        async def find_many(self, collection, filter=None, *, session=None, limit=None, skip=None,
                            sort=None, **kwargs):
            return [d for d in self.get_collection(collection)
                    if all(d.get(k) == v for k, v in (filter or {}).items())]

        async def insert_one(self, collection, doc, *, session=None, **kwargs):
            self.get_collection(collection).append(dict(doc))

        async def insert_many(self, collection, docs, *, session=None, **kwargs):
            for doc in docs:
                await self.insert_one(collection, doc)

        async def update_one(self, collection, filter, update, *, upsert=False, session=None, **kwargs):
            raise NotImplementedError

        async def delete_one(self, collection, filter, *, session=None, **kwargs):
            raise NotImplementedError

        async def aggregate(self, collection, pipeline, *, session=None, **kwargs):
            raise NotImplementedError

        async def execute_raw(self, *args, **kwargs):
            return args

    app = dyne.App()
    app.config["NOSQL_DATABASE"] = {"BACKEND": DictBackend}
    nosqldb = NoSqlDatabase(app)

    @app.route("/", methods=["POST"])
    @nosqldb.managed_database
    async def create(req, resp, *, db, session):
        await db.insert_one("users", await req.media(), session=session)
        resp.media = {"session": session, "users": await db.find_many("users")}

    with app.client as client:
        assert client.post("/", json={"name": "ada"}).json() == {"session": None, "users": [{"name": "ada"}]}
        assert nosqldb.database_handle() == {"users": [{"name": "ada"}]}
    assert events == [("configure", ""), "connect", "disconnect"]


async def test_collection_handles(postgres_settings):
    backend = PostgresJsonBackend(postgres_settings["DATABASE_URI"], schema=postgres_settings["DATABASE"],
                                  table_prefix=postgres_settings["TABLE_PREFIX"])
    await backend.connect()
    try:
        users = backend.database_handle()["users"]
        await users.insert_one({"_id": 1, "name": "ada"})
        assert await users.find_many({"name": "ada"}) == [{"_id": 1, "name": "ada"}]
        assert await backend.execute_raw(
            f'SELECT count(*) AS n FROM "{backend.schema}"."{backend.table_prefix}users" '
            "WHERE doc->>'name' = $1", "ada") == [{"n": 1}]
        await backend.drop_collection("users")
    finally:
        await backend.disconnect()


def test_mongo_backend_is_configured_from_the_app():
    """Without a MongoDB server here, the configuration is what can be checked
    (the contract suite runs against a server when DYNE_MONGODB_URL is set)."""
    from dyne.ext.nosql.backends import MongoBackend
    from dyne.ext.nosql.extension import resolve_backend

    assert resolve_backend("mongo") is MongoBackend
    assert resolve_backend("dyne.ext.nosql.backends.mongo:MongoBackend") is MongoBackend
    assert resolve_backend(MongoBackend) is MongoBackend
    app = dyne.App()
    app.config["APP_NOSQL_DATABASE"] = {"BACKEND": MongoBackend,
                                        "DATABASE_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100",
                                        "DATABASE": "shop", "TRANSACTIONS": "false"}
    backend = MongoBackend.configure_from_app(app, "APP_")
    assert (backend.uri, backend.database_name, backend.supports_transactions()) == (
        "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100", "shop", False)
    with pytest.raises(Exception, match="needs a DATABASE_URI"):
        MongoBackend.configure_from_app(dyne.App(), "")
