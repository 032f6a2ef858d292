"""``dyne new-project``: each template's project installs in a fresh
virtualenv and passes its own tests; the secret key is random."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from dyne.__version__ import __version__
from dyne.cli import cli
from dyne.project import TEMPLATES, project_files
from tests.conftest import ROOT, free_port, serve_in_subprocess


def new_project(where: Path, name: str, *options: str) -> Path:
    result = CliRunner().invoke(cli, ["new-project", name, *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return where / name


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_project_files(workdir, template):
    root = new_project(workdir, "shop", "--template", template)
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "shop"
    assert meta["project"]["dependencies"][0].startswith("dyne")
    assert meta["project"]["dependencies"][0].endswith(f">={__version__}")
    assert meta["project"]["optional-dependencies"]["test"] == ["pytest>=8"]
    assert "# shop" in (root / "README.md").read_text()
    env = dict(line.split("=", 1) for line in (root / ".env").read_text().splitlines())
    assert len(env["SECRET_KEY"]) >= 48 and "change" not in env["SECRET_KEY"]
    assert ".env" in (root / ".gitignore").read_text().split()


def test_every_project_gets_its_own_secret_key():
    keys = {project_files("a")[".env"] for _ in range(5)}
    assert len(keys) == 5


def test_unknown_templates_are_a_usage_error(workdir):
    unknown = CliRunner().invoke(cli, ["new-project", "shop", "--template", "nope"])
    assert unknown.exit_code == 2 and "'nope' is not one of" in unknown.output
    assert not (workdir / "shop").exists()


def test_controllers_template_has_pyjolts_layout(workdir):
    result = CliRunner().invoke(cli, ["new-project", "library", "--template", "controllers"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "dyne --app app:create_app run --debug" in result.output
    root = workdir / "library"
    assert {str(path.relative_to(root)) for path in root.rglob("*.py")} == {
        "app/__init__.py", "app/configs.py", "app/extensions.py", "app/models.py",
        "app/api/__init__.py", "app/api/items_api.py", "app/cli.py",
        "tests/conftest.py", "tests/test_items.py"}
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["only-include"] == ["app"]
    assert "APP_NAME: str = \"library\"" in (root / "app" / "configs.py").read_text()
    assert "dyne --app app:create_app run --debug" in (root / "README.md").read_text()


def fresh_venv(where: Path) -> Path:
    """A new virtualenv that sees this environment's installed libraries
    (a .pth line; nothing downloaded) but gets dyne installed into it from this
    checkout, as a user's ``pip install`` would."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True, check=True)
    Path(purelib.stdout.strip(), "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index"]
    subprocess.run([*pip, "--no-deps", str(ROOT)], check=True, timeout=600,
                   capture_output=True)
    return python


@pytest.mark.timeout(900)
def test_generated_projects_install_and_pass_their_tests(workdir):
    python = fresh_venv(workdir / "venv")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "DYNE_APP", "PORT")}
    for template in sorted(TEMPLATES):
        root = new_project(workdir, f"project-{template}", "--template", template)
        install = subprocess.run([str(python), "-m", "pip", "install", "-q",
                                  "--no-build-isolation", "--no-index", "-e", ".[test]"],
                                 cwd=root, capture_output=True, text=True, timeout=600, env=env)
        assert install.returncode == 0, install.stdout + install.stderr
        where = subprocess.run([str(python), "-c", "import dyne, app; print(dyne.__file__)"],
                               cwd=workdir, capture_output=True, text=True, env=env)
        assert str(workdir / "venv") in where.stdout, where.stdout + where.stderr  # not the checkout
        tests = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                               cwd=root, capture_output=True, text=True, timeout=300, env=env)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert " passed" in tests.stdout and "failed" not in tests.stdout
        if template == "controllers":
            served_by_dyne_run(python, root, env)


def served_by_dyne_run(python: Path, root: Path, env: dict[str, str]) -> None:
    """The controllers project, as its README says to run it: ``dyne --app
    app:create_app run`` (its SQLite database made in the project)."""
    port = free_port()
    command = [str(python), "-m", "dyne", "--app", "app:create_app", "run", "--port", str(port)]
    with serve_in_subprocess(command, port, env=env, cwd=root):
        base = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{base}/api/items", json={"name": "Tea", "price": 3.5})
        assert created.status_code == 201, created.text
        assert httpx.get(base + created.headers["location"]).json()["name"] == "Tea"
        assert httpx.post(f"{base}/api/items", json={"name": ""}).status_code == 422
        assert "/api/items" in httpx.get(f"{base}/openapi.json").json()["paths"]
    assert (root / "app.db").exists()
    counted = subprocess.run([str(python), "-m", "dyne", "--app", "app:create_app", "count-items"],
                             cwd=root, capture_output=True, text=True, timeout=120, env=env)
    assert counted.returncode == 0, counted.stderr
    assert f"{root.name}: 1 items" in counted.stdout
