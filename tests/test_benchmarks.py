"""The benchmark apps answer every scenario correctly, and alike.

The load run (``python3 -m benchmarks``) is not part of the test suite; this
keeps its apps from rotting: each framework is driven in process through every
scenario and checked against the scenario's expected answer, here when it is
installed (dyne, Starlette and the raw ASGI app at least), otherwise in the load
run's venv for it (``benchmarks/.venvs/<framework>``).
"""

import asyncio
import importlib.util
import subprocess

import pytest
from benchmarks.inprocess import Lifespan, call, check, load_app
from benchmarks.run import FRAMEWORKS, ensure_venv, venv_python
from benchmarks.scenarios import SCENARIOS, check_response

from tests.conftest import REQUIRE_SERVICES, ROOT

NEEDS = {"raw": "pydantic", "dyne": "dyne", "starlette": "starlette", "fastapi": "fastapi",
         "litestar": "litestar", "blacksheep": "blacksheep", "responder": "responder"}


def test_every_framework_of_the_run_has_an_app():
    assert {fw.key for fw in FRAMEWORKS} == set(NEEDS)


@pytest.mark.timeout(900)  # may first set up the framework's venv
@pytest.mark.parametrize("framework", sorted(NEEDS))
def test_benchmark_app_answers_every_scenario(framework):
    if importlib.util.find_spec(NEEDS[framework]) is not None:
        assert asyncio.run(check(framework)) == []
        return
    # Not installed beside dyne: check it in the load run's own venv for it (set up
    # here under DYNE_REQUIRE_SERVICES=1, as `python -m benchmarks` would).
    if REQUIRE_SERVICES:
        ensure_venv(framework)
    elif not venv_python(framework).exists():
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
