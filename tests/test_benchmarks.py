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

