"""The ``dyne`` command line.

Global options come before the command::

    dyne --app myproject.main:app --debug run

Other packages add commands by importing ``cli`` and decorating functions with
``@cli.command()``; modules listed under the ``dyne.cli`` entry-point group are
imported when the command line starts, so their commands appear by themselves.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from .__version__ import __version__

__all__ = ["CLIContext", "CLIController", "DyneGroup", "argument", "cli", "command", "load_app",
           "load_plugins", "main", "route_table"]

DEFAULT_APP = "app:app"
#: Shared with ``App.run()``: one default interface for every way to start a server.
DEFAULT_HOST = "127.0.0.1"
#: ``dyne run``'s port, as Dyne's documentation gives it (``--port``: "Default: 8000").
DEFAULT_PORT = 8000
#: ``app.run()``'s port, as Dyne's documentation uses it (``http://localhost:5042``).
APP_RUN_PORT = 5042
APP_FORMS = ("--app takes a module (myapp), module:variable (myapp.main:api) "
             "or a file (path/to/app.py, path/to/app.py:api)")


@dataclass
class CLIContext:
    """The global options, handed to every command as ``ctx.obj``."""

    app_path: str
    debug: bool
    host: str
    port: int
    reload: bool
    #: ``--reload``/``--no-reload`` was given (else ``--debug`` turns reload on).
    reload_given: bool = False

    def load_app(self) -> Any:
        """Import and return the application object named by ``--app``."""
        return load_app(self.app_path)


def _split_file_path(path: str) -> tuple[str, str] | None:
    """``dir/app.py[:attr]`` -> ``("/abs/dir", "app:attr")``; None when ``path``
    is not a file path (a module, or ``module:attr``)."""
    location, attribute = path, ""
    if ":" in path:
        head, _, tail = path.rpartition(":")
        if tail and not tail.endswith(".py") and "/" not in tail and os.sep not in tail:
            location, attribute = head, tail
    if not (location.endswith(".py") or "/" in location or os.sep in location):
        return None
    from pathlib import Path

    file = Path(location)
    if file.is_dir():
        file = file / "app.py"
    if not file.is_file():
        raise click.ClickException(f"No such file: {location!r}. {APP_FORMS}.")
    if file.suffix != ".py":
        raise click.ClickException(f"{location!r} is not a Python file. {APP_FORMS}.")
    return str(file.resolve().parent), f"{file.stem}:{attribute or 'app'}"


def normalize_app_path(path: str) -> str:
    """``myapp`` -> ``myapp:app``; ``src/myapp.py:api`` -> ``myapp:api``, with
    ``src`` put first on ``sys.path`` (for this process and the server's)."""
    path = path.strip()
    if not path:
        raise click.BadParameter(f"empty. {APP_FORMS}.", param_hint="--app")
    split = _split_file_path(path)
    if split is not None:
        directory, path = split
        if directory not in sys.path:
            sys.path.insert(0, directory)
        return path
    return path if ":" in path else f"{path}:app"


def _app_candidates(module: Any) -> list[str]:
    from .app import App

    return sorted(name for name, value in vars(module).items()
                  if isinstance(value, App) and not name.startswith("_"))


def import_app_target(path: str) -> Any:
    """Import ``module:attribute`` (or a file, see ``normalize_app_path``) with
    the working directory on ``sys.path``; the attribute as found (an app, or
    an application factory)."""
    path = normalize_app_path(path)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise click.ClickException(
                f"Could not import {module_name!r} (from --app {path!r}; working directory "
                f"{cwd}). Run dyne from your project's directory, or set --app or DYNE_APP: "
                f"{APP_FORMS}.") from None
        raise
    try:
        target: Any = module
        for part in attribute.split("."):
            target = getattr(target, part)
    except AttributeError:
        candidates = _app_candidates(module) or [
            name for name in ("create_app", "make_app") if is_app_factory(getattr(module, name, None))]
        hint = (f" It defines {', '.join(candidates)}: use --app {module_name}:{candidates[0]}."
                if candidates else " Create one there (app = dyne.App()) or name it with "
                                   "--app module:variable.")
        raise click.ClickException(f"Module {module_name!r} has no attribute {attribute!r} "
                                   f"(from --app {path!r}).{hint}") from None
    return target


def is_app_factory(target: Any) -> bool:
    """Whether ``target`` is an application factory: a plain function (not an
    ASGI callable) that takes no required arguments (``def create_app():``)."""
    import inspect

    if not inspect.isfunction(target) or inspect.iscoroutinefunction(target):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in inspect.signature(target).parameters.values())


#: Apps made by factories, by ``--app`` path: one per process.
_factory_apps: dict[str, Any] = {}


def load_app(path: str) -> Any:
    """The application ``path`` names (see ``import_app_target``); an
    application factory is called, once per process."""
    target = import_app_target(path)
    if not is_app_factory(target):
        return target
    key = normalize_app_path(path)
    if key not in _factory_apps:
        _factory_apps[key] = target()
    return _factory_apps[key]


class DyneGroup(click.Group):
    """The ``dyne`` command group. A command it does not know may be defined by
    the application: a CLI controller it registered (``app.add_cli_controller``,
    ``CLI_CONTROLLERS``) or ``@cli.command()`` in a module the app imports. The
    application is then imported, once, and the command looked up again.
    ``--help`` lists those commands too when the app imports."""

    def _load_app_commands(self, ctx: click.Context) -> None:
        if ctx.meta.get("dyne.app_loaded"):
            return
        ctx.meta["dyne.app_loaded"] = True
        path = (ctx.params.get("app_path") if ctx.params else None) or \
            os.environ.get("DYNE_APP") or DEFAULT_APP
        try:
            ctx.meta["dyne.app"] = load_app(path)
        except click.ClickException:  # no importable app here: just no extra commands
            pass
        except Exception as exc:  # the app exists but failed: say so if a command is missing
            ctx.meta["dyne.app_error"] = exc

    def _app_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        commands = getattr(ctx.meta.get("dyne.app"), "cli_commands", None)
        return commands.get(cmd_name) if isinstance(commands, dict) else None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_app_commands(ctx)
            command = super().get_command(ctx, cmd_name) or self._app_command(ctx, cmd_name)
            error = ctx.meta.get("dyne.app_error")
            if command is None and error is not None:
                raise click.UsageError(f"No such command {cmd_name!r}: the application failed "
                                       f"to load ({type(error).__name__}: {error})", ctx)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_app_commands(ctx)
        names = set(super().list_commands(ctx))
        names.update(getattr(ctx.meta.get("dyne.app"), "cli_commands", None) or ())
        return sorted(names)


@click.group(cls=DyneGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--app", "-a", "app_path", envvar="DYNE_APP", default=DEFAULT_APP,
              show_default=True, help=f"The application (env: DYNE_APP). {APP_FORMS}; "
                                      "':app' is appended when missing.")
@click.option("--debug", is_flag=True, help="Debug logging, auto-reload (unless --no-reload), "
                                            "and DEBUG=true in the environment.")
@click.option("--host", default=None, help=f"Interface to bind [default: {DEFAULT_HOST}; "
                                           "0.0.0.0 when the PORT variable is set].")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help=f"Port to bind [default: {DEFAULT_PORT}, or the PORT environment variable].")
@click.option("--reload/--no-reload", default=None, help="Restart on code changes "
                                                          "[default: on with --debug].")
@click.version_option(__version__, "--version", prog_name="dyne",
                      message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, app_path: str, debug: bool, host: str | None, port: int | None,
        reload: bool | None) -> None:
    """dyne: run and manage dyne applications."""
    env_port = os.environ.get("PORT")
    if port is None and env_port:
        try:
            port = int(env_port)
        except ValueError:
            raise click.BadParameter(f"PORT must be a number, got {env_port!r}") from None
        host = host or "0.0.0.0"
    if debug:
        os.environ["DEBUG"] = "true"
    ctx.obj = CLIContext(
        app_path=normalize_app_path(app_path),
        debug=debug,
        host=host or DEFAULT_HOST,
        port=DEFAULT_PORT if port is None else port,
        reload=debug if reload is None else reload,
        reload_given=reload is not None,
    )


def _set_app(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        ctx.ensure_object(CLIContext).app_path = normalize_app_path(value)


def _set_debug(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value:
        obj = ctx.ensure_object(CLIContext)
        obj.debug = True
        os.environ["DEBUG"] = "true"
        if not obj.reload_given:
            obj.reload = True


def _set_reload(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        obj = ctx.ensure_object(CLIContext)
        obj.reload, obj.reload_given = value, True


def _set_host(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        ctx.ensure_object(CLIContext).host = value


def _set_port(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        ctx.ensure_object(CLIContext).port = value


def server_options(command: Any) -> Any:
    """The global options again, after the command: ``dyne run --port 5099``
    works like ``dyne --port 5099 run`` (the later one wins)."""
    options = [
        click.option("--app", "-a", expose_value=False, callback=_set_app,
                     help=f"The application [default: {DEFAULT_APP}, or DYNE_APP]. {APP_FORMS}."),
        click.option("--host", expose_value=False, callback=_set_host,
                     help=f"Interface to bind [default: {DEFAULT_HOST}; 0.0.0.0 when the PORT "
                          "variable is set]."),
        click.option("--port", "-p", type=click.IntRange(0, 65535), expose_value=False,
                     callback=_set_port,
                     help=f"Port to bind [default: {DEFAULT_PORT}, or the PORT variable]."),
        click.option("--debug", is_flag=True, default=None, expose_value=False,
                     callback=_set_debug,
                     help="Debug mode: the debug error page, debug logging, auto-reload."),
        click.option("--reload/--no-reload", default=None, expose_value=False,
                     callback=_set_reload,
                     help="Restart on code changes [default: on with --debug]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@server_options
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, envvar="WEB_CONCURRENCY",
              help="Worker processes [default: 1, or WEB_CONCURRENCY]. State that must be "
                   "shared between them (sessions, rate limits, caches, channels) needs a "
                   "shared store: see the scaling-out docs.")
@click.option("--graceful-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds shutdown waits for running requests before cancelling them "
                   "[default: 30].")
@click.option("--keep-alive-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds an idle kept-alive connection stays open [default: 5].")
@click.option("--header-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds a client has to send its request headers (408 after) [default: 10].")
@click.option("--max-header-size", type=click.IntRange(min=1), default=None,
              help="Largest request line and headers in bytes (431 beyond) [default: 65536].")
@click.option("--limit-concurrency", type=click.IntRange(min=1), default=None,
              help="Most connections and requests at once (503 beyond) [default: 1000].")
@click.option("--proxy-headers/--no-proxy-headers", default=True,
              help="Take the client's address and scheme from X-Forwarded-For and "
                   "X-Forwarded-Proto, when the connection comes from a trusted proxy "
                   "[default: on].")
@click.option("--forwarded-allow-ips", default=None, envvar="FORWARDED_ALLOW_IPS",
              help="Comma-separated addresses or networks of the trusted proxies, or '*' "
                   "[default: 127.0.0.1, or FORWARDED_ALLOW_IPS].")
@click.option("--server", type=click.Choice(["uvicorn", "granian"]), default="uvicorn",
              envvar="DYNE_SERVER", show_default=True,
              help="The ASGI server: uvicorn, or granian (pip install \"dyne[granian]\"; "
                   "see the deployment docs for how the limits map).")
@click.pass_obj
def run(obj: CLIContext, workers: int | None, graceful_timeout: float | None,
        keep_alive_timeout: float | None, header_timeout: float | None,
        max_header_size: int | None, limit_concurrency: int | None,
        proxy_headers: bool = True, forwarded_allow_ips: str | None = None,
        server: str = "uvicorn") -> None:
    """Serve the application with uvicorn, with dyne's server limits
    (docs/security.md).

    Options may come before or after "run": "dyne run --port 5099" is
    "dyne --port 5099 run"; "dyne run --app src/app.py --debug" serves the
    app variable of src/app.py in debug mode."""
    import uvicorn

    from .server import server_limits, uvicorn_options

    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if workers is not None and workers > 1 and obj.reload:
        raise click.UsageError("--workers cannot be combined with auto-reload "
                               "(--debug or --reload); add --no-reload")
    # Fail early, with a clear message, if it does not import. A factory is
    # left for uvicorn to call: extensions made at module level bind to one app.
    factory = is_app_factory(import_app_target(obj.app_path))
    limits, _ = server_limits(workers=workers, graceful_timeout=graceful_timeout,
                              keep_alive_timeout=keep_alive_timeout,
                              header_timeout=header_timeout, max_header_size=max_header_size,
                              limit_concurrency=limit_concurrency)
    if server == "granian":
        _run_granian(obj, limits, factory, proxy_headers, forwarded_allow_ips or "127.0.0.1")
        return
    uvicorn.run(obj.app_path, factory=factory, host=obj.host, port=obj.port, reload=obj.reload,
                log_level="debug" if obj.debug else "info",
                reload_dirs=[cwd] if obj.reload else None, proxy_headers=proxy_headers,
                forwarded_allow_ips=forwarded_allow_ips or "127.0.0.1",
                **uvicorn_options(limits))


def _run_granian(obj: CLIContext, limits: Any, factory: bool, proxy_headers: bool,
                 forwarded_allow_ips: str) -> None:
    """Replace this process by granian serving the app (signals then reach
    granian directly: SIGTERM shuts it down gracefully)."""
    import importlib.util

    from .server import granian_command

    if importlib.util.find_spec("granian") is None:
        raise click.ClickException('--server granian needs granian: pip install "dyne[granian]"')
    argv, env = granian_command(
        normalize_app_path(obj.app_path), host=obj.host, port=obj.port, limits=limits,
        factory=factory, reload=obj.reload, log_level="debug" if obj.debug else "info",
        proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips)
    cwd = os.getcwd()
    paths = [cwd, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(paths)}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, environment)


@cli.command()
@click.pass_obj
def routes(obj: CLIContext) -> None:
    """List the application's routes: methods, path and endpoint."""
    app = obj.load_app()
    rows = route_table(app)
    if not rows:
        click.echo("No routes.")
        return
    widths = [max(len(row[column]) for row in [("METHODS", "PATH", "ENDPOINT"), *rows])
              for column in range(2)]
    for methods, path, endpoint in [("METHODS", "PATH", "ENDPOINT"), *rows]:
        click.echo(f"{methods:<{widths[0]}}  {path:<{widths[1]}}  {endpoint}".rstrip())


def _endpoint_label(endpoint: Any) -> str:
    module = getattr(endpoint, "__module__", None) or type(endpoint).__module__
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    return f"{module}.{name}"


def route_table(app: Any) -> list[tuple[str, str, str]]:
    """``(methods, path, endpoint)`` rows for ``dyne routes``, sorted by path:
    HTTP routes, websockets (``WS``), mounted apps (``MOUNT``) and static files."""
    from .app import App

    if not isinstance(app, App):
        raise click.ClickException(f"{app!r} is not a dyne.App")
    rows: list[tuple[str, str, str]] = []
    for route in app.routes:
        if route.websocket:
            methods = "WS"
        else:
            declared = getattr(route, "methods", None)
            if declared is None and (route.is_class or route.is_view_object):
                declared = route.declared_methods() - {"HEAD"}  # type: ignore[attr-defined]
            methods = ",".join(sorted(declared)) if declared else "ANY"
        rows.append((methods, route.path, _endpoint_label(route.endpoint)))
    for mount in app.mounts:
        kind = "WSGI" if mount.wsgi else "ASGI"
        rows.append(("MOUNT", f"{mount.prefix}/*", f"{kind} {_endpoint_label(mount.app)}"))
    static_dir = app.static_dir
    if (static_dir is not None and static_dir.is_dir()
            and not any(m.prefix == app.static_route for m in app.mounts)):
        rows.append(("GET", f"{app.static_route}/*", f"static files from {static_dir}"))
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


@cli.command("new-project")
@click.argument("name")
@click.option("--template", "-t", default="minimal", show_default=True,
              type=click.Choice(["minimal", "api", "controllers"]),
              help="minimal: a page, a JSON route and a health check; api: a JSON API with "
                   "validation and OpenAPI docs; controllers: PyJolt's layout (an app package "
                   "with a typed config, a controller, a model, a CLI command).")
def new_project(name: str, template: str) -> None:
    """Create a project in a new directory NAME: the app, a pyproject.toml, a
    README, a .env with a random SECRET_KEY, and tests that pass."""
    from pathlib import Path

    from .project import NAME_PATTERN, TEMPLATES, UNAVAILABLE_TEMPLATES, create_project

    if template in UNAVAILABLE_TEMPLATES:
        raise click.BadParameter(f"{template!r} is not available yet: "
                                 f"{UNAVAILABLE_TEMPLATES[template]}", param_hint="--template")
    if not NAME_PATTERN.fullmatch(name):
        raise click.BadParameter("start with a letter, then letters, digits, '-', '_' and '.' "
                                 "(it becomes a directory and the project's name)",
                                 param_hint="NAME")
    root = Path(name)
    if root.exists():
        raise click.ClickException(f"{root} already exists: choose another name, or remove it")
    create_project(root, template)
    click.echo(f"Created {name}/ ({template} template). Next:\n  cd {name}\n"
               f"  pip install -e \".[test]\"\n  pytest\n"
               f"  dyne {TEMPLATES[template].get('app_option', '')}run --debug")


def load_plugins() -> None:
    """Import the modules registered under the ``dyne.cli`` entry-point group."""
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="dyne.cli"):
        try:
            entry_point.load()
        except Exception as exc:  # a broken plugin must not break the whole CLI
            click.echo(f"dyne: could not load CLI plugin {entry_point.name!r}: {exc}", err=True)


def main() -> None:
    """Console-script entry point."""
    load_plugins()
    cli()


# CLI controllers (PyJolt's idiom): ``from dyne.cli import CLIController, command, argument``.
from .cli_controllers import CLIController, argument, command  # noqa: E402

# -- the OpenAPI document and generated clients ------------------------------------------

def openapi_document(app: Any, app_path: str) -> dict[str, Any]:
    """The OpenAPI document of ``app``, from its ``dyne.ext.openapi.OpenAPI``
    extension; a clear error when it has none."""
    from .app import App

    if not isinstance(app, App):
        raise click.ClickException(f"{app_path} is {app!r}, not a dyne.App")
    from .ext.openapi import OpenAPI

    extension = app.extensions.get("openapi")
    if not isinstance(extension, OpenAPI):
        raise click.ClickException(
            f"The app {app_path} has no OpenAPI documentation: add `api = OpenAPI(app)` "
            "(from dyne.ext.openapi import OpenAPI; see docs/openapi.md)")
    try:
        return extension.to_dict()
    except (ValueError, TypeError, ImportError) as exc:
        raise click.ClickException(f"Could not build the OpenAPI document of {app_path}: {exc}") from None


def _write(text: str, output: str | None, what: str) -> None:
    if output is None or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    from pathlib import Path

    target = Path(output)
    if not target.parent.is_dir():
        raise click.ClickException(f"Cannot write {output}: no directory {target.parent}")
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {what} to {output}", err=True)


@cli.group()
def openapi() -> None:
    """The application's OpenAPI document (dyne.ext.openapi)."""


@openapi.command("export")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="Where to write it [default: standard output].")
@click.option("--format", "-f", "format_", type=click.Choice(["json", "yaml"]), default=None,
              help="[default: yaml for a .yaml/.yml FILE, else json]")
@click.pass_obj
def openapi_export(obj: CLIContext, output: str | None, format_: str | None) -> None:
    """Write the application's OpenAPI document, as /schema.json or
    /schema.yml serve it: "dyne --app myapp openapi export -o openapi.json"."""
    document = openapi_document(obj.load_app(), obj.app_path)
    if format_ is None:
        format_ = "yaml" if output and output.lower().endswith((".yaml", ".yml")) else "json"
    if format_ == "yaml":
        from .ext.openapi.extension import _yaml

        text = _yaml(document).decode("utf-8")
    else:
        import json

        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    _write(text, output, "the OpenAPI document")


@cli.command("client")
@click.option("--lang", "-l", type=click.Choice(["python", "typescript"]), required=True,
              help="The client's language.")
@click.option("--output", "-o", default=None, metavar="PATH",
              help="The file to write [default: standard output]; in a directory, "
                   "client.py or client.ts.")
@click.option("--schema", "-s", "schema_file", default=None, metavar="FILE",
              help="Generate from this OpenAPI document (JSON or YAML) instead of the app's.")
@click.pass_obj
def client(obj: CLIContext, lang: str, output: str | None, schema_file: str | None) -> None:
    """Generate a typed client for the application's API, from its OpenAPI
    document: Python (httpx) or TypeScript (fetch), with no dyne dependency."""
    from pathlib import Path

    from .clientgen import LANGUAGES, generate

    if schema_file is not None:
        import yaml

        try:
            document = yaml.safe_load(Path(schema_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise click.ClickException(f"Cannot read {schema_file}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise click.ClickException(f"{schema_file} is neither JSON nor YAML: {exc}") from None
    else:
        document = openapi_document(obj.load_app(), obj.app_path)
    try:
        source = generate(document, lang)
    except ValueError as exc:
        raise click.ClickException(f"{schema_file or obj.app_path}: {exc}") from None
    if output is not None and Path(output).is_dir():
        output = str(Path(output) / f"client{LANGUAGES[lang]}")
    _write(source, output, f"the {lang} client")
