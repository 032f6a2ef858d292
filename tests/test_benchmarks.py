"""The benchmark apps answer every scenario correctly, and alike.

The load run (``python3 -m benchmarks``) is not part of the test suite; this
keeps its apps from rotting: each framework is driven in process through every
scenario and checked against the scenario's expected answer, here when it is
installed (dyne, Starlette and the raw ASGI app at least), otherwise in the load
run's venv for it (``benchmarks/.venvs/<framework>``).
"""

import ast
import asyncio
import contextlib
import html
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from benchmarks.inprocess import Lifespan, call, check, load_app
from benchmarks.run import FRAMEWORKS, ensure_venv, venv_python
from benchmarks.scenarios import SCENARIOS, check_response

from tests.conftest import REQUIRE_SERVICES, ROOT, service_unavailable

NEEDS = {"raw": "pydantic", "dyne": "dyne", "starlette": "starlette", "fastapi": "fastapi",
         "litestar": "litestar", "blacksheep": "blacksheep", "responder": "responder"}


def test_every_framework_of_the_run_has_an_app():
    assert {fw.key for fw in FRAMEWORKS if fw.has_suite("default")} == set(NEEDS)


@pytest.mark.timeout(900)  # may first set up the framework's venv
@pytest.mark.parametrize("framework", sorted(NEEDS))
def test_benchmark_app_answers_every_scenario(framework):
    if importlib.util.find_spec(NEEDS[framework]) is not None:
        assert asyncio.run(check(framework)) == []
        return
    # Not installed beside dyne: check it in the load run's own venv for it (set up
    # here under DYNE_REQUIRE_SERVICES=1, as `python -m benchmarks` would).
    if REQUIRE_SERVICES or venv_python(framework).exists():
        ensure_venv(framework)  # (re)made when its requirements changed
    else:
        pytest.skip(f"{NEEDS[framework]} is not installed here, and benchmarks/.venvs/{framework} "
                    "does not exist (python -m benchmarks sets it up)")
    result = subprocess.run([str(venv_python(framework)), "-m", "benchmarks.inprocess", framework,
                             "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr



async def test_cached_report_scenarios_hit_the_cache_and_answer_like_the_uncached_one(redis_url):
    """dyne's cache scenarios: the same answer as the uncached report, and from
    the second request on, a hit (in memory and on the real Redis server)."""
    from benchmarks.scenarios import CACHE_SCENARIOS

    app = load_app("dyne", "cache")
    async with Lifespan(app):
        await app.extensions["cache"].clear()
        await app.extensions["redis_cache"].clear()
        for scenario in CACHE_SCENARIOS:
            assert scenario.applies_to("dyne") and not scenario.applies_to("starlette")
            for attempt in range(3):
                status, headers, body = await call(app, "GET", scenario.path)
                assert check_response(scenario, status, headers, body) is None, scenario.name
                if scenario.name != "report":
                    assert headers["x-cache"] == ("miss" if attempt == 0 else "hit"), scenario.name
        await app.extensions["redis_cache"].clear()


def test_scenarios_of_one_framework_start_no_server_for_the_others():
    from benchmarks.scenarios import CACHE_SCENARIOS

    assert {s.target for s in CACHE_SCENARIOS} == {"cache"}
    assert all(s.frameworks == ("dyne",) for s in CACHE_SCENARIOS)
    assert all(s.applies_to(fw) for s in SCENARIOS if s.frameworks is None for fw in NEEDS)


def test_observability_scenarios_measure_what_they_say():
    """The observed apps really log, count and trace; the plain app has none
    of it (no middleware at all)."""
    pytest.importorskip("loguru")
    pytest.importorskip("prometheus_client")
    pytest.importorskip("opentelemetry.sdk")
    plain, observed = load_app("dyne", "app"), load_app("dyne", "observed")
    assert plain.build_middleware_stack() == plain._dispatch
    assert {"request_context", "metrics", "tracing"} <= set(observed.extensions)
    assert not {"request_context", "metrics", "tracing"} & set(plain.extensions)
    assert [s.name for s in SCENARIOS if s.baseline == "hello" and s.target != "controlled"] == [
        "logged", "metered", "traced", "observed"]


async def test_observability_off_runs_none_of_its_code():
    """Zero cost when off: with the extensions imported and in use by another
    app in the same process, a request to the plain app calls no function of
    dyne.logging, dyne.ext.observability, loguru, prometheus_client or
    opentelemetry."""
    import sys

    pytest.importorskip("loguru")
    pytest.importorskip("opentelemetry.sdk")
    plain, observed = load_app("dyne", "app"), load_app("dyne", "observed")
    async with Lifespan(observed), Lifespan(plain):
        assert (await call(observed, "GET", "/"))[0] == 200  # everything imported and warm
        called: set[str] = set()

        def profile(frame, event, arg):
            if event == "call":
                called.add(frame.f_globals.get("__name__", ""))

        sys.setprofile(profile)
        try:
            status, _, _ = await call(plain, "GET", "/")
        finally:
            sys.setprofile(None)
        assert status == 200
        assert any(name.startswith("dyne.") for name in called)  # the profiler saw dyne work
        watched = ("dyne.logging", "dyne.ext.observability", "loguru", "prometheus_client",
                   "opentelemetry")
        assert not [name for name in called if name.startswith(watched)], sorted(called)


def test_observability_scenarios_are_compared_with_dyne_hello():
    """The load run reports each observability scenario as a ratio to dyne's
    own hello-world in the same round (the cost of turning it on), and the
    other frameworks are not asked to serve these targets."""
    from benchmarks.run import markdown, summarize

    def run(rps, round_index):
        return {"rps": rps, "cpu_us": 1e6 / rps, "round": round_index, "p50_us": 1000.0,
                "p99_us": 2000.0, "errors": 0}

    samples = {
        "hello": {"raw": [run(1000, 0), run(1100, 1)], "dyne": [run(800, 0), run(880, 1)]},
        "logged": {"dyne": [run(400, 0), run(660, 1)]},
    }
    summary = summarize(samples, 2, {"hello": None, "logged": "hello"})
    assert summary["hello"]["dyne"]["ratio"] == pytest.approx(0.8)     # vs raw
    assert summary["logged"]["dyne"]["ratio"] == pytest.approx((0.5 + 0.75) / 2)  # vs dyne hello
    # CPU per request: dyne hello's median over the observed scenario's median.
    hello_cpu = (1e6 / 800 + 1e6 / 880) / 2
    logged_cpu = (1e6 / 400 + 1e6 / 660) / 2
    assert summary["logged"]["dyne"]["cpu_ratio"] == pytest.approx(hello_cpu / logged_cpu)
    assert "raw" not in summary["logged"]
    report = {"meta": {"started": "t", "rounds": 2, "duration_s": 3, "warmup_s": 2, "threads": 1,
                       "connections": 64, "cpus": 2, "loadavg_start": "0", "loadavg_end": "0",
                       "elapsed_s": 1.0, "frameworks": ["raw", "dyne"]},
              "summary": summary, "versions": {}, "import_ms": {}, "idle_rss_kb": {},
              "failures": [], "targets": []}
    text = markdown(report)
    assert "hello + request id + access log (vs dyne hello)" in text
    assert "| raw ASGI | 1.00 | n/a |" in text
    for scenario in SCENARIOS:
        if scenario.baseline:
            assert scenario.applies_to("dyne") and not scenario.applies_to("starlette")


# -- the TechEmpower suite (python3 -m benchmarks --suite tfb) ---------------------------------

#: What the batteries flavour needs beside the framework.
TFB_BATTERIES_NEEDS = {"dyne": ("sqlalchemy",), "fastapi": ("sqlalchemy",),
                       "litestar": ("advanced_alchemy",)}
TFB_URL = os.environ.get("DYNE_TEST_TFB_URL", "postgresql://postgres@127.0.0.1:5432/dyne_tfb_test")


@pytest.fixture(scope="module")
def tfb_database():
    """The TFB tables, created and seeded on the real PostgreSQL by the runner's own code."""
    from benchmarks.tfb_db import seed

    try:
        seed(TFB_URL)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        service_unavailable("PostgreSQL", f"cannot seed the TFB tables at {TFB_URL}: {exc}")
    return TFB_URL


@pytest.fixture
def tfb_env(tfb_database, monkeypatch):
    monkeypatch.setenv("TFB_DATABASE_URL", tfb_database)
    monkeypatch.setenv("TFB_POOL_SIZE", "2")
    # The apps read the URL when imported: import them afresh for this database.
    for name in [m for m in sys.modules if m.startswith("benchmarks.apps.")]:
        monkeypatch.delitem(sys.modules, name)
    return tfb_database


def test_every_framework_has_a_tfb_app_and_the_orm_ones_a_batteries_flavour():
    from benchmarks.scenarios import TFB_FRAMEWORKS_BATTERIES, TFB_SCENARIOS

    for framework in NEEDS:
        tree = ast.parse((ROOT / "benchmarks" / "apps" / f"{framework}_tfb.py").read_text())
        names = {target.id for node in tree.body if isinstance(node, ast.Assign)
                 for target in node.targets if isinstance(target, ast.Name)}
        names |= {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
        assert "driver" in names, framework
        assert ("batteries" in names) == (framework in TFB_FRAMEWORKS_BATTERIES), framework
    assert {s.target for s in TFB_SCENARIOS} == {"driver", "batteries"}
    assert {s.path.split("?")[0] for s in TFB_SCENARIOS} == {
        "/plaintext", "/json", "/db", "/queries", "/fortunes", "/updates"}


def test_tfb_checks_refuse_wrong_answers():
    """A wrong answer is reported, not measured: each check fails on what a
    broken app would send."""
    from benchmarks.scenarios import (
        BY_NAME,
        FORTUNES,
        fortunes_rows,
        validate_fortunes,
        validate_world,
        validate_worlds,
    )

    assert validate_world(b'{"id": 1, "randomNumber": 10000}') is None
    assert validate_world(b'{"id": 0, "randomNumber": 5}') is not None
    assert validate_world(b'{"id": 1, "randomnumber": 5}') is not None
    assert validate_world(b'{"id": true, "randomNumber": 5}') is not None
    assert validate_worlds(2)(b'[{"id": 1, "randomNumber": 2}]') is not None
    assert validate_worlds(1)(b'[{"id": 1, "randomNumber": 2}]') is None

    def page(rows):
        cells = "".join(f"<tr><td>{i}</td><td>{m}</td></tr>" for i, m in rows)
        return f"<table><tr><th>id</th><th>message</th></tr>{cells}</table>".encode()

    escaped = [(i, html.escape(m)) for i, m in fortunes_rows()]
    assert validate_fortunes(page(escaped)) is None
    assert validate_fortunes(page(fortunes_rows())) is not None           # not escaped
    assert validate_fortunes(page(escaped[1:])) is not None               # one row missing
    assert validate_fortunes(page(list(reversed(escaped)))) is not None   # not sorted
    no_extra = [(i, html.escape(m)) for i, m in sorted(enumerate(FORTUNES, 1), key=lambda r: r[1])]
    assert validate_fortunes(page(no_extra)) is not None                  # no request-time fortune
    plaintext = BY_NAME["plaintext"]
    assert check_response(plaintext, 200, {"content-type": "application/json"}, b"Hello, World!")


@pytest.mark.timeout(900)  # may first set up the framework's venv
@pytest.mark.parametrize("framework", sorted(NEEDS))
def test_tfb_app_answers_every_scenario_on_postgresql(framework, tfb_env):
    needs = [NEEDS[framework], "asyncpg", "jinja2",
             *TFB_BATTERIES_NEEDS.get(framework, ())]
    if all(importlib.util.find_spec(name) is not None for name in needs):
        assert asyncio.run(check(framework, "tfb")) == []
        return
    if REQUIRE_SERVICES or venv_python(framework).exists():
        ensure_venv(framework)  # (re)made when its requirements changed
    else:
        pytest.skip(f"{NEEDS[framework]} is not installed here, and benchmarks/.venvs/{framework} "
                    "does not exist (python -m benchmarks sets it up)")
    result = subprocess.run([str(venv_python(framework)), "-m", "benchmarks.inprocess", framework,
                             "--check", "--suite", "tfb"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["driver", "batteries"])
def test_dyne_tfb_updates_are_written_and_queries_clamped(target, tfb_env):
    """What the answers cannot show: the updated numbers are in the database,
    and the queries parameter is clamped as the rules say."""
    import asyncpg

    app = load_app("dyne", target, "tfb")

    async def scenario():
        async with Lifespan(app) as lifespan:
            status, _, body = await call(app, "GET", "/updates?queries=20", state=lifespan.state)
            assert status == 200
            worlds = json.loads(body)
            for query, expected in (("0", 1), ("foo", 1), ("", 1), ("501", 500), ("7", 7)):
                status, _, body = await call(app, "GET", f"/queries?queries={query}",
                                             state=lifespan.state)
                assert (status, len(json.loads(body))) == (200, expected), query
        connection = await asyncpg.connect(tfb_env)
        try:
            rows = await connection.fetch("SELECT id, randomnumber FROM world WHERE id = ANY($1)",
                                          [w["id"] for w in worlds])
        finally:
            await connection.close()
        assert {r["id"]: r["randomnumber"] for r in rows} == {w["id"]: w["randomNumber"]
                                                               for w in worlds}

    asyncio.run(scenario())


# -- seed 003's benchmark: list users from SQLite at 200 connections (--suite users) ----------

#: The users suite's frameworks: every one, and Patera (seed 003's), which has only this suite.
USERS_APPS = {**NEEDS, "patera": "patera"}
#: What the users suite needs beside the framework (the batteries flavour's ORM too).
USERS_NEEDS = {"dyne": ("aiosqlite", "sqlalchemy", "alchemical"),
               "fastapi": ("aiosqlite", "sqlalchemy"),
               "litestar": ("aiosqlite", "advanced_alchemy"),
               "patera": ("aiosqlite", "patera.database.sql")}


@pytest.fixture
def users_env(tmp_path, monkeypatch):
    """A fresh SQLite file for the users apps, seeded by the runner's own code."""
    from benchmarks.users_db import ENV, seed

    path = seed(str(tmp_path / "users.sqlite3"))
    monkeypatch.setenv(ENV, path)
    monkeypatch.setenv("USERS_POOL_SIZE", "2")
    # The apps read the path when imported: import them afresh for this file.
    for name in [m for m in sys.modules if m.startswith("benchmarks.apps.")]:
        monkeypatch.delitem(sys.modules, name)
    return path


def test_users_suite_is_seed_003s_benchmark(users_env):
    """GET /api/v1/users at 200 connections, answered with the seeded rows: a
    handful of users, about the 139 bytes of Patera's example."""
    import sqlite3

    from benchmarks.scenarios import USERS_SCENARIOS

    with contextlib.closing(sqlite3.connect(users_env)) as connection:
        rows = connection.execute("SELECT id, name, email FROM users ORDER BY id").fetchall()
    seeded = [{"id": i, "name": name, "email": email} for i, name, email in rows]
    assert len(seeded) >= 3
    assert 120 <= len(json.dumps(seeded, separators=(",", ":"))) <= 160
    for scenario in USERS_SCENARIOS:
        assert (scenario.method, scenario.path, scenario.connections) == (
            "GET", "/api/v1/users", 200)
        assert scenario.expected == seeded
    assert {s.target for s in USERS_SCENARIOS} == {"driver", "batteries"}


def test_users_suite_runs_wrk_with_200_connections_unless_told_otherwise():
    from benchmarks.run import _connections_text, connections_for, parse_args

    args = parse_args(["--suite", "users"])
    assert [connections_for(s, args) for s in args.scenarios] == [200, 200]
    args = parse_args(["--suite", "users", "--connections", "32"])
    assert {connections_for(s, args) for s in args.scenarios} == {32}
    args = parse_args(["--scenarios", "hello,path"])
    assert {connections_for(s, args) for s in args.scenarios} == {64}
    assert _connections_text({"users": 200, "users-orm": 200}) == "-c200"
    assert _connections_text(64) == "-c64"  # a report saved before scenarios had their own
    assert _connections_text({"hello": 64, "users": 200}) == "-c64 for hello; -c200 for users"


def test_users_checks_refuse_wrong_answers():
    from benchmarks.scenarios import BY_NAME, USERS

    scenario = BY_NAME["users"]
    ok = json.dumps(list(USERS)).encode()
    assert check_response(scenario, 200, {"content-type": "application/json"}, ok) is None
    for wrong in (list(USERS)[1:], list(reversed(USERS)), [dict(u, email="") for u in USERS]):
        body = json.dumps(wrong).encode()
        assert check_response(scenario, 200, {"content-type": "application/json"}, body)
    assert check_response(scenario, 500, {"content-type": "application/json"}, ok)


def test_every_framework_has_a_users_app_and_the_orm_ones_a_batteries_flavour():
    from benchmarks.run import parse_args
    from benchmarks.scenarios import USERS_FRAMEWORKS_BATTERIES

    assert parse_args(["--suite", "users"]).frameworks == [fw.key for fw in FRAMEWORKS]
    assert {fw.key for fw in FRAMEWORKS} == set(USERS_APPS)
    assert "patera" not in parse_args([]).frameworks
    assert "patera" not in parse_args(["--suite", "tfb"]).frameworks
    for framework in USERS_APPS:
        tree = ast.parse((ROOT / "benchmarks" / "apps" / f"{framework}_users.py").read_text())
        names = {target.id for node in tree.body if isinstance(node, ast.Assign)
                 for target in node.targets if isinstance(target, ast.Name)}
        names |= {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
        assert "driver" in names, framework
        assert ("batteries" in names) == (framework in USERS_FRAMEWORKS_BATTERIES), framework


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package is missing
        return False


@pytest.mark.timeout(900)  # may first set up the framework's venv
@pytest.mark.parametrize("framework", sorted(USERS_APPS))
def test_users_app_answers_the_seeded_users(framework, users_env):
    from benchmarks.run import unavailable

    needs = [USERS_APPS[framework], "aiosqlite", *USERS_NEEDS.get(framework, ())]
    if all(_installed(name) for name in needs):
        assert asyncio.run(check(framework, "users")) == []
        return
    if unavailable(framework):  # Patera on a machine without Python 3.12+
        pytest.skip(unavailable(framework))
    if REQUIRE_SERVICES or venv_python(framework).exists():
        ensure_venv(framework)  # (re)made when its requirements changed
    else:
        pytest.skip(f"{USERS_APPS[framework]} is not installed here, and "
                    f"benchmarks/.venvs/{framework} does not exist (python -m benchmarks sets it up)")
    result = subprocess.run([str(venv_python(framework)), "-m", "benchmarks.inprocess", framework,
                             "--check", "--suite", "users"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_dyne_users_answer_follows_the_database(users_env):
    """The answer is read from SQLite on each request, not fixed: a user added
    to the table shows up in both of dyne's flavours."""
    import sqlite3

    pytest.importorskip("aiosqlite")
    pytest.importorskip("alchemical")
    for target in ("driver", "batteries"):
        app = load_app("dyne", target, "users")
        async with Lifespan(app) as lifespan:
            with contextlib.closing(sqlite3.connect(users_env)) as connection, connection:
                connection.execute("INSERT INTO users (id, name, email) VALUES "
                                   f"(9, '{target}', 'x@example.com')")
            status, _, body = await call(app, "GET", "/api/v1/users", state=lifespan.state)
            assert status == 200
            assert json.loads(body)[-1] == {"id": 9, "name": target, "email": "x@example.com"}
            with contextlib.closing(sqlite3.connect(users_env)) as connection, connection:
                connection.execute("DELETE FROM users WHERE id = 9")


def test_patera_runs_only_the_users_suite_on_a_new_enough_python(monkeypatch):
    """Patera is asked for its own benchmark only, and its venv gets a Python it
    installs on (3.12+), or it is reported as not set up, saying why."""
    from benchmarks import run

    with pytest.raises(SystemExit):
        run.parse_args(["--frameworks", "dyne,patera"])  # no default-suite app for it
    assert run.BY_KEY["patera"].min_python == (3, 12)
    monkeypatch.setattr(run, "_interpreters", {})
    monkeypatch.setenv("BENCHMARKS_PYTHON_PATERA", sys.executable)
    if sys.version_info >= (3, 12):
        assert run.interpreter("patera") == (sys.executable, sys.version)
        assert run.unavailable("patera") is None
    else:  # the runner's own Python is too old, and so is the one named
        assert run.interpreter("patera") is None
        assert "needs Python >= 3.12" in run.unavailable("patera")
        assert "BENCHMARKS_PYTHON_PATERA" in run.unavailable("patera")
    monkeypatch.delenv("BENCHMARKS_PYTHON_PATERA")
    monkeypatch.setattr(run, "_interpreters", {})
    found = run.interpreter("patera")
    if found is not None:  # found on this machine: it really is 3.12+
        out = subprocess.run([found[0], "-c", "import sys; print(sys.version_info >= (3, 12))"],
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "True"
    assert run.interpreter("dyne") == (sys.executable, sys.version)


def test_the_memory_reported_is_of_the_app_every_framework_serves():
    """Servers start one app at a time; the first, whose memory the report
    shows, is the one that the most frameworks have."""
    from benchmarks.run import parse_args, server_groups

    for suite, first in (("users", ("users", "driver")), ("tfb", ("tfb", "driver")),
                         ("default", ("app", "app"))):
        args = parse_args(["--suite", suite])
        groups = server_groups(args.scenarios, args.frameworks)
        assert groups[0] == first, suite
        assert sorted(groups) == sorted({(s.module, s.target) for s in args.scenarios})


# -- the instruction counter (benchmarks/instructions.py) -------------------------------

def test_instruction_counter_drives_a_real_server_with_the_scenario_request():
    """The client behind ``python3 -m benchmarks.instructions`` sends each
    scenario's request, keep-alive, once per answer, and refuses an error answer
    (so a broken app is never counted)."""
    from benchmarks.instructions import _drive, _request_bytes
    from benchmarks.scenarios import BY_NAME

    import dyne
    from tests.conftest import serve_in_thread

    app = dyne.App()
    seen: list[tuple[str, bytes]] = []

    @app.route("/items", methods=["POST"])
    async def items(req, resp):
        seen.append((req.method, await req.content))
        resp.media = {"ok": True}

    post = BY_NAME["post"]
    with serve_in_thread(app) as url:
        port = int(url.rsplit(":", 1)[1])
        _drive(port, _request_bytes(post), 25)
        assert seen == [("POST", post.body)] * 25
        with pytest.raises(RuntimeError, match="unexpected answer"):
            _drive(port, _request_bytes(BY_NAME["hello"]), 1)  # no route: a 404
