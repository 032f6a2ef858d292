import click
import pytest
from click.testing import CliRunner

from dyne.__version__ import __version__
from dyne.cli import cli, load_app, normalize_app_path


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
