"""The test suite's own rules: no test can hang CI, and CI skips nothing.

Each check runs pytest in a subprocess, with this project's configuration
(``pyproject.toml``) and ``tests/conftest.py``, on a small test file written for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from tests.conftest import ROOT


def run_pytest(tmp_path, source: str, *, require_services: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(source, encoding="utf-8")
    env = {**os.environ, "DYNE_REQUIRE_SERVICES": "1" if require_services else "0"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
         "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_sample.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_every_test_has_a_timeout():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert 60 <= int(config["tool"]["pytest"]["ini_options"]["timeout"]) <= 600
    assert any(dep.startswith("pytest-timeout") for dep in config["project"]["optional-dependencies"]["dev"])


def test_a_hanging_test_fails_instead_of_hanging(tmp_path):
    result = run_pytest(tmp_path, """
import time
import pytest

@pytest.mark.timeout(2)
def test_hangs():
    while True:
        time.sleep(0.05)
""", require_services=False)
    assert result.returncode == 1, result.stdout
    assert "Timeout" in result.stdout and "1 failed" in result.stdout


SKIPPING = """
import pytest

def test_skips():
    pytest.skip("no frobnicator here")

@pytest.mark.skipif(True, reason="not on this machine")
def test_marked():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False

def test_passes():
    pass
"""


def test_skips_are_failures_when_services_are_required(tmp_path):
    result = run_pytest(tmp_path, SKIPPING, require_services=True)
    assert result.returncode == 1, result.stdout
    assert "no frobnicator here" in result.stdout and "not on this machine" in result.stdout
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in result.stdout


def test_skips_are_skips_on_a_developers_machine(tmp_path):
    result = run_pytest(tmp_path, SKIPPING, require_services=False)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in result.stdout


def test_a_module_skipped_at_collection_fails_when_services_are_required(tmp_path):
    result = run_pytest(tmp_path, 'import pytest\npytest.importorskip("no_such_module_here")\n',
                        require_services=True)
    assert result.returncode != 0, result.stdout
    assert "no_such_module_here" in result.stdout
