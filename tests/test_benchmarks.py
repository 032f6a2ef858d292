"""The benchmark apps answer every scenario correctly, and alike.

The load run (``python3 -m benchmarks``) is not part of the test suite; this
keeps its apps from rotting: each framework installed here (dyne, Starlette
and the raw ASGI app at least; the others when present) is driven in process
through every scenario and checked against the scenario's expected answer.
"""

import importlib.util

import pytest
from benchmarks.inprocess import Lifespan, call, load_app
from benchmarks.run import FRAMEWORKS
from benchmarks.scenarios import SCENARIOS, check_negative, check_response

NEEDS = {"raw": "pydantic", "dyne": "dyne", "starlette": "starlette", "fastapi": "fastapi",
         "litestar": "litestar", "blacksheep": "blacksheep", "responder": "responder"}


def test_every_framework_of_the_run_has_an_app():
    assert {fw.key for fw in FRAMEWORKS} == set(NEEDS)


@pytest.mark.parametrize("framework", sorted(NEEDS))
async def test_benchmark_app_answers_every_scenario(framework):
    if importlib.util.find_spec(NEEDS[framework]) is None:
        pytest.skip(f"{NEEDS[framework]} is not installed here")
    for target in ("app", "many"):
        app = load_app(framework, target)
        async with Lifespan(app):
            for scenario in (s for s in SCENARIOS if s.target == target):
                status, headers, body = await call(app, scenario.method, scenario.path,
                                                   scenario.headers, scenario.body)
                problem = check_response(scenario, status, headers, body)
                assert problem is None, f"{framework} {scenario.name}: {problem}"
                for method, path, bad_body, bad_headers, allowed in scenario.negative:
                    status, _, _ = await call(app, method, path, bad_headers, bad_body)
                    assert check_negative(allowed, status) is None, (framework, path, status)



async def test_cached_report_scenarios_hit_the_cache_and_answer_like_the_uncached_one(redis_url):
    """dyne's cache scenarios: the same answer as the uncached report, and from
    the second request on, a hit (in memory and on the real Redis server)."""
    from benchmarks.scenarios import CACHE_SCENARIOS

    app = load_app("dyne", "cache")
    async with Lifespan(app):
        await app.extensions["cache"].clear()
        await app.extensions["redis_cache"].clear()
        for scenario in CACHE_SCENARIOS:
            assert scenario.runs_on("dyne") and not scenario.runs_on("starlette")
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
    assert all(s.runs_on(fw) for s in SCENARIOS if s.target != "cache" for fw in NEEDS)
