"""Logging on loguru: ``app.logger``, the ``DEFAULT_LOGGER`` sink, extra sinks
(``LoggerBase`` subclasses named in ``LOGGERS``), and the standard library's
loggers (uvicorn, SQLAlchemy, dyne's own) routed into the same sinks.

    app.config["DEFAULT_LOGGER"] = {"LEVEL": LogLevel.DEBUG, "FORMAT": "json"}
    app.config["LOGGERS"] = ["myapp.logs:FileLogger"]
    app.config["FILE_LOGGER"] = {"SINK": "logs/app.log", "ROTATION": "5 MB",
                                 "RETENTION": "5 files"}

    @app.route("/")
    async def home(req, resp):
        app.logger.info("home page")

Loguru is imported on first use of ``app.logger`` (or when the app starts
with ``DEFAULT_LOGGER`` or ``LOGGERS`` configured), never by ``import dyne``;
nothing here runs per request. Sinks are added when the app starts (or on
first use of ``app.logger``) and removed when it shuts down, which also
stops the writer threads of ``ENQUEUE=True`` sinks.
"""

from __future__ import annotations

import contextvars
import enum
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging as stdlib_logging

    from loguru import Logger

    from .app import App

__all__ = ["DEFAULT_FORMAT", "INTERCEPTED_LOGGERS", "REQUEST_FORMAT", "AppLogging", "LogLevel", "LoggerBase",
           "json_format"]

#: The default format: time, level, logger name, message (seed 002's, with its
#: closing ``</level>`` tag).
DEFAULT_FORMAT = ("<green>{time:HH:mm:ss}</green> | <level>{level}</level> | "
                  "{extra[logger_name]} | <level>{message}</level>")
#: The default format when ``RequestContext`` is on: the request id after the name.
REQUEST_FORMAT = ("<green>{time:HH:mm:ss}</green> | <level>{level}</level> | "
                  "{extra[logger_name]} | {extra[request_id]} | <level>{message}</level>")
#: Standard-library loggers whose records go to the loguru sinks by default
#: (config ``INTERCEPT_LOGGERS`` replaces the list; ``[]`` leaves them alone).
INTERCEPTED_LOGGERS = ("dyne", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy",
                       "alembic")
#: Options that only make sense for a file sink.
_FILE_OPTIONS = {"ROTATION": "rotation", "RETENTION": "retention", "COMPRESSION": "compression",
                 "DELAY": "delay", "MODE": "mode", "ENCODING": "encoding"}
_JSON_KEY = "_dyne_json"
#: The id of the request being handled (set by
#: ``dyne.ext.observability.RequestContext``); every loguru record gets it as
#: ``extra["request_id"]`` (``"-"`` outside a request).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dyne_request_id", default=None)


def _add_request_id(record: dict[str, Any]) -> None:
    request_id = request_id_var.get()
    if request_id is not None:
        record["extra"]["request_id"] = request_id
_FILE_COUNT = re.compile(r"\s*(\d+)\s*files?\s*", re.IGNORECASE)


class LogLevel(enum.StrEnum):
    """Loguru's levels, lowest first. Members are strings (``LogLevel.INFO ==
    "INFO"``), so either spelling works in configuration."""

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"



def require(module: str, extra: str) -> None:
    """Import ``module``, or fail with the install command of dyne's ``extra``."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f'This feature needs {module.split(".")[0]}: '
                          f'pip install "dyne[{extra}]"') from exc


def upper_snake(name: str) -> str:
    """``FileLogger`` -> ``FILE_LOGGER``; ``JSONLogger`` -> ``JSON_LOGGER``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def _json_dumps(value: Any) -> bytes:
    global _json_dumps
    from .formats import json_dumps

    _json_dumps = json_dumps  # type: ignore[assignment]
    return json_dumps(value)


def json_format(record: dict[str, Any]) -> str:
    """A loguru format function writing one JSON object per line (JSON lines):
    ``time`` (ISO 8601), ``level``, ``message``, ``logger``, ``module``,
    ``function``, ``line``, every bound extra value (``request_id``...) and,
    for errors, ``exception`` (the formatted traceback, without variable values).
    Use ``"FORMAT": "json"`` in a logger's config, or return it from
    ``get_format()``."""
    extra = record["extra"]
    entry: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "logger": extra.get("logger_name", record["name"]),
        "module": record["name"],
        "function": record["function"],
        "line": record["line"],
    }
    for key, value in extra.items():
        if key != "logger_name" and not key.startswith("_dyne"):
            entry[key] = value
    exception = record["exception"]
    if exception is not None:
        entry["exception"] = "".join(traceback.format_exception(
            exception.type, exception.value, exception.traceback)).rstrip()
    try:
        line = _json_dumps(entry)
    except TypeError:
        import json

        line = json.dumps(entry, default=str).encode()
    # Loguru formats the returned template with the record: the JSON goes in
    # through an extra value, so its braces are not read as fields.
    extra[_JSON_KEY] = line.decode() if isinstance(line, bytes) else line
    return "{extra[" + _JSON_KEY + "]}\n"


def _std_stream(sink: Any) -> Any:
    if isinstance(sink, str) and sink.strip().upper() in ("STDERR", "SYS.STDERR"):
        return sys.stderr
    if isinstance(sink, str) and sink.strip().upper() in ("STDOUT", "SYS.STDOUT"):
        return sys.stdout
    return sink


class LoggerBase:
    """One loguru sink, configured from the app's config.

    Subclass it and name the subclass by import string in ``LOGGERS``; its
    settings are the mapping under the class name in upper snake case
    (``FileLogger`` -> ``FILE_LOGGER``): ``SINK`` (a path, ``"stderr"`` or
    ``"stdout"``; stderr by default), ``LEVEL``, ``FORMAT`` (a loguru format,
    or ``"json"`` for JSON lines), ``ENQUEUE``, ``BACKTRACE``, ``DIAGNOSE``,
    ``COLORIZE``, ``SERIALIZE`` and, for files, ``DELAY``, ``ROTATION``,
    ``RETENTION``, ``COMPRESSION``, ``ENCODING``, ``MODE``. Override
    ``get_format()`` / ``get_filter()`` for computed formats and filters.

    ``DIAGNOSE`` (variable values in tracebacks) is off unless the app is in
    debug mode or the config turns it on explicitly.
    """

    #: The config key of this logger's settings (default: the class name in
    #: upper snake case).
    configs_name: str | None = None

    def __init__(self, app: App, configs_name: str | None = None) -> None:
        self.app = app
        if configs_name is not None:
            self.configs_name = configs_name
        elif self.configs_name is None:
            self.configs_name = upper_snake(type(self).__name__)
        self.handler_id: int | None = None

    # -- configuration -------------------------------------------------------------

    def get_conf(self) -> dict[str, Any]:
        """This logger's config mapping (``{}`` when the app has none)."""
        assert self.configs_name is not None
        value = self.app.config.get(self.configs_name, default=None, cast=dict)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise TypeError(f"Config {self.configs_name} must be a mapping, "
                            f"not {type(value).__name__}")
        return value

    def get_conf_value(self, key: str, default: Any = None) -> Any:
        """One setting of this logger (``default`` when unset)."""
        return self.get_conf().get(key, default)

    def get_sink(self) -> Any:
        """Where records go: ``sys.stderr`` (the default), ``sys.stdout``, a
        ``Path`` (parent directories are created), or any loguru sink."""
        sink = _std_stream(self.get_conf_value("SINK", sys.stderr))
        if isinstance(sink, str):
            sink = Path(sink)
        if isinstance(sink, Path):
            sink.parent.mkdir(parents=True, exist_ok=True)
        return sink

    def get_level(self) -> str | int:
        level = self.get_conf_value("LEVEL", "DEBUG" if self.app.debug else "INFO")
        if isinstance(level, LogLevel):
            return level.value
        return level.strip().upper() if isinstance(level, str) else level

    def get_format(self) -> str | Callable[[dict[str, Any]], str]:
        """A loguru format string or format function (``"json"`` means
        ``json_format``)."""
        return self.get_conf_value("FORMAT", DEFAULT_FORMAT)

    def get_filter(self) -> Callable[[dict[str, Any]], bool] | str | None:
        """A function of the record returning whether to write it (or a
        module name, as loguru takes it); ``None`` keeps every record."""
        return None

    def handler_options(self) -> dict[str, Any]:
        """The keyword arguments for ``loguru.logger.add``."""
        sink = self.get_sink()
        is_file = isinstance(sink, Path)
        fmt = self.get_format()
        if isinstance(fmt, str) and fmt.strip().lower() == "json":
            fmt = json_format
        options: dict[str, Any] = {
            "level": self.get_level(),
            "format": fmt,
            "filter": self.get_filter(),
            "enqueue": bool(self.get_conf_value("ENQUEUE", False)),
            "backtrace": bool(self.get_conf_value("BACKTRACE", True)),
            "diagnose": bool(self.get_conf_value("DIAGNOSE", self.app.debug)),
            "serialize": bool(self.get_conf_value("SERIALIZE", False)),
        }
        colorize = self.get_conf_value("COLORIZE", False if is_file else None)
        if fmt is json_format or options["serialize"]:
            colorize = False
        options["colorize"] = colorize
        if is_file:
            options["encoding"] = "utf-8"
            options["delay"] = False
            for key, name in _FILE_OPTIONS.items():
                value = self.get_conf_value(key)
                if key == "RETENTION" and isinstance(value, str):
                    count = _FILE_COUNT.fullmatch(value)
                    if count:  # "5 files": keep that many (loguru takes an int)
                        value = int(count.group(1))
                if value is not None:
                    options[name] = value
        return {"sink": sink, **options}

    # -- lifecycle -----------------------------------------------------------------

    def add(self) -> int:
        """Add this sink to loguru's logger; returns the handler id."""
        from loguru import logger

        if self.handler_id is None:
            options = self.handler_options()
            self.handler_id = logger.add(options.pop("sink"), **options)
        return self.handler_id

    def remove(self) -> None:
        """Remove the sink (closing its file, stopping its queue thread)."""
        from loguru import logger

        handler_id, self.handler_id = self.handler_id, None
        if handler_id is not None:
            try:
                logger.remove(handler_id)
            except ValueError:  # removed by someone else (logger.remove())
                pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.configs_name}>"


class DefaultLogger(LoggerBase):
    """The app's default sink, configured by ``DEFAULT_LOGGER``."""

    configs_name = "DEFAULT_LOGGER"

    def get_format(self) -> str | Callable[[dict[str, Any]], str]:
        default = REQUEST_FORMAT if "request_context" in self.app.extensions else DEFAULT_FORMAT
        return self.get_conf_value("FORMAT", default)


def _load(import_string: str) -> Any:
    import importlib

    module_name, _, attr = import_string.partition(":")
    if not attr:
        module_name, _, attr = import_string.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"LOGGERS entries are import strings such as "
                         f"'app.logging.file_logger:FileLogger', got {import_string!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


_intercept_class: Any = None


def intercept_handler() -> stdlib_logging.Handler:
    """A standard-library ``logging.Handler`` that hands records to loguru,
    keeping their level, logger name (as ``extra["logger_name"]``), exception
    and the caller's frame (loguru's documented recipe)."""
    global _intercept_class
    if _intercept_class is None:
        import logging

        class InterceptHandler(logging.Handler):
            _dyne_intercept = True

            def emit(self, record: logging.LogRecord) -> None:
                from loguru import logger

                try:
                    level: str | int = logger.level(record.levelname).name
                except ValueError:
                    level = record.levelno
                frame, depth = sys._getframe(0), 0
                while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
                    frame = frame.f_back  # type: ignore[assignment]
                    depth += 1
                logger.bind(logger_name=record.name).opt(
                    depth=depth, exception=record.exc_info).log(level, record.getMessage())

        _intercept_class = InterceptHandler
    handler: stdlib_logging.Handler = _intercept_class()
    return handler


class AppLogging:
    """What ``app.logger`` stands on: the app's sinks and the standard-library
    routing, added once and removed at shutdown."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.sinks: list[LoggerBase] = []
        self.started = False
        self._bound: Any = None
        self._saved: dict[str, tuple[list[stdlib_logging.Handler], bool]] = {}

    @property
    def logger(self) -> Logger:
        """Loguru's logger bound to the app's name (``extra["logger_name"]``)."""
        if not self.started:
            self.start()
        if self._bound is None:
            from loguru import logger

            self._bound = logger.bind(logger_name=self.name)
        return self._bound

    @property
    def name(self) -> str:
        return str(self.app.config.get("APP_NAME", default="app"))

    def start(self, restart: bool = False) -> None:
        """Add the default sink and the ``LOGGERS`` sinks (loguru's own stderr
        sink is replaced by the default one), and route the standard
        library's loggers into them. Does nothing the second time, unless
        ``restart`` (the app's start-up does that, so that the configuration
        as it is then wins over an ``app.logger`` used earlier, at import time)."""
        if self.started:
            if not restart:
                return
            self.stop()
        require("loguru", "logging")
        from loguru import logger

        self.started = True
        # Records from code that binds nothing still fill the default format;
        # the request id comes from a context variable, read per record (one
        # variable set per request costs less than loguru's contextualize()).
        logger.configure(extra={"logger_name": self.name, "request_id": "-"},
                         patcher=_add_request_id)  # type: ignore[arg-type]
        try:
            logger.remove(0)  # loguru's built-in stderr sink, if still there
        except ValueError:
            pass
        config = self.app.config
        sinks: list[LoggerBase] = []
        if config.get("DEFAULT_LOGGER", default={}) is not None:
            sinks.append(DefaultLogger(self.app))
        names = config.get("LOGGERS", default=None, cast=list)
        for entry in names or ():
            cls = _load(entry) if isinstance(entry, str) else entry
            if not (isinstance(cls, type) and issubclass(cls, LoggerBase)):
                raise TypeError(f"LOGGERS entry {entry!r} is not a LoggerBase subclass")
            sinks.append(cls(self.app))
        try:
            for sink in sinks:
                sink.add()
                self.sinks.append(sink)
        except BaseException:
            self.stop()
            raise
        self._intercept(config.get("INTERCEPT_LOGGERS", default=list(INTERCEPTED_LOGGERS), cast=list))

    def _intercept(self, names: Any) -> None:
        import logging

        handler = intercept_handler()
        for name in names or ():
            std = logging.getLogger(name)
            if any(getattr(h, "_dyne_intercept", False) for h in std.handlers):
                continue
            self._saved[name] = (list(std.handlers), std.propagate)
            std.handlers = [handler]
            std.propagate = False

    def stop(self) -> None:
        """Remove this app's sinks (waiting for queued records to be written)
        and give the standard-library loggers their handlers back."""
        import logging

        for name, (handlers, propagate) in self._saved.items():
            std = logging.getLogger(name)
            std.handlers = handlers
            std.propagate = propagate
        self._saved.clear()
        for sink in reversed(self.sinks):
            sink.remove()
        self.sinks.clear()
        self.started = False
        self._bound = None

    async def astop(self) -> None:
        """``stop()`` for the shutdown sequence: lets enqueued coroutine sinks finish first."""
        if self.started:
            from loguru import logger

            await logger.complete()
        self.stop()
