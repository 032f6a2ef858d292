"""Typed configuration (seed 002's ``BaseConfig``) and ``App(config=...)``:
fields, environment overrides, clear start-up errors, the App options it
sets, and the lists it imports and registers (with real extensions)."""

from __future__ import annotations

import itertools
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

import dyne
from dyne.config import ConfigError
from dyne.settings import BaseConfig
from tests.conftest import free_port, require_module, serve_in_subprocess

_packages = itertools.count()


@pytest.fixture
def package(tmp_path, monkeypatch):
    """``package({"mod.py": source, ...})`` writes a fresh package (a new name
    each time, so module-level extensions are new) and returns its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created = []

    def make(files: dict[str, str]) -> str:
        name = f"pj_app_{next(_packages)}"
        root = tmp_path / name
        root.mkdir()
        (root / "__init__.py").write_text("")
        for filename, source in files.items():
            (root / filename).write_text(textwrap.dedent(source).replace("PKG", name))
        created.append(name)
        return name

    yield make
    for name in created:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray ./.env
    for key in list(os.environ):
        if key in BaseConfig.model_fields or key.startswith(("CORS_", "OPEN_API")):
            monkeypatch.delenv(key)


class Config(BaseConfig):
    """Seed 002's minimal config (``BASE_PATH`` left out)."""

    APP_NAME: str = "Test app"
    VERSION: str = "1.0"
    SECRET_KEY: str = "some-super-secret-key"
    DEBUG: bool = True


def test_the_seed_config_builds_an_app():
    app = dyne.App(config=Config)
    assert app.settings.APP_NAME == "Test app" and isinstance(app.settings, Config)
    assert app.debug is True and app.secret_key == "some-super-secret-key"
    assert (app.config.APP_NAME, app.config.VERSION) == ("Test app", "1.0")
    # Seed defaults that run.py reads, with dyne's values.
    assert (app.settings.HOST, app.settings.PORT, app.settings.LIFESPAN) == ("127.0.0.1", 8000, "on")

    @app.route("/")
    async def index(req, resp):
        resp.media = {"name": req.app.config.APP_NAME, "debug": req.app.debug}

    assert app.client.get("/").json() == {"name": "Test app", "debug": True}


def test_an_instance_works_too_and_existing_forms_are_unchanged():
    app = dyne.App(config=Config(DEBUG=False))
    assert app.debug is False
    plain = dyne.App()
    assert plain.settings is None and plain.debug is False
    assert "openapi" not in plain.extensions


def test_environment_overrides_each_field(monkeypatch):
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("APP_NAME", "From env")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", '["https://shop.example"]')
    monkeypatch.setenv("PORT", "9000")
    app = dyne.App(config=Config)
    assert app.debug is False and app.settings.PORT == 9000
    assert app.settings.APP_NAME == "From env"
    assert app.settings.CORS_ALLOW_ORIGINS == ["https://shop.example"]


def test_the_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=from-dotenv\nUNRELATED=ignored\n")
    assert dyne.App(config=Config).secret_key == "from-dotenv"


@pytest.mark.parametrize(("env", "message"), [
    ({"DEBUG": "maybe"}, "DEBUG: Input should be a valid boolean, unable to interpret input "
                         "(got 'maybe')"),
    ({"PORT": "99999"}, "PORT: Input should be less than or equal to 65535 (got '99999')"),
    ({"STATIC_URL": "static"}, "STATIC_URL: Value error, must be a URL path starting with '/'"),
    ({"LIFESPAN": "sometimes"}, "LIFESPAN: Input should be 'auto', 'on' or 'off'"),
    ({"EXTENSIONS": '["not an import string"]'},
     "EXTENSIONS: Value error, entry 0 ('not an import string') is not an import string"),
    ({"CONTROLLERS": "app.api:Users"}, "CONTROLLERS: "),
])
def test_invalid_values_stop_the_app_naming_the_field(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        dyne.App(config=Config)
    assert str(caught.value).startswith("Invalid configuration in Config: ")
    assert message in str(caught.value)


def test_missing_required_fields_and_secrets_are_not_echoed(monkeypatch):
    class Bare(BaseConfig):
        pass

    with pytest.raises(ConfigError, match=r"APP_NAME: Field required.*VERSION: Field required"):
        dyne.App(config=Bare)

    class WithSecret(Config):
        API_KEY: int = 0

    monkeypatch.setenv("API_KEY", "hunter2")
    with pytest.raises(ConfigError, match="API_KEY: Input should be a valid integer") as caught:
        dyne.App(config=WithSecret)
    assert "hunter2" not in str(caught.value)


def test_config_must_be_a_base_config():
    class NotSettings:
        DEBUG = True

    with pytest.raises(TypeError, match=r"config= takes a dyne\.settings\.BaseConfig subclass"):
        dyne.App(config=NotSettings)


def test_directories_urls_and_slashes(tmp_path):
    base = tmp_path / "site"
    (base / "assets").mkdir(parents=True)
    (base / "assets" / "app.css").write_text("body {}")
    (base / "pages").mkdir()
    (base / "pages" / "hello.html").write_text("Hello {{ who }}")

    class Site(Config):
        BASE_PATH: str = str(base)
        STATIC_DIR: str = "assets"
        STATIC_URL: str = "/files"
        TEMPLATES_DIR: str = "pages"
        STRICT_SLASHES: bool = True

    app = dyne.App(config=Site)

    @app.route("/hello/")
    async def hello(req, resp):
        resp.html = req.app.template("hello.html", who="Ada")

    assert app.client.get("/files/app.css").text == "body {}"
    assert app.client.get("/hello/").text == "Hello Ada"
    assert app.client.get("/hello", follow_redirects=False).status_code == 404

    lenient = dyne.App(config=Config)
    lenient.add_route("/hello/", hello)
    assert lenient.client.get("/hello", follow_redirects=False).status_code == 307


def test_an_explicit_app_argument_wins_over_the_config():
    app = dyne.App(config=Config, debug=False, secret_key="explicit")
    assert app.debug is False and app.secret_key == "explicit"


def test_cors_settings(monkeypatch):
    class Api(Config):
        CORS_ENABLED: bool = True
        CORS_ALLOW_ORIGINS: list[str] = ["https://shop.example"]
        CORS_ALLOW_METHODS: list[str] = ["GET", "POST"]
        CORS_MAX_AGE: int = 600

    app = dyne.App(config=Api)

    @app.route("/items", methods=["POST"])
    async def items(req, resp):
        resp.media = {"ok": True}

    preflight = app.client.options("/items", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert preflight.headers["access-control-max-age"] == "600"
    refused = app.client.options("/items", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in refused.headers
    # Off by default (dyne's restrictive default, unlike PyJolt's "*").
    assert dyne.App(config=Config).cors is False


def test_open_api_documentation():
    class Api(Config):
        OPEN_API_URL: str = "/api/docs"
        OPEN_API_DESCRIPTION: str = "Simple API"

    app = dyne.App(config=Api)

    @app.route("/ping")
    async def ping(req, resp):
        """Ping."""
        resp.text = "pong"

    document = app.client.get("/api/docs.json").json()
    assert document["info"] == {"title": "Test app", "version": "1.0", "description": "Simple API"}
    assert "/ping" in document["paths"]
    assert app.client.get("/api/docs").status_code == 200
    assert app.client.get("/api/docs.yml").status_code == 200

    class Off(Config):
        OPEN_API: bool = False

    assert dyne.App(config=Off).client.get("/openapi.json").status_code == 404


# -- what the lists register ------------------------------------------------------------------


EXTENSIONS = """
from dyne.ext.cache import Cache
from dyne.ext.email import EmailClient

cache = Cache()
email_client = EmailClient(configs_name="EMAIL_CLIENT")
"""

MIDDLEWARE = """
import time
from dyne.middleware import MiddlewareBase

class TimingMW(MiddlewareBase):
    async def middleware(self, req):
        t0 = time.perf_counter()
        res = await self.next(req)
        res.headers["x-process-time-ms"] = str(int((time.perf_counter() - t0) * 1000))
        return res

class PoweredBy(MiddlewareBase):
    async def middleware(self, req):
        res = await self.next(req)
        res.headers["x-order"] = res.headers.get("x-order", "") + "powered-by"
        return res
"""

CLI = """
from dyne.cli import CLIController, command, argument

class UtilityCLIController(CLIController):
    @command("greet", help="Greet a user with a message.")
    @argument("name", arg_type=str, description="The name of the user to greet.")
    async def greet(self, name: str):
        print(f"Hello, {name}! ({self.app.config.APP_NAME})")
"""

LOGGERS = """
from dyne.logging import LoggerBase

class FileLogger(LoggerBase):
    pass
"""

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from dyne.ext.db.alchemical import Model

class PjUser(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
"""

CONFIGS = """
import os
from typing import Any
from dyne.settings import BaseConfig

class Config(BaseConfig):
    APP_NAME: str = "Shop"
    VERSION: str = "2.0"
    BASE_PATH: str = os.path.dirname(__file__)
    EXTENSIONS: list[str] = ["PKG.extensions:cache", "PKG.extensions:email_client"]
    MIDDLEWARE: list[str] = ["PKG.middleware:TimingMW", "PKG.middleware:PoweredBy"]
    CLI_CONTROLLERS: list[str] = ["PKG.cli:UtilityCLIController"]
    LOGGERS: list[str] = ["PKG.loggers:FileLogger"]
    CACHE: dict[str, Any] = {"BACKEND": "sqlite", "SQLITE_PATH": "cache.db", "DURATION": 30}
    EMAIL_CLIENT: dict[str, Any] = {"SENDER_NAME_OR_ADDRESS": "Shop <shop@example.com>",
                                    "BACKEND": "memory"}
    FILE_LOGGER: dict[str, Any] = {"SINK": "shop.log", "FORMAT": "{extra[logger_name]} {message}"}
"""

APP = """
import dyne
from PKG.configs import Config
from PKG.extensions import cache, email_client


def create_app() -> dyne.App:
    app = dyne.App(config=Config)

    @app.route("/visits")
    async def visits(req, resp):
        count = (await cache.get("visits", 0)) + 1
        await cache.set("visits", count)
        req.app.logger.info(f"visit {count}")
        resp.media = {"visits": count}

    @app.route("/mail", methods=["POST"])
    async def mail(req, resp):
        await email_client.send_email("ada@example.com", "Hi", "Hello from the shop")
        resp.media = {"sent": len(email_client.outbox)}

    return app
"""

PROJECT = {"configs.py": CONFIGS, "extensions.py": EXTENSIONS, "middleware.py": MIDDLEWARE,
           "cli.py": CLI, "loggers.py": LOGGERS, "app.py": APP}


def test_the_lists_register_real_extensions_middleware_cli_and_loggers(package, tmp_path):
    name = package(PROJECT)
    factory = __import__(f"{name}.app", fromlist=["create_app"]).create_app
    extensions = sys.modules[f"{name}.extensions"]
    app = factory()
    assert app.extensions["cache"] is extensions.cache and extensions.cache.app is app
    assert app.extensions["email_client"] is extensions.email_client
    assert [cls.__name__ for cls in app.middleware_classes] == ["TimingMW", "PoweredBy"]
    assert sorted(app.cli_commands) == ["greet"]
    with app.client as client:
        assert client.get("/visits").json() == {"visits": 1}
        second = client.get("/visits")
        assert client.post("/mail").json() == {"sent": 1}
    assert second.json() == {"visits": 2}
    assert second.headers["x-process-time-ms"].isdigit()
    assert second.headers["x-order"] == "powered-by"
    # The cache section came from the config class: a SQLite file, in the working directory.
    assert (tmp_path / "cache.db").exists()
    assert extensions.email_client.outbox[0]["From"] == "Shop <shop@example.com>"
    assert "Shop visit 2" in (tmp_path / "shop.log").read_text()


def test_models_are_imported(package):
    require_module("sqlalchemy")
    name = package({"models.py": MODELS})

    class WithModels(Config):
        MODELS: list[str] = [f"{name}.models:PjUser"]

    dyne.App(config=WithModels)
    from dyne.ext.db.alchemical import Model

    assert "pj_user" in Model.metadata.tables


_REGISTRATION_ERRORS = [
    ("EXTENSIONS", ["dyne.ext.cache:Cache"],
     r"EXTENSIONS\[0\] \('dyne.ext.cache:Cache'\): EXTENSIONS entries are extension objects, "
     r"got the class Cache: create one in your extensions module \(ext = Cache\(\)\)"),
    ("EXTENSIONS", ["os:sep"], r"EXTENSIONS\[0\] \('os:sep'\): EXTENSIONS entries follow dyne's "
                               r"extension protocol"),
    ("MIDDLEWARE", ["dyne:App"], r"MIDDLEWARE\[0\] \('dyne:App'\): Middleware classes subclass"),
    ("CLI_CONTROLLERS", ["nowhere.cli:Tools"], r"^Config.CLI_CONTROLLERS\[0\]: cannot import "
                                               r"module 'nowhere.cli' \(from 'nowhere.cli:Tools'\)"),
    ("MODELS", ["dyne:abort"], r"MODELS\[0\] \('dyne:abort'\): MODELS entries are model classes"),
    ("LOGGERS", ["dyne:App"], r"LOGGERS\[0\] \('dyne:App'\): not a dyne.logging.LoggerBase"),
    ("LOGGERS", ["dyne:Nope"], r"LOGGERS\[0\]: module 'dyne' has no attribute 'Nope'"),
    ("CONTROLLERS", ["nowhere.api:Users"],
     r"^Config.CONTROLLERS\[0\] \('nowhere.api:Users'\): Cannot import 'nowhere.api'"),
    ("CONTROLLERS", ["dyne:Nope"], r"^Config.CONTROLLERS\[0\] \('dyne:Nope'\): Module 'dyne' "
                                   r"has no 'Nope'"),
    ("CONTROLLERS", ["dyne:App"], r"^Config.CONTROLLERS\[0\] \('dyne:App'\): .*must be a "
                                  r"dyne.controllers.Controller subclass"),
    ("EXCEPTION_HANDLERS", ["nowhere.errors:Handler"],
     r"^Config.EXCEPTION_HANDLERS\[0\] \('nowhere.errors:Handler'\): Cannot import 'nowhere.errors'"),
    ("EXCEPTION_HANDLERS", ["dyne:App"], r"^Config.EXCEPTION_HANDLERS\[0\] \('dyne:App'\): .*must "
                                         r"be a dyne.controllers.ExceptionHandler subclass"),
]


@pytest.mark.parametrize(("field", "value", "message"), _REGISTRATION_ERRORS)
def test_registration_errors_name_the_entry(field, value, message):
    config = Config(**{field: value})
    with pytest.raises(ConfigError, match=message):
        dyne.App(config=config)


def test_objects_may_be_listed_instead_of_import_strings():
    from dyne.ext.cache import Cache
    from dyne.middleware import MiddlewareBase

    class Mark(MiddlewareBase):
        async def middleware(self, req):
            return {"marked": True}

    cache = Cache()
    app = dyne.App(config=Config(EXTENSIONS=[cache], MIDDLEWARE=[Mark]))
    assert app.extensions["cache"] is cache
    assert app.client.get("/").json() == {"marked": True}


CONTROLLERS = """
from dyne.controllers import Controller, abort, get, path


class OutOfStock(Exception):
    pass


@path("/api/v1/books")
class BooksApi(Controller):
    @get("/<int:book_id>")
    async def get_book(self, req, book_id: int):
        if book_id == 0:
            raise OutOfStock("book 0 is sold out")
        if book_id > 100:
            abort("no such book", status_code=404, data={"book_id": book_id})
        return req.res.json({"id": book_id, "app": self.app.config.APP_NAME})

    @get("/link")
    async def link(self, req):
        return {"url": self.app.url_for("BooksApi.get_book", book_id=7)}
"""

HANDLERS = """
from dyne.controllers import AborterException, ExceptionHandler, handles

from PKG.controllers import OutOfStock


class Handler(ExceptionHandler):
    @handles(OutOfStock)
    async def out_of_stock(self, req, exc):
        return req.res.json({"message": str(exc), "handled_by": type(self).__name__}).status(409)

    @handles(AborterException)
    async def aborted(self, req, exc):
        return req.res.json({"message": exc.message, "data": exc.data}).status(exc.status_code)
"""


@pytest.mark.parametrize("form", ["import strings", "classes"])
def test_controllers_and_exception_handlers_register(package, form):
    name = package({"controllers.py": CONTROLLERS, "handlers.py": HANDLERS})
    controllers = f"{name}.controllers:BooksApi"
    handlers = f"{name}.handlers:Handler"
    if form == "classes":
        controllers = __import__(f"{name}.controllers", fromlist=["BooksApi"]).BooksApi
        handlers = __import__(f"{name}.handlers", fromlist=["Handler"]).Handler
    app = dyne.App(config=Config(CONTROLLERS=[controllers], EXCEPTION_HANDLERS=[handlers]))
    assert app.client.get("/api/v1/books/3").json() == {"id": 3, "app": "Test app"}
    assert app.url_for("BooksApi.get_book", book_id=7) == "/api/v1/books/7"
    assert app.client.get("/api/v1/books/link").json() == {"url": "/api/v1/books/7"}
    refused = app.client.get("/api/v1/books/0")
    assert refused.status_code == 409
    assert refused.json() == {"message": "book 0 is sold out", "handled_by": "Handler"}
    missing = app.client.get("/api/v1/books/101")
    assert missing.status_code == 404
    assert missing.json() == {"message": "no such book", "data": {"book_id": 101}}
    assert "/api/v1/books/{book_id}" in app.extensions["openapi"].to_dict()["paths"]


def test_a_controller_listed_twice_is_an_error_naming_the_second_entry(package):
    name = package({"controllers.py": CONTROLLERS})
    entry = f"{name}.controllers:BooksApi"
    with pytest.raises(ConfigError, match=r"Config.CONTROLLERS\[1\] .*already registered"):
        dyne.App(config=Config(CONTROLLERS=[entry, entry]))


def test_a_factory_served_by_dyne_run_and_by_uvicorn_factory(package, tmp_path):
    name = package(PROJECT)
    for command in (["-m", "dyne", "--app", f"{name}.app:create_app", "run"],
                    ["-m", "uvicorn", f"{name}.app:create_app", "--factory"]):
        port = free_port()
        with serve_in_subprocess([sys.executable, *command, "--port", str(port)], port,
                                 env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path):
            first = httpx.get(f"http://127.0.0.1:{port}/visits")
            docs = httpx.get(f"http://127.0.0.1:{port}/openapi.json")
        assert first.status_code == 200 and first.headers["x-order"] == "powered-by"
        assert docs.json()["info"]["title"] == "Shop"
        Path(tmp_path / "cache.db").unlink()


def test_the_config_class_cli_controllers_run_in_the_dyne_command(package, tmp_path):
    import subprocess

    name = package(PROJECT)
    result = subprocess.run([sys.executable, "-m", "dyne", "--app", f"{name}.app:create_app",
                             "greet", "Ada"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "Hello, Ada! (Shop)" in result.stdout


def test_extension_sections_are_plain_fields(monkeypatch):
    class WithSection(Config):
        EMAIL_CLIENT: dict[str, Any] = {"SMTP_SERVER": "smtp.example.com"}

    monkeypatch.setenv("EMAIL_CLIENT", '{"SMTP_SERVER": "smtp.internal", "SMTP_PORT": 2525}')
    app = dyne.App(config=WithSection)
    assert app.config.get("EMAIL_CLIENT", cast=dict) == {"SMTP_SERVER": "smtp.internal",
                                                          "SMTP_PORT": 2525}
