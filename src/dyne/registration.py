"""Registration in PyJolt's idiom, on ``App``: middleware classes, CLI
controllers and the typed configuration's lists (``dyne.settings``).

Each method takes a class or an import string (``"pkg.module:Name"``) and
checks it at once, so a mistake fails at start-up with its name, never on a
request. Nothing here runs per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from .cli_controllers import CLIController
    from .middleware.classes import MiddlewareBase, MiddlewareChain

__all__ = ["AppRegistration", "import_object"]


def import_object(reference: Any, what: str) -> Any:
    """``reference`` itself, or the object an import string names:
    ``"pkg.module:attr"`` (or ``"pkg.module.attr"``). ``ImportError`` naming
    ``what`` (``"CONTROLLERS[0]"``...) and the string when it cannot be found."""
    if not isinstance(reference, str):
        return reference
    import importlib

    text = reference.strip()
    if ":" in text:
        module_name, _, attribute = text.partition(":")
    else:
        module_name, _, attribute = text.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{what}: {reference!r} is not an import string; write "
                          "'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ImportError(f"{what}: cannot import module {module_name!r} "
                          f"(from {reference!r}): {exc}") from exc
    target: Any = module
    try:
        for part in attribute.split("."):
            target = getattr(target, part)
    except AttributeError:
        raise ImportError(f"{what}: module {module_name!r} has no attribute {attribute!r} "
                          f"(from {reference!r})") from None
    return target


class AppRegistration:
    """The registration methods ``App`` gets from this module."""

    _middleware_classes: list[type[MiddlewareBase]]
    _middleware_chain: MiddlewareChain | None
    _stack: Any
    _cli_commands: dict[str, click.Command] | None = None
    #: The validated ``dyne.settings.BaseConfig`` given as ``App(config=...)``
    #: (``None`` without one).
    settings: Any = None

    def add_middleware_class(self, middleware: type[MiddlewareBase] | str) -> None:
        """Register a ``dyne.middleware.MiddlewareBase`` subclass (or its import
        string). Middleware classes run around the app's request handling, the
        first registered outermost (as in a ``MIDDLEWARE`` list), inside the
        error handling; see ``dyne.middleware.classes``."""
        from .middleware.classes import check_middleware_class

        if self._stack is not None:
            raise RuntimeError("Cannot add middleware after the application has started "
                               "serving requests")
        cls = check_middleware_class(import_object(middleware, "add_middleware_class()"))
        if cls in self._middleware_classes:
            raise ValueError(f"{cls.__qualname__} is already registered")
        self._middleware_classes.append(cls)

    @property
    def middleware_classes(self) -> list[type[MiddlewareBase]]:
        """The registered middleware classes, outermost first."""
        return list(self._middleware_classes)

    def _build_middleware_chain(self) -> None:
        if self._middleware_classes:
            from .middleware.classes import MiddlewareChain

            self._middleware_chain = MiddlewareChain(self, self._middleware_classes)  # type: ignore[arg-type]

    def add_cli_controller(self, controller: type[CLIController] | str) -> CLIController:
        """Register a ``dyne.cli.CLIController`` subclass (or its import string):
        its ``@command`` methods become ``dyne <command>`` commands when this
        app is the one ``--app`` names. Returns the controller instance."""
        from .cli_controllers import CLIController, build_commands

        cls = import_object(controller, "add_cli_controller()")
        if not (isinstance(cls, type) and issubclass(cls, CLIController)):
            raise TypeError(f"add_cli_controller() takes a dyne.cli.CLIController subclass, got "
                            f"{cls!r}")
        instance = cls(self)  # type: ignore[arg-type]
        commands = build_commands(self, instance)  # type: ignore[arg-type]
        from .cli import cli

        registered = dict(self._cli_commands or {})
        for new in commands:
            assert new.name is not None
            if new.name in cli.commands:
                raise ValueError(f"{cls.__qualname__}: command {new.name!r} is a built-in dyne "
                                 "command; choose another name")
            if new.name in registered:
                raise ValueError(f"{cls.__qualname__}: command {new.name!r} is already "
                                 "registered by another CLI controller")
            registered[new.name] = new
        self._cli_commands = registered
        return instance

    @property
    def cli_commands(self) -> dict[str, click.Command]:
        """The commands of the registered CLI controllers, by name."""
        return dict(self._cli_commands or {})
