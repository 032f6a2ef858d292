"""Configuration as in the published Dyne 2.0.5 (tried against 2.0.5)."""

import warnings

import pytest

import dyne
from dyne.config import Config, ConfigError


def test_config_reads_an_environ_mapping_instead_of_os_environ(monkeypatch):
    monkeypatch.setenv("PORT", "1")
    config = Config(environ={"PORT": "8080", "DEBUG": "true"})
    assert config.get("PORT", cast=int) == 8080
    assert config.get("DEBUG", cast=bool) is True
    assert "PORT" in config and config["PORT"] == "8080"


def test_app_environ_is_its_configs(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-os")
    app = dyne.App(environ={"SECRET_KEY": "from-mapping", "GREETING": "hi"})
    assert app.config.GREETING == "hi"
    assert app.secret_key == "from-mapping"
    assert dyne.App(environ={}).config.get("GREETING") is None


def test_missing_env_file_warns_and_the_app_carries_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = dyne.App(env_file="missing.env", environ={"NAME": "x"})
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, "Config file 'missing.env' not found.")]
    assert app.config.NAME == "x"


@pytest.mark.parametrize("value, cast, name", [
    ("maybe", bool, "bool"), ("12", bool, "bool"), ("true", int, "int"), ("maybe", float, "float"),
])
def test_failed_cast_names_the_value_and_the_type(value, cast, name):
    config = Config(environ={"KEY": value})
    with pytest.raises(ValueError, match=r"^Config 'KEY' has value ") as raised:
        config.get("KEY", cast=cast)
    assert isinstance(raised.value, ConfigError)
    assert str(raised.value).startswith(f"Config 'KEY' has value {value!r}. Not a valid {name}")


def test_require_and_item_access_fail_as_published():
    config = Config(environ={})
    with pytest.raises(RuntimeError, match="Missing required config: NOPE"):
        config.require("NOPE")
    with pytest.raises(KeyError):
        config["NOPE"]
