"""Server-side sessions (dyne.ext.sessions): data in the store, a signed id in
the cookie; shared by workers on Redis; LoginManager on top; 503 when the
store is down or stuck."""

import asyncio
import time

import pytest

import dyne
from dyne.ext.auth import LoginManager
from dyne.ext.sessions import MemorySessionStore, RedisSessionStore, ServerSideSessions
from dyne.testing import TestClient

SECRET = "server-side-session-tests-secret"
PEOPLE = {"1": {"id": 1, "name": "alice"}, "2": {"id": 2, "name": "bob"}}


def make_app(store, **options):
    app = dyne.App(secret_key=SECRET)
    ServerSideSessions(app, store=store, **options)
    auth = LoginManager(app)

    @auth.user_loader
    async def load_user(user_id):
        return PEOPLE.get(user_id)

    @app.route("/set/{key}/{value}")
    async def set_value(req, resp, *, key, value):
        req.session[key] = value
        resp.media = dict(req.session)

    @app.route("/get")
    async def get_values(req, resp):
        resp.media = dict(req.session)

    @app.route("/clear")
    async def clear(req, resp):
        req.session.clear()

    @app.route("/login/{user_id}")
    async def login(req, resp, *, user_id):
        await auth.login(req, resp, PEOPLE[user_id])

    @app.route("/logout")
    async def logout(req, resp):
        await auth.logout(req, resp)

    @app.route("/private")
    @auth.login_required
    async def private(req, resp):
        resp.media = {"user": req.state.user["name"]}

    return app


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemorySessionStore()
    return RedisSessionStore(request.getfixturevalue("redis_url"),
                             key_prefix=request.getfixturevalue("redis_prefix"))


def test_data_lives_in_the_store_and_the_cookie_holds_only_an_id(store):
    app = make_app(store)
    client = app.client
    client.get("/set/color/blue")
    cookie = client.cookies["dyne-Session"]
    assert "blue" not in cookie and len(cookie) < 100
    assert client.get("/get").json() == {"color": "blue"}
    client.get("/set/size/xl")
    assert client.get("/get").json() == {"color": "blue", "size": "xl"}
    # Same session, same id (the signature's timestamp may have moved on).
    assert client.cookies["dyne-Session"].rsplit(".", 2)[0] == cookie.rsplit(".", 2)[0]
    client.get("/clear")
    assert "dyne-Session" not in client.cookies
    assert client.get("/get").json() == {}


def test_a_tampered_or_unknown_id_is_an_empty_session(store):
    app = make_app(store)
    client = TestClient(app)
    client.get("/set/a/1")
    good = client.cookies["dyne-Session"]
    client.cookies.set("dyne-Session", good[:-2] + "xx")
    assert client.get("/get").json() == {}
    other = TestClient(make_app(MemorySessionStore()))
    other.cookies.set("dyne-Session", good)  # signed, but that store never saw it
    assert other.get("/get").json() == {}


def test_requests_without_a_cookie_never_touch_the_store(closed_port):
    app = make_app(RedisSessionStore(f"redis://127.0.0.1:{closed_port}/0", timeout=0.2))
    assert app.client.get("/get").json() == {}


def test_login_manager_works_and_logging_in_changes_the_session_id(store):
    client = make_app(store).client
    assert client.get("/private").status_code == 401
    client.get("/set/cart/3")
    before = client.cookies["dyne-Session"]
    client.get("/login/1")
    assert client.cookies["dyne-Session"] != before  # no session fixation
    assert client.get("/private").json() == {"user": "alice"}
    assert client.get("/get").json()["cart"] == "3"
    client.get("/logout")
    assert client.get("/private").status_code == 401


def test_two_workers_share_sessions_on_redis(redis_url, redis_prefix):
    one = make_app(RedisSessionStore(redis_url, key_prefix=redis_prefix))
    two = make_app(RedisSessionStore(redis_url, key_prefix=redis_prefix))
    client_one = TestClient(one)
    client_one.get("/login/2")
    client_two = TestClient(two)
    client_two.cookies.set("dyne-Session", client_one.cookies["dyne-Session"])
    assert client_two.get("/private").json() == {"user": "bob"}


async def test_redis_sessions_expire_and_reads_renew_them(redis_url, redis_prefix):
    store = RedisSessionStore(redis_url, key_prefix=redis_prefix)
    await store.save("sid", {"a": 1}, 2)
    assert await store.client.ttl(redis_prefix + "sid") <= 2
    assert await store.load("sid", 100) == {"a": 1}
    assert await store.client.ttl(redis_prefix + "sid") > 50  # renewed by the read
    await store.client.pexpire(redis_prefix + "sid", 1)
    await asyncio.sleep(0.05)
    assert await store.load("sid", 100) is None
    await store.close()


def test_configuration_and_errors(redis_url, caplog):
    app = dyne.App(secret_key=SECRET)
    app.config["SESSION_REDIS_URL"] = redis_url
    app.config["SESSION_MAX_AGE"] = "60"
    app.config["SESSION_COOKIE_NAME"] = "sid"
    sessions = ServerSideSessions(app)
    assert isinstance(sessions.store, RedisSessionStore)
    assert (sessions.max_age, sessions.cookie_name, app.session_backend) == (60, "sid", sessions)

    bare = dyne.App()
    ServerSideSessions(bare, store=MemorySessionStore())

    @bare.route("/")
    def view(req, resp):
        req.session["x"] = 1

    assert bare.client.get("/").status_code == 500
    assert "needs the app's secret_key" in caplog.text

    memory_app = make_app(MemorySessionStore())

    @memory_app.route("/bad")
    def bad(req, resp):
        req.session["x"] = object()

    assert memory_app.client.get("/bad").status_code == 500


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
def test_store_down_or_stuck_answers_503(port_fixture, request):
    port = request.getfixturevalue(port_fixture)
    broken = RedisSessionStore(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    app = make_app(broken)
    working = make_app(MemorySessionStore())
    # A cookie signed with the same secret, as a browser would still hold one.
    client = TestClient(working)
    client.get("/set/a/1")
    cookie = client.cookies["dyne-Session"]
    started = time.monotonic()
    down = TestClient(app)
    assert down.get("/set/a/1").status_code == 503  # a write
    down.cookies.set("dyne-Session", cookie)
    answer = down.get("/get")  # a read
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert time.monotonic() - started < 3
