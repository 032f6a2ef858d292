"""CLI controllers, PyJolt's idiom: commands of your own as methods of a class
that sees the application (``self.app``)::

    from dyne.cli import CLIController, argument, command

    class UtilityCLIController(CLIController):
        @command("greet", help="Greet a user with a message.")
        @argument("name", arg_type=str, description="The name of the user to greet.")
        async def greet(self, name: str):
            print(f"Hello, {name}!")

    app.add_cli_controller(UtilityCLIController)   # or CLI_CONTROLLERS = ["pkg.mod:Cls"]

``dyne greet Ada`` then imports the app (``--app`` / ``DYNE_APP``), runs its
start-up handlers (extensions connect), the command, and its shutdown
handlers. Arguments are positional, in the order the decorators are written,
converted to ``int``, ``float`` or ``str``; a value that does not convert is a
usage error (exit status 2), as for every click command. The commands are
built (and checked) when the controller is registered, never per call.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .concurrency import is_async_callable, run_sync

if TYPE_CHECKING:
    from .app import App

__all__ = ["ARGUMENT_TYPES", "CLIController", "argument", "build_commands", "command"]

F = TypeVar("F", bound=Callable[..., Any])
#: The types ``@argument`` converts to (as PyJolt allows).
ARGUMENT_TYPES = (int, float, str)
_COMMAND_ATTR = "__dyne_cli_command__"
_ARGUMENTS_ATTR = "__dyne_cli_arguments__"


@dataclass(frozen=True)
class CommandSpec:
    """What ``@command`` declares."""

    name: str
    help: str | None
    lifespan: bool


@dataclass(frozen=True)
class ArgumentSpec:
    """What one ``@argument`` declares."""

    name: str
    arg_type: type
    description: str | None


class CLIController:
    """Base class of CLI controllers: methods decorated with ``@command`` become
    ``dyne`` commands. One instance per app, made at registration; ``self.app``
    is the application."""

    def __init__(self, app: App) -> None:
        self.app = app


def command(name: str, help: str | None = None, *, lifespan: bool = True) -> Callable[[F], F]:
    """Make the method a ``dyne <name>`` command. ``help`` is shown by ``dyne
    --help`` and ``dyne <name> --help`` (the docstring when not given).
    ``lifespan=False`` skips the app's start-up and shutdown handlers around
    the command (they run by default, so extensions are connected)."""
    if not isinstance(name, str) or not name or name.startswith("-") or any(c.isspace() for c in name):
        raise ValueError(f"@command needs a command name such as 'greet' or 'db-seed', got {name!r}")

    def decorate(method: F) -> F:
        if not callable(method):
            raise TypeError(f"@command({name!r}) decorates a method, got {method!r}")
        setattr(method, _COMMAND_ATTR, CommandSpec(name, help, lifespan))
        return method

    return decorate


def argument(name: str, arg_type: type = str, description: str | None = None) -> Callable[[F], F]:
    """Declare a positional argument of the command, converted to ``arg_type``
    (``int``, ``float`` or ``str``). Arguments come in the order the
    decorators are written; a method parameter with a default makes its
    argument optional."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"@argument needs the name of a method parameter, got {name!r}")
    if arg_type not in ARGUMENT_TYPES:
        raise TypeError(f"@argument({name!r}) arg_type must be int, float or str, got {arg_type!r}")

    def decorate(method: F) -> F:
        declared: list[ArgumentSpec] = list(getattr(method, _ARGUMENTS_ATTR, ()))
        if any(spec.name == name for spec in declared):
            raise ValueError(f"@argument({name!r}) is declared twice on {method.__qualname__}")
        # Decorators apply bottom-up: insert first to keep the written order.
        declared.insert(0, ArgumentSpec(name, arg_type, description))
        setattr(method, _ARGUMENTS_ATTR, declared)
        return method

    return decorate


class _DescribedArgument(click.Argument):
    def __init__(self, *args: Any, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.description = description


class _ControllerCommand(click.Command):
    """A click command that lists its arguments' descriptions in ``--help``."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        rows = [(param.human_readable_name, param.description or "")
                for param in self.params
                if isinstance(param, _DescribedArgument)]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)


def _signature_defaults(method: Callable[..., Any], where: str,
                        arguments: list[ArgumentSpec]) -> dict[str, Any]:
    """Check that the declared arguments match the method's parameters; return
    the defaults of those that have one."""
    parameters = list(inspect.signature(method).parameters.values())
    named = {p.name: p for p in parameters
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in parameters)
    defaults: dict[str, Any] = {}
    for spec in arguments:
        parameter = named.get(spec.name)
        if parameter is None:
            if not accepts_any:
                raise TypeError(f"{where} declares @argument({spec.name!r}) but has no parameter "
                                f"{spec.name!r}")
            continue
        if parameter.default is not parameter.empty:
            defaults[spec.name] = parameter.default
    declared = {spec.name for spec in arguments}
    missing = [p.name for p in named.values() if p.default is p.empty and p.name not in declared]
    if missing:
        raise TypeError(f"{where} needs @argument(...) for its parameter(s) {', '.join(missing)}")
    seen_optional = False
    for spec in arguments:
        if spec.name in defaults:
            seen_optional = True
        elif seen_optional:
            raise TypeError(f"{where}: argument {spec.name!r} is required but follows an optional "
                            "one; put arguments with defaults last")
    return defaults


def _runner(app: App, method: Callable[..., Any], spec: CommandSpec) -> Callable[..., Any]:
    async def call(kwargs: dict[str, Any]) -> Any:
        if is_async_callable(method):
            return await method(**kwargs)
        return await run_sync(method, **kwargs)

    async def main(kwargs: dict[str, Any]) -> Any:
        if not spec.lifespan:
            return await call(kwargs)
        failure: Exception | None = None
        async with app.lifespan_context():
            try:
                result = await call(kwargs)
            except Exception as exc:  # shut down cleanly (close connections), then fail
                failure = exc
        if failure is not None:
            raise failure
        return result

    def callback(**kwargs: Any) -> Any:
        return asyncio.run(main(kwargs))

    return callback


def build_commands(app: App, controller: CLIController) -> list[click.Command]:
    """The click commands of ``controller``'s ``@command`` methods (a
    ``TypeError`` or ``ValueError`` for a declaration that cannot work)."""
    commands: list[click.Command] = []
    cls = type(controller)
    for attribute in dir(cls):
        function = getattr(cls, attribute, None)
        spec = getattr(function, _COMMAND_ATTR, None)
        if not isinstance(spec, CommandSpec):
            continue
        method = getattr(controller, attribute)
        where = f"{cls.__qualname__}.{attribute}"
        arguments: list[ArgumentSpec] = list(getattr(function, _ARGUMENTS_ATTR, ()))
        defaults = _signature_defaults(method, where, arguments)
        params: list[click.Parameter] = []
        for argument_spec in arguments:
            extra: dict[str, Any] = {"required": True}
            if argument_spec.name in defaults:
                extra = {"required": False, "default": defaults[argument_spec.name]}
            params.append(_DescribedArgument(
                [argument_spec.name], type=argument_spec.arg_type,
                description=argument_spec.description, **extra))
        help_text = spec.help if spec.help is not None else inspect.getdoc(function)
        commands.append(_ControllerCommand(
            spec.name, callback=_runner(app, method, spec), params=params, help=help_text,
            short_help=spec.help))
    if not commands:
        raise TypeError(f"{cls.__qualname__} has no @command methods")
    return commands
