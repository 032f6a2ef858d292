"""Typed configuration, PyJolt's idiom: one ``BaseConfig`` class (pydantic
settings) describes the application, and ``dyne.App(config=Config)`` builds
it: the settings become ``app.config`` values and the ``App`` options they
name, and the lists (``EXTENSIONS``, ``MIDDLEWARE``, ``CONTROLLERS``...) are
imported and registered::

    import dyne
    from dyne.settings import BaseConfig

    class Config(BaseConfig):
        APP_NAME: str = "Shop"
        VERSION: str = "1.0"
        EXTENSIONS: list[str] = ["shop.extensions:cache"]
        MIDDLEWARE: list[str] = ["shop.middleware:TimingMW"]

    app = dyne.App(config=Config)

Every field can be overridden from the environment (or ``./.env``) under its
own name (``DEBUG=false``; lists and dicts as JSON). A value that does not
validate stops the app at start-up with a ``ConfigError`` naming the field.
Requires ``pip install "dyne[settings]"`` (pydantic-settings), imported only
when used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .config import ConfigError
from .registration import import_object

try:
    from pydantic import Field, ValidationError, field_validator
    from pydantic_settings import BaseSettings, SettingsConfigDict
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('dyne.settings needs pydantic-settings: pip install "dyne[settings]"') from exc

if TYPE_CHECKING:
    from .app import App

__all__ = ["REGISTRATION_LISTS", "BaseConfig", "configure_app", "load_settings"]

#: The lists of things to register, in the order they are registered.
REGISTRATION_LISTS = ("MODELS", "EXTENSIONS", "MIDDLEWARE", "EXCEPTION_HANDLERS", "CONTROLLERS",
                      "CLI_CONTROLLERS")
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*|\.[A-Za-z_]\w*)$")


class BaseConfig(BaseSettings):
    """The application's settings: subclass it, set the fields you need, add
    your own (extension sections such as ``EMAIL_CLIENT: dict[str, Any] = {...}``).

    Defaults follow dyne (safe for production: ``DEBUG`` off, CORS off and
    restrictive); the names follow PyJolt. Environment variables (and
    ``./.env``) override the class's values, field by field."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", validate_default=True)

    APP_NAME: str = Field(description="Human-readable name of the app (the logger's name, "
                                      "the OpenAPI title)")
    VERSION: str = Field(description="Application version (the OpenAPI document's)")
    #: Relative directories (``TEMPLATES_DIR``, ``STATIC_DIR``) are resolved
    #: against it; usually ``os.path.dirname(__file__)`` in ``configs.py``.
    BASE_PATH: str | None = None
    SECRET_KEY: str | None = Field(default=None, description="Signs session cookies and tokens")
    DEBUG: bool = False
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=0, le=65535)
    LIFESPAN: Literal["auto", "on", "off"] = "on"
    TEMPLATES_DIR: str = "templates"
    #: ``None``: serve no static files.
    STATIC_DIR: str | None = "static"
    STATIC_URL: str = "/static"
    #: ``True``: ``/users/`` and ``/users`` are different paths (404 for the
    #: other); ``False``: the other one redirects (307) to the route.
    STRICT_SLASHES: bool = False
    OPEN_API: bool = True
    #: The documentation page; the document is served at ``<url>.json`` and ``<url>.yml``.
    OPEN_API_URL: str = "/openapi"
    OPEN_API_DESCRIPTION: str | None = None

    CORS_ENABLED: bool = False
    CORS_ALLOW_ORIGINS: list[str] = []
    CORS_ALLOW_METHODS: list[str] = ["GET"]
    CORS_ALLOW_HEADERS: list[str] = []
    CORS_EXPOSE_HEADERS: list[str] = []
    CORS_ALLOW_CREDENTIALS: bool = False
    #: Seconds browsers may cache a preflight answer (``None``: dyne's 60).
    CORS_MAX_AGE: int | None = Field(default=None, ge=0)

    #: Import strings (``"pkg.module:Name"``) or the objects themselves.
    CONTROLLERS: list[Any] | None = None
    CLI_CONTROLLERS: list[Any] | None = None
    EXTENSIONS: list[Any] | None = None
    MODELS: list[Any] | None = None
    EXCEPTION_HANDLERS: list[Any] | None = None
    MIDDLEWARE: list[Any] | None = None
    LOGGERS: list[Any] | None = None
    #: The default log sink's options (``LEVEL``, ``FORMAT``...; see dyne.logging).
    DEFAULT_LOGGER: dict[str, Any] | None = None

    @field_validator("STATIC_URL", "OPEN_API_URL")
    @classmethod
    def _check_url_path(cls, value: str) -> str:
        if not value.startswith("/") or value != value.strip() or "?" in value or "#" in value:
            raise ValueError(f"must be a URL path starting with '/', got {value!r}")
        return value

    @field_validator(*REGISTRATION_LISTS, "LOGGERS")
    @classmethod
    def _check_import_strings(cls, value: list[Any] | None) -> list[Any] | None:
        for index, entry in enumerate(value or ()):
            if isinstance(entry, str) and not _IMPORT_STRING.match(entry.strip()):
                raise ValueError(f"entry {index} ({entry!r}) is not an import string such as "
                                 "'package.module:name'")
        return value


_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY", re.IGNORECASE)


def _problems(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        line = f"{field}: {problem['msg']}"
        value = problem.get("input")
        if isinstance(value, (str, int, float)) and not _SECRET_NAME.search(field) \
                and len(repr(value)) <= 80:
            line += f" (got {value!r})"
        lines.append(line)
    return "; ".join(lines)


def load_settings(config: type[BaseConfig] | BaseConfig) -> BaseConfig:
    """An instance of ``config`` (validated, environment applied); a
    ``ConfigError`` naming each invalid field otherwise."""
    if isinstance(config, BaseConfig):
        return config
    if not (isinstance(config, type) and issubclass(config, BaseConfig)):
        raise TypeError(f"config= takes a dyne.settings.BaseConfig subclass (or instance), got "
                        f"{config!r}")
    try:
        return config()  # type: ignore[call-arg]  # fields may come from the environment
    except ValidationError as exc:
        raise ConfigError(f"Invalid configuration in {config.__name__}: {_problems(exc)}") from None


def _resolve(settings: BaseConfig, directory: str | None) -> str | None:
    if directory is None or os.path.isabs(directory) or settings.BASE_PATH is None:
        return directory
    return os.path.join(settings.BASE_PATH, directory)


def _app_arguments(settings: BaseConfig) -> dict[str, Any]:
    """The ``App`` arguments the settings give."""
    cors_params: dict[str, Any] = {
        "allow_origins": settings.CORS_ALLOW_ORIGINS,
        "allow_methods": settings.CORS_ALLOW_METHODS,
        "allow_headers": settings.CORS_ALLOW_HEADERS,
        "expose_headers": settings.CORS_EXPOSE_HEADERS,
        "allow_credentials": settings.CORS_ALLOW_CREDENTIALS,
    }
    if settings.CORS_MAX_AGE is not None:
        cors_params["max_age"] = settings.CORS_MAX_AGE
    return {
        "debug": settings.DEBUG,
        "secret_key": settings.SECRET_KEY,
        "static_dir": _resolve(settings, settings.STATIC_DIR),
        "static_route": settings.STATIC_URL,
        "templates_dir": _resolve(settings, settings.TEMPLATES_DIR),
        "cors": settings.CORS_ENABLED,
        "cors_params": cors_params,
        "redirect_slashes": not settings.STRICT_SLASHES,
    }


def _argument_defaults() -> dict[str, Any]:
    import inspect

    from .app import App

    return {name: parameter.default
            for name, parameter in inspect.signature(App.__init__).parameters.items()}


def _apply_arguments(app: App, arguments: dict[str, Any], given: dict[str, Any]) -> None:
    from .middleware import cors_options
    from .staticfiles import StaticSite

    defaults = _argument_defaults()
    # An argument passed to App explicitly (not its default) wins.
    chosen = {name: value for name, value in arguments.items()
              if name not in given or given[name] == defaults.get(name)}
    if "debug" in chosen:
        app.debug = chosen["debug"]
    if chosen.get("secret_key") is not None:
        app.secret_key = chosen["secret_key"]
    if "static_dir" in chosen or "static_route" in chosen:
        directory = chosen.get("static_dir", given.get("static_dir"))
        route = chosen.get("static_route", app.static.route)
        app.static = StaticSite(directory, route, app.static.cache_control)
    if "templates_dir" in chosen:
        app.templates_dir = Path(chosen["templates_dir"]).absolute()
    if "cors" in chosen:
        app.cors = chosen["cors"]
    if "cors_params" in chosen:
        app.cors_params = cors_options(chosen["cors_params"])
    if "redirect_slashes" in chosen:
        app.redirect_slashes = chosen["redirect_slashes"]


def _config_values(settings: BaseConfig) -> dict[str, Any]:
    """The settings as ``app.config`` values: every field set to something
    (an empty ``LOGGERS`` list would still start logging, so it is left out)."""
    values = {}
    for name, value in settings.model_dump().items():
        if value is None or (name == "LOGGERS" and not value):
            continue
        values[name] = value
    return values


def _registrar(app: App, list_name: str) -> Callable[[Any], Any]:
    if list_name == "MODELS":
        return _import_model
    if list_name == "EXTENSIONS":
        return lambda extension: _init_extension(app, extension)
    method = {"MIDDLEWARE": "add_middleware_class", "EXCEPTION_HANDLERS": "add_exception_handler",
              "CONTROLLERS": "add_controller", "CLI_CONTROLLERS": "add_cli_controller"}[list_name]
    return getattr(app, method)  # type: ignore[no-any-return]


def _import_model(model: Any) -> Any:
    if not isinstance(model, type):
        raise TypeError(f"MODELS entries are model classes, got {model!r}")
    return model


def _init_extension(app: App, extension: Any) -> Any:
    if isinstance(extension, type):
        raise TypeError(f"EXTENSIONS entries are extension objects, got the class "
                        f"{extension.__qualname__}: create one in your extensions module "
                        f"(ext = {extension.__qualname__}()) and name that")
    init_app = getattr(extension, "init_app", None)
    if not callable(init_app):
        raise TypeError(f"EXTENSIONS entries follow dyne's extension protocol (an init_app(app) "
                        f"method), got {extension!r}")
    init_app(app)
    return extension


def _register_lists(app: App, settings: BaseConfig) -> None:
    owner = type(settings).__name__
    for list_name in REGISTRATION_LISTS:
        entries = getattr(settings, list_name) or []
        if not entries:
            continue
        register = _registrar(app, list_name)
        for index, entry in enumerate(entries):
            where = f"{owner}.{list_name}[{index}]"
            try:
                target = entry
                if list_name in ("MODELS", "EXTENSIONS", "MIDDLEWARE", "CLI_CONTROLLERS"):
                    target = import_object(entry, where)
                register(target)
            except ConfigError:
                raise
            except ImportError as exc:
                if str(exc).startswith(where):  # import_object named the entry already
                    raise ConfigError(str(exc)) from exc
                raise ConfigError(f"{where} ({entry!r}): {exc}") from exc
            except Exception as exc:
                shown = f" ({entry!r})" if isinstance(entry, str) else ""
                raise ConfigError(f"{where}{shown}: {exc}") from exc


def _check_loggers(settings: BaseConfig) -> None:
    """Import the ``LOGGERS`` now, so a wrong name fails at start-up (dyne.logging
    adds their sinks when the app starts)."""
    from .logging import LoggerBase

    for index, entry in enumerate(settings.LOGGERS or ()):
        where = f"{type(settings).__name__}.LOGGERS[{index}]"
        try:
            logger = import_object(entry, where)
        except ImportError as exc:
            raise ConfigError(str(exc)) from exc
        if not (isinstance(logger, type) and issubclass(logger, LoggerBase)):
            raise ConfigError(f"{where} ({entry!r}): not a dyne.logging.LoggerBase subclass")


def _add_openapi(app: App, settings: BaseConfig) -> None:
    from .ext.openapi import OpenAPI

    url = settings.OPEN_API_URL.rstrip("/") or "/openapi"
    OpenAPI(app, title=settings.APP_NAME, version=settings.VERSION,
            description=settings.OPEN_API_DESCRIPTION, docs_route=url,
            schema_route=f"{url}.yml", schema_json_route=f"{url}.json")


def configure_app(app: App, config: type[BaseConfig] | BaseConfig,
                  given: dict[str, Any] | None = None) -> BaseConfig:
    """Apply ``config`` to ``app`` (what ``App(config=...)`` does): validate it,
    copy its values into ``app.config``, set the ``App`` options it names
    (unless ``given`` holds an explicit value), register its lists, and serve
    the OpenAPI documentation when ``OPEN_API`` is on. Returns the settings,
    also kept as ``app.settings``."""
    settings = load_settings(config)
    app.settings = settings
    app.config.from_object(_config_values(settings))
    _apply_arguments(app, _app_arguments(settings), given or {})
    _check_loggers(settings)
    _register_lists(app, settings)
    if settings.OPEN_API:
        _add_openapi(app, settings)
    return settings
