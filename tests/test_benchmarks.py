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
from benchmarks.inprocess import check
from benchmarks.run import FRAMEWORKS, ensure_venv, venv_python

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
