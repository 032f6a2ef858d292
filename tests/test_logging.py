"""Logging on loguru (seed 002's surface): app.logger, DEFAULT_LOGGER,
LoggerBase sinks from LOGGERS, standard-library routing, clean shutdown.

The sink classes below are the seed's examples, referred to by import string
(``tests.test_logging:FileLogger``) as an application's config would."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
import zipfile

import pytest

import dyne
from dyne.logging import LoggerBase, LogLevel, json_format, upper_snake

pytest.importorskip("loguru")
from loguru import logger as loguru_logger


class FileLogger(LoggerBase):
    """File logger example (seed 002)."""


class PerformanceLogger(LoggerBase):
    """Only messages about performance (seed 002's filter example)."""

    def get_filter(self):
        def _filter(record) -> bool:
            return "PERFORMANCE" in record["message"]

        return _filter


class JSONLogger(LoggerBase):
    """A .jsonl file for log shippers (seed 002: get_format returning JSON)."""

    def get_format(self):
        return json_format


def handler_ids() -> set[int]:
    return set(loguru_logger._core.handlers)


def make_app(tmp_path, **config) -> dyne.App:
    app = dyne.App()
    for key, value in config.items():
        app.config[key] = value
    return app


def test_log_level_and_names():
    assert [level.value for level in LogLevel] == ["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING",
                                                   "ERROR", "CRITICAL"]
    assert LogLevel.DEBUG == "DEBUG" and str(LogLevel.ERROR) == "ERROR"
    assert upper_snake("FileLogger") == "FILE_LOGGER"
    assert upper_snake("JSONLogger") == "JSON_LOGGER"
    assert upper_snake("PerformanceLogger") == "PERFORMANCE_LOGGER"


def test_default_logger_configuration(tmp_path):
    """Seed 002's DEFAULT_LOGGER example (its format with the closing tag fixed),
    written to a file so the lines can be read back."""
    sink = tmp_path / "default.log"
    app = make_app(tmp_path, DEFAULT_LOGGER={
        "SINK": str(sink),
        "LEVEL": LogLevel.DEBUG,
        "FORMAT": "<green>{time:HH:mm:ss}</green> | <level>{level}</level> | "
                  "{extra[logger_name]} | <level>{message}</level>",
        "BACKTRACE": True,
        "DIAGNOSE": True,
        "COLORIZE": True,
        "SERIALIZE": False,
        "ENCODING": "utf-8",
    }, APP_NAME="shop")

    @app.route("/")
    def home(req, resp):
        app.logger.debug("home page for {}", "ada")
        app.logger.trace("below the level")
        resp.text = "ok"

    before = handler_ids()
    with app.client as client:
        assert client.get("/").text == "ok"
        assert loguru_logger._core.handlers.keys() - before  # our sink is installed
    assert handler_ids() <= before  # ... and gone after shutdown
    lines = sink.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines
    # COLORIZE applies the color markup: escape codes surround the parts.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d \| DEBUG \| shop \| home page for ada", plain), plain
    assert "\x1b[" in lines[0]


def test_default_logger_to_stderr(capsys):
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"LEVEL": "INFO", "COLORIZE": False}
    with app.client as client:
        app.logger.info("to stderr")
        app.logger.debug("not at INFO")
        client.get("/missing")
    err = capsys.readouterr().err
    assert re.search(r"\d\d:\d\d:\d\d \| INFO \| app \| to stderr", err), err
    assert "not at INFO" not in err


def test_file_logger_with_rotation_and_retention(tmp_path):
    """Seed 002's FILE_LOGGER: a file that rotates at a size, keeping a number
    of compressed old files."""
    folder = tmp_path / "logging"
    app = make_app(tmp_path, DEFAULT_LOGGER=None,
                   LOGGERS=["tests.test_logging:FileLogger"],
                   FILE_LOGGER={
                       "SINK": str(folder / "file.log"),
                       "LEVEL": LogLevel.TRACE,
                       "FORMAT": "<green>{time:HH:mm:ss}</green> | <level>{level}</level> | "
                                 "{extra[logger_name]} | <level>{message}</level>",
                       "ENQUEUE": False,
                       "BACKTRACE": True,
                       "DIAGNOSE": True,
                       "COLORIZE": True,
                       "DELAY": True,
                       "ROTATION": "1 KB",
                       "RETENTION": "2 files",
                       "COMPRESSION": "zip",
                       "SERIALIZE": False,
                       "ENCODING": "utf-8",
                       "MODE": "a",
                   })
    with app.client:
        for number in range(200):
            app.logger.trace("line {:04d} " + "x" * 40, number)
    current = folder / "file.log"
    archives = sorted(folder.glob("file.*.log.zip"))
    assert current.exists()
    assert 1 <= len(archives) <= 2, sorted(p.name for p in folder.iterdir())  # retention: 2 files
    assert len(list(folder.iterdir())) == len(archives) + 1
    assert current.stat().st_size <= 1024 + 200
    # The newest lines are in the current file, older ones in the archives;
    # the oldest were deleted by the retention.
    assert "line 0199" in current.read_text(encoding="utf-8")
    with zipfile.ZipFile(archives[-1]) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    assert "| TRACE | app | line " in re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "\x1b[" in text  # COLORIZE: True was honoured for the file
    everything = current.read_text(encoding="utf-8") + text
    assert "line 0000" not in everything


def test_performance_filter(tmp_path):
    sink = tmp_path / "performance.log"
    app = make_app(tmp_path, DEFAULT_LOGGER=None,
                   LOGGERS=["tests.test_logging:PerformanceLogger"],
                   PERFORMANCE_LOGGER={"SINK": str(sink), "FORMAT": "{level} {message}"})
    with app.client:
        app.logger.info("PERFORMANCE: /reports took 1250 ms")
        app.logger.info("user signed in")
        app.logger.warning("PERFORMANCE: slow query (830 ms)")
    assert sink.read_text(encoding="utf-8").splitlines() == [
        "INFO PERFORMANCE: /reports took 1250 ms",
        "WARNING PERFORMANCE: slow query (830 ms)",
    ]


def test_json_lines_format(tmp_path):
    sink = tmp_path / "app.jsonl"
    app = make_app(tmp_path, DEFAULT_LOGGER=None, LOGGERS=["tests.test_logging:JSONLogger"],
                   JSON_LOGGER={"SINK": str(sink), "LEVEL": "DEBUG"})

    @app.route("/fail")
    def fail(req, resp):
        secret_token = "s3cr3t-value"
        try:
            raise ValueError(f"bad {len(secret_token)}")
        except ValueError:
            app.logger.exception('failed with "quotes" and {braces}')
        resp.text = "handled"

    with app.client as client:
        app.logger.bind(user="ada").info("multi\nline")
        assert client.get("/fail").text == "handled"
    records = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    assert [r["message"] for r in records] == ["multi\nline", 'failed with "quotes" and {braces}']
    first, second = records
    assert first["level"] == "INFO" and first["logger"] == "app" and first["user"] == "ada"
    assert first["module"] == "tests.test_logging" and isinstance(first["line"], int)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first["time"])
    assert second["level"] == "ERROR"
    assert "ValueError: bad 12" in second["exception"]
    assert "s3cr3t-value" not in json.dumps(second)  # no variable values in production


def test_format_json_shortcut_and_serialize(tmp_path):
    shortcut, serialized = tmp_path / "short.jsonl", tmp_path / "serialized.jsonl"
    app = make_app(tmp_path, DEFAULT_LOGGER={"SINK": str(shortcut), "FORMAT": "json"},
                   LOGGERS=["tests.test_logging:FileLogger"],
                   FILE_LOGGER={"SINK": str(serialized), "SERIALIZE": True})
    with app.client:
        app.logger.warning("both")
    assert json.loads(shortcut.read_text(encoding="utf-8"))["message"] == "both"
    record = json.loads(serialized.read_text(encoding="utf-8"))["record"]  # loguru's own schema
    assert record["message"] == "both" and record["extra"]["logger_name"] == "app"


def _fails_with_local(app: dyne.App) -> None:
    password = "hunter2-in-a-local"
    try:
        {}[password]
    except KeyError:
        app.logger.exception("lookup failed")


@pytest.mark.parametrize("debug", [False, True])
def test_diagnose_follows_debug_mode(tmp_path, debug):
    """Variable values appear in tracebacks only in debug mode (or when DIAGNOSE
    is set explicitly): production defaults never leak them."""
    sink = tmp_path / "errors.log"
    app = dyne.App(debug=debug)
    app.config["DEFAULT_LOGGER"] = {"SINK": str(sink)}
    with app.client:
        _fails_with_local(app)
    text = sink.read_text(encoding="utf-8")
    assert "KeyError" in text and "lookup failed" in text
    # The exception message names the key in both modes; diagnose adds the
    # variable annotations ("└ 'hunter2-in-a-local'") under the source line.
    assert ("└ 'hunter2-in-a-local'" in text) is debug


def test_standard_library_logging_flows_into_the_sinks(tmp_path):
    sink = tmp_path / "all.log"
    app = make_app(tmp_path, DEFAULT_LOGGER={"SINK": str(sink), "LEVEL": "DEBUG",
                                             "FORMAT": "{extra[logger_name]} {level} {message}"})

    @app.route("/boom")
    def boom(req, resp):
        raise RuntimeError("kaboom")

    uvicorn_error = logging.getLogger("uvicorn.error")
    engine = logging.getLogger("sqlalchemy.engine.Engine")
    engine.setLevel(logging.INFO)
    uvicorn_error.setLevel(logging.INFO)  # as uvicorn's own logging config does
    saved = list(uvicorn_error.handlers), uvicorn_error.propagate
    try:
        with app.client as client:
            assert client.get("/boom").status_code == 500  # dyne logs the unhandled error
            uvicorn_error.info("Application startup complete.")
            engine.info("SELECT 1")
            logging.getLogger("somewhere.else").warning("not routed")
        lines = sink.read_text(encoding="utf-8").splitlines()
        assert "dyne ERROR Unhandled error in GET /boom" in lines
        assert "uvicorn.error INFO Application startup complete." in lines
        assert "sqlalchemy.engine.Engine INFO SELECT 1" in lines
        assert not any("not routed" in line for line in lines)
        assert "RuntimeError: kaboom" in sink.read_text(encoding="utf-8")
        # After shutdown the standard-library loggers are as they were.
        assert (list(uvicorn_error.handlers), uvicorn_error.propagate) == saved
    finally:
        engine.setLevel(logging.NOTSET)
        uvicorn_error.setLevel(logging.NOTSET)


def test_intercept_loggers_can_be_changed(tmp_path):
    sink = tmp_path / "only.log"
    app = make_app(tmp_path, DEFAULT_LOGGER={"SINK": str(sink), "FORMAT": "{message}"},
                   INTERCEPT_LOGGERS=["myapp"])
    with app.client:
        logging.getLogger("myapp.jobs").warning("mine")
        logging.getLogger("dyne").warning("dyne's, left alone")
    assert sink.read_text(encoding="utf-8").splitlines() == ["mine"]


def test_sinks_stop_at_shutdown(tmp_path):
    sink = tmp_path / "stop.log"
    app = make_app(tmp_path, DEFAULT_LOGGER={"SINK": str(sink), "FORMAT": "{message}"})
    before = handler_ids()
    with app.client:
        app.logger.info("while running")
    loguru_logger.info("after shutdown")
    assert sink.read_text(encoding="utf-8").splitlines() == ["while running"]
    assert handler_ids() <= before


def test_app_logger_alone_configures_the_default_sink(tmp_path):
    """Without DEFAULT_LOGGER/LOGGERS, app.logger still works (stderr, INFO)."""
    app = dyne.App()
    sink = app.logging
    assert not sink.started
    app.logger.info("first use starts logging")
    assert sink.started and len(sink.sinks) == 1
    assert sink.sinks[0].get_level() == "INFO"
    sink.stop()
    assert not sink.sinks


@pytest.mark.parametrize("entry, error", [
    ("tests.test_logging:NotThere", AttributeError),
    ("tests.test_logging:make_app", TypeError),
    ("nodots", ValueError),
])
def test_bad_loggers_entries(entry, error):
    app = dyne.App()
    app.config["LOGGERS"] = [entry]
    app.config["DEFAULT_LOGGER"] = None
    before = handler_ids()
    with pytest.raises(error):
        app.logging.start()
    assert handler_ids() <= before


def test_enqueue_sinks_are_removed_at_shutdown(tmp_path):
    """ENQUEUE=True runs a writer process-safe queue; shutting the app down
    removes the sink, so no semaphore leaks and every record is written."""
    sink = tmp_path / "queued.log"
    script = textwrap.dedent(f"""
        import asyncio, dyne
        app = dyne.App()
        app.config["DEFAULT_LOGGER"] = {{"SINK": {str(sink)!r}, "ENQUEUE": True,
                                         "FORMAT": "{{message}}"}}

        async def main():
            async with app.lifespan_context():
                for n in range(50):
                    app.logger.info("queued {{}}", n)

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "leaked semaphore" not in done.stderr and "resource_tracker" not in done.stderr, done.stderr
    assert sink.read_text(encoding="utf-8").splitlines() == [f"queued {n}" for n in range(50)]


def test_configuration_at_start_up_wins_over_early_use(tmp_path):
    """app.logger used at import time (before the config was complete) starts
    logging with what was there; the app's start-up applies the final config."""
    early, final = tmp_path / "early.log", tmp_path / "final.log"
    app = dyne.App()
    app.config["DEFAULT_LOGGER"] = {"SINK": str(early), "FORMAT": "{message}"}
    app.logger.info("at import time")
    app.config["DEFAULT_LOGGER"] = {"SINK": str(final), "FORMAT": "{level} {message}",
                                    "LEVEL": "debug"}  # level names in any case
    with app.client:
        app.logger.debug("while serving")
    assert early.read_text(encoding="utf-8") == "at import time\n"
    assert final.read_text(encoding="utf-8") == "DEBUG while serving\n"


def test_under_uvicorn_with_its_own_logs(tmp_path):
    """A real server process: uvicorn's own lines (startup, access, shutdown)
    land in the app's JSON sink, the access line with the request's id, and
    the queued sink is flushed and removed at shutdown."""
    import os

    import httpx

    from tests.conftest import free_port, wait_for_port

    sink = tmp_path / "server.jsonl"
    (tmp_path / "served_app.py").write_text(textwrap.dedent(f"""
        import dyne
        from dyne.ext.observability import RequestContext

        app = dyne.App()
        app.config["DEFAULT_LOGGER"] = {{"SINK": {str(sink)!r}, "FORMAT": "json", "ENQUEUE": True}}
        RequestContext(app)

        @app.route("/hello")
        async def hello(req, resp):
            app.logger.info("hello from the view")
            resp.text = "hi"
    """))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-W", "default", "-m", "uvicorn", "served_app:app",
                                "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, process=process)
        response = httpx.get(f"http://127.0.0.1:{port}/hello", headers={"X-Request-ID": "up-1"})
        assert response.headers["X-Request-ID"] == "up-1"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "leaked semaphore" not in output and "Traceback" not in output, output
    records = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    by_message = {(r["logger"], r["message"]): r for r in records}
    assert ("uvicorn.error", "Application startup complete.") in by_message
    assert by_message["app", "hello from the view"]["request_id"] == "up-1"
    uvicorn_access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert len(uvicorn_access) == 1 and "GET /hello" in uvicorn_access[0]["message"]
    assert uvicorn_access[0]["request_id"] == "up-1"
    ours = [r for r in records if r["logger"] == "dyne.access"]
    assert [(r["route"], r["status"], r["request_id"]) for r in ours] == [("/hello", 200, "up-1")]
    assert ("uvicorn.error", "Waiting for application shutdown.") in by_message
    # After the app's shutdown uvicorn's loggers have their own handlers back.
    assert "Application shutdown complete." in output
    assert "Application startup complete." not in output
