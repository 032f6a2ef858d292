"""``dyne run``: options after the command, --app forms, one default port,
errors that name the problem and the fix."""

from __future__ import annotations

import os
import sys
import textwrap

import httpx
import pytest
from click.testing import CliRunner

import dyne
from dyne import cli as cli_module
from dyne.cli import cli
from tests.conftest import free_port, serve_in_subprocess


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("PORT", "DYNE_APP", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEBUG", "")
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "app.py").write_text("import dyne\napp = dyne.App()\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "service.py").write_text(textwrap.dedent("""
        import dyne

        api = dyne.App()
        admin = dyne.App()

        @api.route("/", methods=["GET"])
        def index(req, resp):
            resp.text = "from a file"
    """))
    names = ("app", "service")
    for name in names:
        sys.modules.pop(name, None)
    yield tmp_path
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def uvicorn_calls(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.append((target, kwargs)))
    return calls


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_options_after_run(project, uvicorn_calls):
    result = invoke("run", "--port", "5099", "--host", "127.0.0.2", "--app", "app:app")
    assert result.exit_code == 0, result.output
    target, options = uvicorn_calls[-1]
    assert (target, options["host"], options["port"], options["reload"]) == (
        "app:app", "127.0.0.2", 5099, False)


def test_debug_and_reload_after_run(project, uvicorn_calls):
    assert invoke("run", "--debug").exit_code == 0
    assert (uvicorn_calls[-1][1]["reload"], uvicorn_calls[-1][1]["log_level"]) == (True, "debug")
    assert os.environ["DEBUG"] == "true"
    assert invoke("run", "--no-reload", "--debug").exit_code == 0
    assert uvicorn_calls[-1][1]["reload"] is False
    assert invoke("--no-reload", "run", "--debug").exit_code == 0
    assert uvicorn_calls[-1][1]["reload"] is False
    assert invoke("run", "--reload").exit_code == 0
    assert uvicorn_calls[-1][1]["reload"] is True


def test_the_option_after_run_wins(project, uvicorn_calls):
    assert invoke("--port", "6000", "run", "--port", "6001").exit_code == 0
    assert uvicorn_calls[-1][1]["port"] == 6001


def test_run_help_shows_every_option():
    output = invoke("run", "--help").output
    for option in ("--host", "--port", "--app", "--debug", "--reload", "--workers"):
        assert option in output, option


def test_app_as_a_file_path(project, uvicorn_calls):
    assert invoke("run", "--app", "src/service.py:api").exit_code == 0
    assert uvicorn_calls[-1][0] == "service:api"
    assert str(project / "src") in sys.path
    result = invoke("run", "--app", "src/service.py")  # no `app` there: name the ones it has
    assert result.exit_code == 1
    assert "Module 'service' has no attribute 'app'" in result.output
    assert "It defines admin, api: use --app service:admin" in result.output


def test_missing_file_names_the_forms(project, uvicorn_calls):
    result = invoke("run", "--app", "nowhere/app.py")
    assert result.exit_code == 1
    assert "No such file: 'nowhere/app.py'" in result.output
    assert "module:variable" in result.output
    assert uvicorn_calls == []


def test_bad_port_is_a_usage_error(project, uvicorn_calls):
    result = invoke("run", "--port", "99999")
    assert result.exit_code == 2 and "99999" in result.output
    result = invoke("run", "--port", "http")
    assert result.exit_code == 2 and "'http' is not a valid integer" in result.output


def test_app_run_and_dyne_run_default_addresses(project, uvicorn_calls, monkeypatch):
    """Both bind loopback; the ports are the ones Dyne's documentation gives:
    8000 for ``dyne run`` (its --port default), 5042 for ``app.run()``."""
    assert invoke("run").exit_code == 0
    dyne.App().run()
    (_, from_cli), (_, from_app) = uvicorn_calls
    assert (from_cli["host"], from_cli["port"]) == (cli_module.DEFAULT_HOST, 8000)
    assert (from_app["host"], from_app["port"]) == (cli_module.DEFAULT_HOST, 5042)


def test_dyne_run_port_after_run_serves_a_file_app(project):
    port = free_port()
    dyne_bin = os.path.join(os.path.dirname(sys.executable), "dyne")
    with serve_in_subprocess([dyne_bin, "run", "--app", "src/service.py:api", "--port", str(port)],
                             port, env={"DYNE_APP": "", "PORT": ""}, cwd=project):
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "from a file"
