"""The extension protocol: one shape for every ``dyne.ext.*`` extension and
for third-party ones.

An extension is built either bound (``ext = X(app)``) or unbound and bound
later (``ext = X()`` then ``ext.init_app(app)``, the application-factory
style). Binding registers it once in ``app.extensions`` under its key, hooks
its lifecycle methods to the app's startup and shutdown, and calls
``setup(app)`` for the rest of the wiring::

    from dyne.extensions import Extension

    class Greeter(Extension):
        name = "greeter"                  # app.extensions["greeter"]
        configs_name = "GREETER"          # a dict config section (PyJolt style)

        def setup(self, app):
            app.add_request_property("greeting", lambda req: self.greeting)

        async def on_startup(self):
            self.greeting = self.config_value("WORD", "hello")

Configuration comes in two styles, both read through the app's ``Config``
(so the environment and env files override them):

* a section: ``configs_name = "EMAIL_CLIENT"`` reads the mapping
  ``app.config["EMAIL_CLIENT"]`` (a dict, or a JSON object from the
  environment), as PyJolt and Patera do;
* prefixed keys: ``variable_prefix = "CACHE_"`` reads ``CACHE_BACKEND``,
  ``CACHE_DEFAULT_DURATION``... A user prefix (``X(variable_prefix="MY_")``)
  is put in front, for several instances of one extension.

``config_value(key)`` looks in the section first, then in the prefixed keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from .app import App

__all__ = ["Extension", "ExtensionError", "get_extension", "register_extension"]

T = TypeVar("T")
_MISSING: Any = object()


class ExtensionError(RuntimeError):
    """An extension was registered twice, or on two apps."""


def register_extension(app: App, extension: object, key: str) -> bool:
    """Put ``extension`` in ``app.extensions[key]``.

    Returns ``False`` when this very extension is already registered there
    (binding twice to the same app is harmless), ``True`` when it was added.
    Raises ``ExtensionError`` when another object holds ``key``.
    """
    existing = app.extensions.get(key)
    if existing is extension:
        return False
    if existing is not None:
        raise ExtensionError(
            f"This app already has a {type(existing).__name__}: app.extensions[{key!r}] is "
            f"already taken by {existing!r}; give this {type(extension).__name__} another name "
            "(or variable_prefix) to use several")
    app.extensions[key] = extension
    return True


def get_extension(app: App, key: str, kind: type[T] | None = None) -> T:
    """``app.extensions[key]``, with a clear error when the extension is missing
    (or is not of ``kind``)."""
    extension = app.extensions.get(key)
    if extension is None:
        raise ExtensionError(f"No extension {key!r} on this app: create it with the app "
                             "(X(app)) or call init_app(app) first")
    if kind is not None and not isinstance(extension, kind):
        raise ExtensionError(f"app.extensions[{key!r}] is {extension!r}, not a {kind.__name__}")
    return extension  # type: ignore[no-any-return]


class Extension:
    """Base class of dyne extensions. Subclasses set ``name`` and override
    ``setup`` and the lifecycle hooks they need; see the module docs."""

    #: The key in ``app.extensions`` (a ``variable_prefix`` is added in front).
    name: ClassVar[str] = ""
    #: The config section this extension reads (``None``: no section).
    configs_name: ClassVar[str | None] = None
    #: The prefix of this extension's flat config keys (``""``: none).
    config_prefix: ClassVar[str] = ""

    app: App | None = None

    def __init__(self, app: App | None = None, *, variable_prefix: str = "",
                 configs_name: str | None = None) -> None:
        self.app = None
        self.variable_prefix = variable_prefix
        if configs_name is not None:
            self.configs_name = configs_name  # type: ignore[misc]
        if app is not None:
            self.init_app(app)

    # -- binding -----------------------------------------------------------------------

    @property
    def extension_key(self) -> str:
        """Where this instance lives in ``app.extensions``."""
        if not self.name:
            raise ExtensionError(f"{type(self).__name__} must set the class attribute 'name'")
        return f"{self.variable_prefix.lower()}{self.name}"

    def init_app(self, app: App) -> None:
        """Bind to ``app`` once: register in ``app.extensions``, hook
        ``on_startup``/``on_shutdown`` to the app's lifecycle, call ``setup``."""
        if self.app is not None and self.app is not app:
            raise ExtensionError(f"This {type(self).__name__} is already bound to another app; "
                                 "create one per app")
        if not self.register(app):
            return
        self.app = app
        cls = type(self)
        if cls.on_startup is not Extension.on_startup:
            app.add_event_handler("startup", self.on_startup)
        if cls.on_shutdown is not Extension.on_shutdown:
            app.add_event_handler("shutdown", self.on_shutdown)
        self.setup(app)

    def register(self, app: App) -> bool:
        """Record this extension in ``app.extensions`` (``register_extension``
        under ``extension_key``). ``False`` when it is already there, which
        makes ``init_app`` a no-op. Override for another registry shape
        (several instances per app, say)."""
        return register_extension(app, self, self.extension_key)

    def setup(self, app: App) -> None:
        """Wire into ``app`` (hooks, routes, request properties). Runs once,
        from ``init_app``, after registration."""

    async def on_startup(self) -> None:
        """Runs when the app starts (connect to servers, start workers)."""

    async def on_shutdown(self) -> None:
        """Runs when the app shuts down (close connections)."""

    def require_app(self) -> App:
        """The bound app, or a clear error when ``init_app`` was never called."""
        if self.app is None:
            raise ExtensionError(f"This {type(self).__name__} is not bound to an app: "
                                 "pass the app to it or call init_app(app)")
        return self.app

    # -- configuration -------------------------------------------------------------------

    def config_section(self) -> dict[str, Any]:
        """The ``configs_name`` mapping from the app's config (``{}`` when unset)."""
        if not self.configs_name:
            return {}
        app = self.require_app()
        value = app.config.get(self.configs_name, default=None, cast=dict)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ExtensionError(f"Config {self.configs_name} must be a mapping, "
                                 f"not {type(value).__name__}")
        return dict(value)

    def config_value(self, key: str, default: Any = None, cast: Any = None) -> Any:
        """``key`` from the config section, else from the prefixed flat keys
        (``{variable_prefix}{config_prefix}{key}``), else ``default``."""
        section = self.config_section()
        if key in section:
            app = self.require_app()
            return app.config.cast(f"{self.configs_name}.{key}", section[key], cast)
        app = self.require_app()
        flat = f"{self.variable_prefix}{self.config_prefix}{key}"
        value = app.config.get(flat, default=_MISSING, cast=cast)
        return default if value is _MISSING else value

    def __repr__(self) -> str:
        bound = "unbound" if self.app is None else "bound"
        return f"<{type(self).__name__} {self.extension_key!r} {bound}>"
