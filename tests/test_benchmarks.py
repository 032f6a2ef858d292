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
    targets = sorted({s.target for s in SCENARIOS if s.applies_to(framework)})
    assert {"app", "many"} <= set(targets)
    for target in targets:
        app = load_app(framework, target)
        async with Lifespan(app):
            for scenario in (s for s in SCENARIOS if s.target == target and s.applies_to(framework)):
                status, headers, body = await call(app, scenario.method, scenario.path,
                                                   scenario.headers, scenario.body)
                problem = check_response(scenario, status, headers, body)
                assert problem is None, f"{framework} {scenario.name}: {problem}"
                for method, path, bad_body, bad_headers, allowed in scenario.negative:
                    status, _, _ = await call(app, method, path, bad_headers, bad_body)
                    assert check_negative(allowed, status) is None, (framework, path, status)



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
    assert [s.name for s in SCENARIOS if s.baseline] == ["logged", "metered", "traced", "observed"]


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
