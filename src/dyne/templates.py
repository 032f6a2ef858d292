"""Jinja2 templates.

``app.template(name, **context)`` renders ``templates/<name>`` (the app's
``templates_dir``); ``app.template_string(source, **context)`` renders a
string; ``await app.template_async(...)`` / ``await app.template_string_async(...)``
render in Jinja2's async mode, where templates may call coroutines and iterate
async generators. ``Templates`` works on its own too::

    from dyne.templates import Templates

    templates = Templates(directory="templates")
    html = templates.render("hello.html", name="Ada")

HTML is escaped by default: in files ending ``.html``, ``.htm``, ``.xml``,
``.xhtml``, ``.svg`` (also ``.html.j2``/``.html.jinja``/``.html.jinja2``) and
in template strings. Jinja2 is imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

__all__ = ["Templates"]

AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "xhtml", "svg", "html.j2", "html.jinja",
                         "html.jinja2")


class Templates:
    """A Jinja2 template environment.

    :param directory: where template files are looked up (a path, or a list of
        paths searched in order).
    :param autoescape: escape HTML in ``.html``-like files and template strings.
    :param context: variables available in every template (``templates.context``).
    :param enable_async: make ``render`` and ``render_string`` return awaitables
        (like ``render_async``), for code written against an async-mode
        environment: ``html = await templates.render("page.html")``.
    :param filters: extra Jinja2 filters, ``{name: function}``.
    """

    def __init__(self, directory: str | os.PathLike[str] | list[str | os.PathLike[str]] = "templates",
                 autoescape: bool = True, context: Mapping[str, Any] | None = None,
                 enable_async: bool = False,
                 filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        if isinstance(directory, (str, os.PathLike)):
            self.directories = [os.fspath(directory)]
        else:
            self.directories = [os.fspath(d) for d in directory]
        self.autoescape = autoescape
        self.enable_async = enable_async
        self._initial_context = dict(context or {})
        self._initial_filters = dict(filters or {})
        self._shared: tuple[dict[str, Any], dict[str, Any]] | None = None
        self._env: jinja2.Environment | None = None
        self._async_env: jinja2.Environment | None = None

    # -- environments ------------------------------------------------------------

    def _make_env(self, is_async: bool) -> jinja2.Environment:
        try:
            import jinja2
        except ModuleNotFoundError:  # pragma: no cover - Jinja2 is a dependency
            raise ImportError('Templates need Jinja2: pip install "Jinja2"') from None
        autoescape: Any = False
        if self.autoescape:
            autoescape = jinja2.select_autoescape(enabled_extensions=AUTOESCAPE_EXTENSIONS,
                                                  disabled_extensions=(),
                                                  default_for_string=True, default=False)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(self.directories),
                                 autoescape=autoescape, enable_async=is_async)
        # The sync and async environments share one dict of globals and one of
        # filters, so what is added through either is seen by both.
        if self._shared is None:
            env.globals.update(self._initial_context)
            env.filters.update(self._initial_filters)
            self._shared = (env.globals, env.filters)
        else:
            env.globals, env.filters = self._shared  # type: ignore[assignment]
        return env

    @property
    def env(self) -> jinja2.Environment:
        """The (synchronous) ``jinja2.Environment``: add filters, tests, globals."""
        if self._env is None:
            self._env = self._make_env(False)
        return self._env

    @property
    def async_env(self) -> jinja2.Environment:
        """The async-mode ``jinja2.Environment`` used by the ``*_async`` methods."""
        if self._async_env is None:
            self._async_env = self._make_env(True)
        return self._async_env

    @property
    def context(self) -> dict[str, Any]:
        """Variables every template sees (the Jinja2 globals, which also hold
        Jinja2's own helpers such as ``range``): ``templates.context["site"] = "..."``."""
        return self.env.globals  # type: ignore[return-value]

    @property
    def filters(self) -> dict[str, Any]:
        """Jinja2 filters: ``templates.filters["shout"] = str.upper``."""
        return self.env.filters

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    # -- rendering ------------------------------------------------------------------

    def render(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Render the template file ``name`` with a context (a dict and/or keywords).
        Returns ``str`` (an awaitable of it with ``enable_async=True``)."""
        if self.enable_async:
            return self.render_async(name, *args, **kwargs)
        return self.env.get_template(name).render(*args, **kwargs)

    async def render_async(self, name: str, /, *args: Any, **kwargs: Any) -> str:
        """Render ``name`` in Jinja2's async mode."""
        return await self.async_env.get_template(name).render_async(*args, **kwargs)

    def render_string(self, source: str, /, *args: Any, **kwargs: Any) -> Any:
        """Render a template given as a string (escaped as HTML by default)."""
        if self.enable_async:
            return self.render_string_async(source, *args, **kwargs)
        return self.env.from_string(source).render(*args, **kwargs)

    async def render_string_async(self, source: str, /, *args: Any, **kwargs: Any) -> str:
        """Render a template string in Jinja2's async mode."""
        return await self.async_env.from_string(source).render_async(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Templates directories={self.directories!r}>"
