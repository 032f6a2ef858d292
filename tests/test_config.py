import dataclasses

import pytest
from pydantic import BaseModel

import dyne
from dyne.config import Config, ConfigError


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_in_working_directory_is_loaded_automatically(in_tmp):
    (in_tmp / ".env").write_text('DATABASE_URL="sqlite:///app.db"\nDEBUG=true\n')
    app = dyne.App()
    assert app.config.DATABASE_URL == "sqlite:///app.db"
    assert app.debug is True


def test_explicit_env_file_prefix_and_encoding(in_tmp, monkeypatch):
    (in_tmp / ".env.production").write_text("DYNE_NAME=café\nNAME=unprefixed\n", encoding="latin-1")
    app = dyne.App(env_file=".env.production", env_prefix="DYNE_", encoding="latin-1")
    assert app.config.NAME == "café"
    monkeypatch.setenv("DYNE_NAME", "from-os")
    assert app.config.NAME == "from-os"


def test_missing_explicit_env_file_warns_and_carries_on(in_tmp, monkeypatch):
    monkeypatch.setenv("FROM_ENV", "yes")
    with pytest.warns(UserWarning, match=r"^Config file '.env.missing' not found.$"):
        app = dyne.App(env_file=".env.missing")
    assert app.config.FROM_ENV == "yes"


def test_from_object_takes_uppercase_only(in_tmp):
    class DevelopmentConfig:
        PORT = 5042
        DEBUG = True
        lowercase = "ignored"

    config = Config()
    config.from_object(DevelopmentConfig)
    assert config.PORT == 5042
    assert config.get("DEBUG", cast=bool) is True
    assert "lowercase" not in config
    config.from_object({"TIMEOUT": 3, "nope": 1})
    assert config.TIMEOUT == 3 and "nope" not in config


def test_from_object_import_string(in_tmp):
    config = Config()
    config.from_object("http.HTTPStatus")
    assert config.get("OK") == 200


def test_resolution_order(in_tmp, monkeypatch):
    (in_tmp / ".env").write_text("LEVEL=file\nONLY_FILE=yes\n")
    config = Config()
    config.from_object({"LEVEL": "object", "ONLY_OBJECT": "yes"})
    assert config.LEVEL == "file"
    monkeypatch.setenv("LEVEL", "os")
    assert config.LEVEL == "os"
    assert config.ONLY_OBJECT == "yes"
    assert config.get("NOWHERE", default="fallback") == "fallback"
    config["LEVEL"] = "explicit"
    assert config.LEVEL == "os"  # the OS environment always wins
    monkeypatch.delenv("LEVEL")
    assert config.LEVEL == "explicit"


@pytest.mark.parametrize("raw, expected", [
    ("true", True), ("1", True), ("yes", True), ("on", True), ("TRUE", True),
    ("false", False), ("0", False), ("no", False), ("off", False),
])
def test_bool_cast(in_tmp, monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert Config().get("FLAG", cast=bool) is expected


def test_casts_and_bad_casts(in_tmp, monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("HOSTS", "a.com, b.com")
    monkeypatch.setenv("BINDS", '{"analytics": "sqlite://"}')
    monkeypatch.setenv("BAD_PORT", "eighty")
    monkeypatch.setenv("MAYBE", "perhaps")
    config = Config()
    assert config.get("PORT", cast=int, default=8000) == 8080
    assert config.get("MISSING_PORT", cast=int, default=8000) == 8000
    assert config.get("MISSING_PORT", cast=int, default="9000") == 9000
    assert config.get("HOSTS", cast=list) == ["a.com", "b.com"]
    assert config.get("BINDS", cast=dict) == {"analytics": "sqlite://"}
    with pytest.raises(ConfigError, match=r"Config 'BAD_PORT' has value 'eighty'\. Not a valid int"):
        config.get("BAD_PORT", cast=int)
    with pytest.raises(ConfigError, match="MAYBE"):
        config.require("MAYBE", cast=bool)
    assert issubclass(ConfigError, ValueError)


def test_get_never_raises_for_missing_keys(in_tmp):
    config = Config()
    assert config.get("NOPE") is None
    assert config.get("NOPE", cast=int) is None


def test_require(in_tmp, monkeypatch):
    config = Config()
    with pytest.raises(RuntimeError, match="Missing required config: DATABASE_URL") as info:
        config.require("DATABASE_URL")
    assert str(info.value) == "Missing required config: DATABASE_URL"
    monkeypatch.setenv("POOL", "5")
    assert config.require("POOL", cast=int) == 5


def test_attribute_access_is_strict(in_tmp):
    config = Config()
    with pytest.raises(AttributeError) as info:
        config.DATABSE_URL  # noqa: B018
    assert str(info.value) == "Config has no attribute 'DATABSE_URL'"
    assert getattr(config, "X", "default") == "default"
    with pytest.raises(KeyError):
        config["X"]


def test_config_in_routes(in_tmp):
    app = dyne.App()
    app.config.from_object({"DEBUG": True, "DATABASE_URL": "sqlite://"})

    @app.route("/status")
    async def status(req, resp):
        if req.app.config.DEBUG:
            resp.media = {"status": "debug-mode", "db": req.app.config.DATABASE_URL}
        else:
            resp.media = {"status": "production"}

    assert app.client.get("/status").json() == {"status": "debug-mode", "db": "sqlite://"}


def test_set_default_is_lowest_priority(in_tmp, monkeypatch):
    config = Config()
    config.set_default("POOL", 5)
    assert config.POOL == 5
    config.from_object({"POOL": 7})
    assert config.POOL == 7


def test_validate_with_pydantic(in_tmp, monkeypatch):
    class Settings(BaseModel):
        database_url: str
        pool_size: int = 5
        debug: bool = False

    monkeypatch.setenv("DATABASE_URL", "postgresql://db")
    monkeypatch.setenv("POOL_SIZE", "9")
    settings = Config().validate(Settings)
    assert settings == Settings(database_url="postgresql://db", pool_size=9)
    monkeypatch.setenv("POOL_SIZE", "many")
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ConfigError) as info:
        Config().validate(Settings)
    assert "DATABASE_URL: Field required" in str(info.value)
    assert "POOL_SIZE" in str(info.value)


def test_validate_with_dataclass(in_tmp, monkeypatch):
    @dataclasses.dataclass
    class Settings:
        port: int
        debug: bool = False

    monkeypatch.setenv("PORT", "80")
    monkeypatch.setenv("DEBUG", "yes")
    assert Config().validate(Settings) == Settings(port=80, debug=True)
    monkeypatch.delenv("PORT")
    with pytest.raises(ConfigError, match="PORT: missing"):
        Config().validate(Settings)
    with pytest.raises(TypeError, match="needs a pydantic model or a dataclass"):
        Config().validate(dict)
