"""dyne.ext.cache: the extension, response caching, tags, stampedes, HTTP
validators, and what happens when the backend is down."""

import asyncio
import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyne
from dyne.ext.cache import Cache, MemoryCacheBackend, RedisCacheBackend, SQLiteCacheBackend
from dyne.extensions import ExtensionError
from dyne.testing import AsyncTestClient


class Counting(MemoryCacheBackend):
    """A user's backend, plugged in by class (or import string)."""

    configured_with = None

    @classmethod
    def configure_from_app(cls, app, variable_prefix=""):
        made = cls(max_entries=10)
        made.configured_with = (app, variable_prefix)
        return made


def make_app(**config):
    app = dyne.App()
    for key, value in config.items():
        app.config[key] = value
    return app


# -- the extension and its configuration ---------------------------------------------------


def test_memory_is_the_default_and_config_picks_the_backend(tmp_path, redis_url):
    assert isinstance(Cache(make_app()).backend, MemoryCacheBackend)
    cache = Cache(make_app(CACHE_BACKEND="sqlite", CACHE_SQLITE_PATH=str(tmp_path / "x.db"),
                           CACHE_SQLITE_TABLE="entries", CACHE_DURATION="12"))
    assert isinstance(cache.backend, SQLiteCacheBackend)
    assert cache.backend.table == "entries"
    assert cache.default_duration == 12
    cache = Cache(make_app(CACHE={"BACKEND": "redis", "REDIS_URL": redis_url, "KEY_PREFIX": "p:"}))
    assert isinstance(cache.backend, RedisCacheBackend)
    assert cache.backend.key_prefix == "p:"


def test_user_backend_by_class_or_import_string_and_prefixed_instances():
    app = make_app(CACHE_BACKEND=Counting, MY_CACHE_BACKEND=f"{__name__}:Counting",
                   MY_CACHE_DURATION="5")
    first, second = Cache(app), Cache(app, variable_prefix="MY_")
    assert app.extensions["cache"] is first and app.extensions["my_cache"] is second
    assert type(first.backend) is Counting and first.backend.configured_with == (app, "")
    assert type(second.backend) is Counting and second.backend.configured_with == (app, "MY_")
    assert (first.default_duration, second.default_duration) == (300, 5)
    with pytest.raises(TypeError, match="BaseCacheBackend subclass"):
        _ = Cache(make_app(CACHE_BACKEND="builtins:dict")).backend


def test_factory_style_and_unbound_errors():
    cache = Cache()
    with pytest.raises(ExtensionError, match="not bound"):
        cache.require_app()
    app = make_app(CACHE_BACKEND="memory")
    cache.init_app(app)
    assert app.extensions["cache"] is cache
    assert "Cache 'cache'" in repr(cache)


async def test_manual_get_set_delete_clear_and_tags():
    cache = Cache(make_app())
    assert await cache.get("missing", "default") == "default"
    await cache.set("user:1", {"name": "Ada"}, tags=["users"])
    await cache.set("user:2", {"name": "Bob"}, 60, tags=["users", "admins"])
    await cache.set("motd", "hello", duration=0)  # 0: no expiry
    assert await cache.get("user:1") == {"name": "Ada"}
    await cache.invalidate_tags("admins")
    assert await cache.get("user:2") is None
    assert await cache.get("user:1") == {"name": "Ada"}
    await cache.invalidate_tags("users")
    assert await cache.get("user:1") is None
    await cache.set("user:1", {"name": "Ada 2"}, tags=["users"])  # tagged again after invalidation
    assert await cache.get("user:1") == {"name": "Ada 2"}
    await cache.delete("motd")
    assert await cache.get("motd") is None
    await cache.set("x", 1)
    await cache.clear()
    assert await cache.get("x") is None


async def test_get_or_set_computes_once_under_concurrency():
    cache = Cache(make_app())
    calls = []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.05)
        return {"answer": 42}

    results = await asyncio.gather(*(cache.get_or_set("k", compute) for _ in range(10)))
    assert results == [{"answer": 42}] * 10
    assert len(calls) == 1
    assert await cache.get_or_set("k", lambda: {"answer": 0}) == {"answer": 42}


# -- response caching ------------------------------------------------------------------


def books_app(backend="memory", **config):
    app = make_app(CACHE_BACKEND=backend, **config)
    cache = Cache(app)
    calls = []

    @app.route("/books/{shelf}", methods=["GET", "POST"])
    @cache.cache(duration=60, tags=["books", "shelf:{shelf}"])
    async def books(req, resp, *, shelf):
        calls.append(shelf)
        resp.media = {"shelf": shelf, "n": len(calls), "q": dict(req.params)}

    return app, cache, calls


def test_view_is_computed_once_and_keyed_by_params_query_and_format():
    app, _cache, calls = books_app()
    client = app.client
    first = client.get("/books/a?x=1&y=2")
    assert first.status_code == 200 and first.headers["x-cache"] == "miss"
    again = client.get("/books/a?y=2&x=1")  # same query, other order
    assert again.json() == first.json() and again.headers["x-cache"] == "hit"
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == "application/json"
    assert calls == ["a"]
    assert client.get("/books/b?x=1&y=2").json()["n"] == 2  # another path parameter
    assert client.get("/books/a?x=2").json()["n"] == 3  # another query
    yaml = client.get("/books/a?x=1&y=2", headers={"Accept": "application/x-yaml"})
    assert yaml.headers["content-type"].startswith("application/x-yaml") and len(calls) == 4
    assert client.get("/books/a?x=1&y=2", headers={"Accept": "application/x-yaml"}).text == yaml.text
    assert client.head("/books/a?x=1&y=2").status_code == 200
    assert len(calls) == 4


def test_only_get_and_head_are_cached():
    app, _cache, _calls = books_app()
    app.client.get("/books/a")
    assert app.client.post("/books/a").json()["n"] == 2
    assert app.client.post("/books/a").json()["n"] == 3
    assert app.client.get("/books/a").json()["n"] == 1


def test_requests_with_credentials_or_cookies_bypass_the_cache():
    app, _cache, calls = books_app()
    app.client.get("/books/a")
    for headers in ({"Authorization": "Bearer x"}, {"Cookie": "dyne-Session=abc"}):
        answer = app.client.get("/books/a", headers=headers)
        assert "x-cache" not in answer.headers
    assert len(calls) == 3
    app.client.cookies.clear()


def test_per_user_caches_each_user_apart():
    app = make_app()
    cache = Cache(app)

    @app.route("/me")
    @cache.cache(per_user=lambda req: req.headers.get("authorization"), max_age=30)
    def me(req, resp):
        resp.media = {"user": req.headers["authorization"], "at": time.monotonic()}

    ada = app.client.get("/me", headers={"Authorization": "ada"})
    bob = app.client.get("/me", headers={"Authorization": "bob"})
    assert ada.json()["user"] == "ada" and bob.json()["user"] == "bob"
    assert app.client.get("/me", headers={"Authorization": "ada"}).json() == ada.json()
    assert ada.headers["cache-control"] == "private, max-age=30"


def test_errors_cookies_and_no_store_are_not_stored():
    app = make_app()
    cache = Cache(app)
    calls = []

    @app.route("/maybe/{what}")
    @cache.cache()
    async def maybe(req, resp, *, what):
        calls.append(what)
        if what == "missing":
            resp.status_code = 404
        elif what == "cookie":
            resp.set_cookie("seen", "1")
        elif what == "nostore":
            resp.headers["Cache-Control"] = "no-store"
        elif what == "vary":
            resp.headers["Vary"] = "X-Tenant"
        elif what == "boom":
            raise RuntimeError("failed")
        resp.text = what

    for what in ("missing", "cookie", "nostore", "vary"):
        app.client.get(f"/maybe/{what}")
        app.client.cookies.clear()
        app.client.get(f"/maybe/{what}")
        app.client.cookies.clear()
    assert calls == ["missing", "missing", "cookie", "cookie", "nostore", "nostore", "vary", "vary"]


def test_class_based_view_and_method_decorators():
    app = make_app()
    cache = Cache(app)
    calls = []

    @app.route("/cbv")
    @cache.cache()
    class Whole:
        def on_get(self, req, resp):
            calls.append("get")
            resp.text = f"get {len(calls)}"

        def on_post(self, req, resp):
            calls.append("post")
            resp.text = f"post {len(calls)}"

    @app.route("/method")
    class OneMethod:
        @cache.cache()
        def on_get(self, req, resp):
            calls.append("method")
            resp.text = f"method {len(calls)}"

    assert app.client.get("/cbv").text == app.client.get("/cbv").text == "get 1"
    assert app.client.post("/cbv").text == "post 2"
    assert app.client.get("/method").text == app.client.get("/method").text == "method 3"
    assert calls == ["get", "post", "method"]


def test_etag_cache_control_and_304():
    app, _cache, calls = books_app()
    first = app.client.get("/books/a")
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    not_modified = app.client.get("/books/a", headers={"If-None-Match": f'"other", {etag}'})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert app.client.get("/books/a", headers={"If-None-Match": '"other"'}).status_code == 200
    # A client that already has the representation gets a 304 on the miss too.
    fresh = app.client.get("/books/b", headers={"If-None-Match": "*"})
    assert fresh.status_code == 304 and len(calls) == 2
    # Stored negotiated bodies keep Vary: Accept, on hits and 304s alike.
    assert first.headers["vary"] == app.client.get("/books/a").headers["vary"] == "Accept"
    assert not_modified.headers.get("vary") == first.headers.get("vary")


def test_tag_invalidation_with_path_parameters():
    app, cache, calls = books_app()

    @app.route("/shelves/{shelf}/touch", methods=["POST"])
    async def touch(req, resp, *, shelf):
        await cache.invalidate_tags(f"shelf:{shelf}")

    app.client.get("/books/a")
    app.client.get("/books/b")
    app.client.post("/shelves/a/touch")
    assert app.client.get("/books/a").headers["x-cache"] == "miss"
    assert app.client.get("/books/b").headers["x-cache"] == "hit"
    assert calls == ["a", "b", "a"]


def test_entries_expire(monkeypatch):
    app = make_app()
    cache = Cache(app)

    @app.route("/short")
    @cache.cache(duration=0.2)
    def short(req, resp):
        resp.text = str(time.monotonic())

    first = app.client.get("/short").text
    assert app.client.get("/short").text == first
    time.sleep(0.3)
    assert app.client.get("/short").text != first


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
async def test_one_computation_under_a_concurrent_burst(backend, tmp_path, request):
    config = {}
    if backend == "sqlite":
        config["CACHE_SQLITE_PATH"] = str(tmp_path / "c.db")
    if backend == "redis":
        config.update(CACHE_REDIS_URL=request.getfixturevalue("redis_url"),
                      CACHE_KEY_PREFIX=request.getfixturevalue("redis_prefix"))
    app = make_app(CACHE_BACKEND=backend, **config)
    cache = Cache(app)
    calls = []

    @app.route("/slow")
    @cache.cache()
    async def slow(req, resp):
        calls.append(1)
        await asyncio.sleep(0.2)
        resp.media = {"computed": len(calls)}

    async with AsyncTestClient(app) as client:
        answers = await asyncio.gather(*(client.get("/slow") for _ in range(15)))
    assert [a.json() for a in answers] == [{"computed": 1}] * 15
    assert len(calls) == 1


async def test_a_failed_computation_lets_the_next_request_compute():
    app = make_app()
    cache = Cache(app)
    calls = []

    @app.route("/flaky")
    @cache.cache()
    async def flaky(req, resp):
        calls.append(1)
        await asyncio.sleep(0.05)
        if len(calls) == 1:
            raise RuntimeError("first one fails")
        resp.media = {"ok": len(calls)}

    async with AsyncTestClient(app) as client:
        answers = await asyncio.gather(*(client.get("/flaky") for _ in range(5)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 200, 200, 500]
    assert len(calls) == 2
    assert cache._inflight == {}


async def test_a_lock_held_by_another_worker_is_waited_for(redis_url, redis_prefix):
    """Two apps sharing one Redis stand for two workers: while one holds the
    lock, the other waits for its result instead of computing."""
    config = {"CACHE_BACKEND": "redis", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": redis_prefix}
    apps, calls = [], []
    for node in ("a", "b"):
        app = make_app(**config)
        cache = Cache(app)

        @app.route("/report")
        @cache.cache()
        async def report(req, resp, node=node):
            calls.append(node)
            await asyncio.sleep(0.3)
            resp.media = {"by": node}

        apps.append(app)
    async with AsyncTestClient(apps[0]) as a, AsyncTestClient(apps[1]) as b:
        first, second = await asyncio.gather(a.get("/report"), b.get("/report"))
    assert first.json() == second.json()
    assert len(calls) == 1


# -- when the backend is down or stuck ----------------------------------------------------------


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
def test_redis_down_or_stuck_is_a_logged_miss_within_the_timeout(port_fixture, request, caplog):
    port = request.getfixturevalue(port_fixture)
    app = make_app(CACHE_BACKEND="redis", CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0",
                   CACHE_TIMEOUT="0.3")
    cache = Cache(app)
    calls = []

    @app.route("/data")
    @cache.cache()
    def data(req, resp):
        calls.append(1)
        resp.media = {"n": len(calls)}

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="dyne.cache"):
        assert app.client.get("/data").json() == {"n": 1}
        assert app.client.get("/data").json() == {"n": 2}
    assert time.monotonic() - started < 3
    assert "treated as a miss" in caplog.text


# -- what clients control --------------------------------------------------------------------


def test_many_distinct_query_strings_stay_bounded_in_memory():
    app = make_app(CACHE_MAX_ENTRIES="50")
    cache = Cache(app)

    @app.route("/search")
    @cache.cache()
    def search(req, resp):
        resp.media = {"q": req.params.get("q", "")}

    for i in range(120):
        assert app.client.get(f"/search?q={i}&pad={'x' * 2000}").json() == {"q": str(i)}
    assert len(cache.backend) <= 50


PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60), accept=st.text(PRINTABLE, max_size=40),
       if_none_match=st.text(PRINTABLE, max_size=40))
def test_client_controlled_parts_never_break_caching(query, accept, if_none_match):
    app = make_app()
    cache = Cache(app)

    @app.route("/echo")
    @cache.cache()
    def echo(req, resp):
        resp.media = {"params": sorted(req.params.items())}

    headers = {"Accept": accept.strip(), "If-None-Match": if_none_match.strip()}
    params = {"q": query}
    first = app.client.get("/echo", params=params, headers=headers)
    second = app.client.get("/echo", params=params, headers=headers)
    assert first.status_code in (200, 304) and second.status_code in (200, 304)
    if second.status_code == 200:
        assert second.headers["x-cache"] == "hit" and second.content == first.content
    app.client.close()


async def test_an_invalidation_during_the_computation_is_not_lost():
    """The view read its data, then the data changed and its tag was
    invalidated, then the view's response is stored: it must not be served."""
    app = make_app()
    cache = Cache(app)
    data = {"version": 1}
    reading = asyncio.Event()
    changed = asyncio.Event()

    @app.route("/data")
    @cache.cache(tags=["data"])
    async def view(req, resp):
        snapshot = dict(data)
        reading.set()
        await changed.wait()
        resp.media = snapshot

    async def change():
        await reading.wait()
        data["version"] = 2
        await cache.invalidate_tags("data")
        changed.set()

    async with AsyncTestClient(app) as client:
        first, _ = await asyncio.gather(client.get("/data"), change())
        assert first.json() == {"version": 1}
        assert (await client.get("/data")).json() == {"version": 2}

    async def compute():
        await cache.invalidate_tags("manual")
        return "stale"

    assert await cache.get_or_set("m", compute, tags=["manual"]) == "stale"
    assert await cache.get("m") is None
