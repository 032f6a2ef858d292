import os
import subprocess
import sys
import textwrap
import time

import click
import httpx
import pytest
from click.testing import CliRunner

from dyne import cli as cli_module
from dyne.__version__ import __version__
from dyne.cli import cli, load_app, normalize_app_path
from tests.conftest import ROOT, free_port, serve_in_subprocess


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"dyne {__version__}"


def test_app_path_gets_app_appended():
    assert normalize_app_path("myapp") == "myapp:app"
    assert normalize_app_path("pkg.main:api") == "pkg.main:api"


def test_load_app_errors_are_clear(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cli_target_mod.py").write_text("import dyne\napi = dyne.App()\n")
    assert load_app("cli_target_mod:api").__class__.__name__ == "App"
    with pytest.raises(click.ClickException, match="Could not import 'nowhere_mod'"):
        load_app("nowhere_mod")
    with pytest.raises(click.ClickException, match="has no attribute 'app'"):
        load_app("cli_target_mod")
    # A module with only an application factory (PyJolt's layout) says how to name it.
    (tmp_path / "cli_factory_mod.py").write_text(
        "import dyne\n\ndef create_app():\n    return dyne.App()\n")
    with pytest.raises(click.ClickException, match="use --app cli_factory_mod:create_app"):
        load_app("cli_factory_mod")


# -- dyne run: options as the Dyne CLI documentation lists them ---------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory with ``app.py`` (``app``) and ``myproject/main.py`` (``api``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("DYNE_APP", raising=False)
    monkeypatch.setenv("DEBUG", "")
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import dyne

        app = dyne.App()

        @app.route("/")
        def index(req, resp):
            resp.text = "hi"

        @app.route("/ws", websocket=True)
        async def ws(ws):
            await ws.accept()
    """))
    (tmp_path / "myproject").mkdir()
    (tmp_path / "myproject" / "__init__.py").write_text("")
    (tmp_path / "myproject" / "main.py").write_text("import dyne\napi = dyne.App()\n")
    for name in ("app", "myproject", "myproject.main"):
        sys.modules.pop(name, None)
    yield tmp_path
    for name in ("app", "myproject", "myproject.main"):
        sys.modules.pop(name, None)


@pytest.fixture
def uvicorn_calls(monkeypatch):
    calls = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.append((target, kwargs)))
    return calls


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_run_defaults(project, uvicorn_calls):
    result = invoke("run")
    assert result.exit_code == 0, result.output
    target, options = uvicorn_calls[0]
    assert target == "app:app"
    assert (options["host"], options["port"], options["reload"], options["log_level"]) == (
        "127.0.0.1", cli_module.DEFAULT_PORT, False, "info")


@pytest.mark.parametrize("args, target", [
    (["--app", "myproject.main:api"], "myproject.main:api"),
    (["-a", "myproject.main:api"], "myproject.main:api"),
    (["--app", "app"], "app:app"),
])
def test_app_option(project, uvicorn_calls, args, target):
    assert invoke(*args, "run").exit_code == 0
    assert uvicorn_calls[0][0] == target


def test_dyne_app_environment_variable(project, uvicorn_calls):
    assert invoke("run", env={"DYNE_APP": "myproject.main:api"}).exit_code == 0
    assert uvicorn_calls[0][0] == "myproject.main:api"


def test_debug_sets_log_level_reload_and_environment(project, uvicorn_calls):
    assert invoke("--debug", "run").exit_code == 0
    options = uvicorn_calls[0][1]
    assert (options["log_level"], options["reload"]) == ("debug", True)
    assert os.environ["DEBUG"] == "true"
    assert options["reload_dirs"] == [str(project)]


def test_reload_flags_override_debug(project, uvicorn_calls):
    assert invoke("--debug", "--no-reload", "run").exit_code == 0
    assert invoke("--reload", "run").exit_code == 0
    assert [kwargs["reload"] for _, kwargs in uvicorn_calls] == [False, True]


def test_host_and_port(project, uvicorn_calls):
    assert invoke("--host", "0.0.0.0", "--port", "9000", "run").exit_code == 0
    assert uvicorn_calls[-1][1]["host"] == "0.0.0.0" and uvicorn_calls[-1][1]["port"] == 9000


def test_port_environment_variable_binds_all_interfaces(project, uvicorn_calls):
    assert invoke("run", env={"PORT": "9100"}).exit_code == 0
    assert (uvicorn_calls[-1][1]["host"], uvicorn_calls[-1][1]["port"]) == ("0.0.0.0", 9100)
    assert invoke("--port", "9200", "run", env={"PORT": "9100"}).exit_code == 0
    assert uvicorn_calls[-1][1]["port"] == 9200
    assert invoke("--host", "127.0.0.1", "run", env={"PORT": "9100"}).exit_code == 0
    assert uvicorn_calls[-1][1]["host"] == "127.0.0.1"


def test_bad_port_variable_is_a_usage_error(project, uvicorn_calls):
    result = CliRunner().invoke(cli, ["run"], env={"PORT": "eighty"})
    assert result.exit_code == 2
    assert "PORT must be a number" in result.output
    assert uvicorn_calls == []


def test_unimportable_app_is_a_clear_error(project, uvicorn_calls):
    result = CliRunner().invoke(cli, ["--app", "nowhere", "run"])
    assert result.exit_code == 1
    assert "Could not import 'nowhere'" in result.output
    assert uvicorn_calls == []


def test_working_directory_is_on_sys_path(project, uvicorn_calls, monkeypatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(project))])
    assert invoke("--app", "myproject.main:api", "run").exit_code == 0
    assert str(project) in sys.path


# -- dyne routes ----------------------------------------------------------------------------

def test_routes_lists_method_path_and_endpoint(project):
    (project / "static").mkdir()
    result = invoke("routes")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "ENDPOINT"]
    assert lines[1].split() == ["GET", "/", "app.index"]
    assert lines[2].split()[:2] == ["GET", "/static/*"]
    assert lines[3].split() == ["WS", "/ws", "app.ws"]


def test_routes_table_covers_groups_mounts_and_class_views(tmp_path):
    import dyne

    app = dyne.App(static_dir=None)
    v1 = app.group("/v1")

    @v1.get("/items")
    def items(req, resp):
        pass

    @app.route("/things/{id:int}")
    class Thing:
        def on_get(self, req, resp, *, id):
            pass

        def on_delete(self, req, resp, *, id):
            pass

    from flask import Flask

    app.mount("/legacy", Flask("legacy"))
    rows = cli_module.route_table(app)
    assert ("GET", "/v1/items", f"{__name__}.test_routes_table_covers_groups_mounts_and_class_views"
            ".<locals>.items") in rows
    assert ("DELETE,GET", "/things/{id:int}", f"{__name__}.test_routes_table_covers_groups_mounts"
            "_and_class_views.<locals>.Thing") in rows
    assert ("MOUNT", "/legacy/*", "WSGI flask.app.Flask") in rows


def test_routes_of_an_empty_app_and_of_a_non_dyne_object(project):
    (project / "empty.py").write_text("import dyne\napp = dyne.App(static_dir=None)\nother = 42\n")
    assert invoke("--app", "empty", "routes").output == "No routes.\n"
    result = CliRunner().invoke(cli, ["--app", "empty:other", "routes"])
    assert result.exit_code == 1 and "is not a dyne.App" in result.output


# -- plugins ----------------------------------------------------------------------------------

def test_plugin_command_registered_with_cli_command():
    @cli.command()
    def custom_task():
        """A task added by a plugin."""
        print("Doing something cool!")

    try:
        result = CliRunner().invoke(cli, ["custom-task"])
        assert result.output == "Doing something cool!\n"
        assert "custom-task" in CliRunner().invoke(cli, ["--help"]).output
    finally:
        cli.commands.pop("custom-task")


def make_plugin_distribution(root, name, module, source):
    (root / f"{module}.py").write_text(source)
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[dyne.cli]\n{name} = {module}\n")


def test_entry_point_plugins_load_automatically(tmp_path):
    make_plugin_distribution(tmp_path, "myplugin", "myplugin_cli", textwrap.dedent('''
        import click
        from dyne.cli import cli

        @cli.command()
        @click.pass_obj
        def seed_data(obj):
            """Seed the database."""
            print(f"seeding {obj.app_path}")
    '''))
    make_plugin_distribution(tmp_path, "brokenplugin", "broken_cli", "raise RuntimeError('boom')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    dyne_bin = [sys.executable, "-c", "from dyne.cli import main; main()"]
    help_text = subprocess.run([*dyne_bin, "--help"], env=env, capture_output=True, text=True,
                               check=True)
    assert "seed-data" in help_text.stdout
    assert "could not load CLI plugin 'brokenplugin': boom" in help_text.stderr
    run = subprocess.run([*dyne_bin, "--app", "proj.main", "seed-data"], env=env,
                         capture_output=True, text=True, check=True)
    assert run.stdout == "seeding proj.main:app\n"


# -- a real server ----------------------------------------------------------------------------

@pytest.mark.server
def test_dyne_run_serves_the_showcase_over_loopback():
    port = free_port()
    dyne_bin = os.path.join(os.path.dirname(sys.executable), "dyne")
    env = {"DYNE_APP": "", "PORT": ""}
    with serve_in_subprocess([dyne_bin, "--app", "examples.showcase.app", "--port", str(port),
                              "run"], port, env=env, cwd=ROOT):
        response = httpx.get(f"http://127.0.0.1:{port}/health")
        assert response.status_code == 200
        assert response.json()["status"] == "healthy"


def test_console_script_version():
    dyne_bin = os.path.join(os.path.dirname(sys.executable), "dyne")
    output = subprocess.run([dyne_bin, "--version"], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == f"dyne {__version__}"


def test_commands_defined_by_modules_the_app_imports(project):
    (project / "tasks.py").write_text(textwrap.dedent('''
        from dyne.cli import cli

        @cli.command()
        def custom_task():
            """A task added by a plugin."""
            print("Doing something cool!")
    '''))
    (project / "withtasks.py").write_text("import dyne\nimport tasks\napp = dyne.App()\n")
    try:
        result = CliRunner().invoke(cli, ["--app", "withtasks", "custom-task"])
        assert result.output == "Doing something cool!\n"
        assert "custom-task" in CliRunner().invoke(cli, ["--help"],
                                                   env={"DYNE_APP": "withtasks"}).output
    finally:
        cli.commands.pop("custom-task", None)
        sys.modules.pop("tasks", None)
        sys.modules.pop("withtasks", None)
    unknown = CliRunner().invoke(cli, ["--app", "nowhere", "nope"])
    assert unknown.exit_code == 2 and "No such command 'nope'" in unknown.output


# -- dyne new-project ---------------------------------------------------------------------------

def test_new_project_creates_a_working_skeleton(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new-project", "shop"])
    assert result.exit_code == 0, result.output
    assert "cd shop" in result.output
    root = tmp_path / "shop"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        ".env", ".gitignore", "README.md", "app.py", "pyproject.toml", "static/style.css",
        "templates/index.html", "tests/conftest.py", "tests/test_app.py"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=root, capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout
    monkeypatch.chdir(root)
    routes = CliRunner().invoke(cli, ["--app", "app", "routes"], catch_exceptions=False)
    sys.modules.pop("app", None)
    assert "/api/hello/{who}" in routes.output and "/static/*" in routes.output


def test_new_project_refuses_existing_directories_and_bad_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    taken = CliRunner().invoke(cli, ["new-project", "taken"])
    assert taken.exit_code == 1 and "already exists" in taken.output
    for bad in ("../escape", "a/b", "-x", "with space"):
        result = CliRunner().invoke(cli, ["new-project", "--", bad])
        assert result.exit_code == 2, bad
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


# -- dyne run --workers -------------------------------------------------------------------


def test_run_workers_option(project, uvicorn_calls):
    assert invoke("run", "--workers", "3").exit_code == 0
    assert uvicorn_calls[-1][1]["workers"] == 3
    assert invoke("run", env={"WEB_CONCURRENCY": "2"}).exit_code == 0
    assert uvicorn_calls[-1][1]["workers"] == 2
    assert invoke("run", "-w", "1").exit_code == 0
    assert "workers" not in uvicorn_calls[-1][1]
    refused = invoke("--debug", "run", "--workers", "2")
    assert refused.exit_code != 0 and "--no-reload" in refused.output
    assert invoke("run", "--workers", "0").exit_code != 0


@pytest.mark.server
def test_dyne_run_workers_serves_from_several_processes(tmp_path):
    (tmp_path / "pidapp.py").write_text(textwrap.dedent('''
        import os
        import dyne

        app = dyne.App()

        @app.route("/pid")
        def pid(req, resp):
            resp.text = str(os.getpid())
    '''))
    port = free_port()
    dyne_bin = os.path.join(os.path.dirname(sys.executable), "dyne")
    with serve_in_subprocess([dyne_bin, "--app", "pidapp", "--port", str(port), "run",
                              "--workers", "2"], port, env={"DYNE_APP": "", "PORT": ""},
                             cwd=tmp_path) as process:
        pids = set()
        deadline = time.monotonic() + 30
        while len(pids) < 2 and time.monotonic() < deadline:
            try:  # a new connection each time: the kernel hands them to either worker
                pids.add(httpx.get(f"http://127.0.0.1:{port}/pid", timeout=5).text)
            except httpx.TransportError:
                time.sleep(0.1)
        assert len(pids) == 2
        assert str(process.pid) not in pids  # the parent supervises, the workers serve
