"""Static files: ``static_dir`` served under ``static_route``, and the
single-page-app fallback.

``StaticFiles`` is Starlette's file server (``ETag``/``Last-Modified`` with
304s, ``Range`` requests, content types from file names, no escaping the
directory through ``..``, encoded or not, or symlinks), answering its own
errors as plain-text responses so it can be mounted anywhere, as dyne does
with ``static_dir``::

    app.mount("/assets", StaticFiles(directory="assets"))

Starlette is imported when ``StaticFiles`` is first used, so this module is
part of the light core.

``StaticSite`` is the app's static configuration: the directory and route,
mounting the directory when the app starts serving, and the single-page-app
fallback of ``app.add_route(path, static=True)``: ``index.html`` for every
unrouted GET or HEAD under ``path`` (never under ``static_route``).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.staticfiles import StaticFiles

    from .request import Request
    from .response import Response

__all__ = ["StaticFiles", "StaticSite", "check_static_route"]


def __getattr__(name: str) -> Any:
    if name == "StaticFiles":
        return _static_files_class()
    raise AttributeError(f"module 'dyne.staticfiles' has no attribute {name!r}")


@cache
def _static_files_class() -> type:
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.responses import PlainTextResponse
    from starlette.responses import Response as StarletteResponse
    from starlette.staticfiles import StaticFiles as StarletteStaticFiles

    class StaticFiles(StarletteStaticFiles):
        """Serve the files of ``directory`` (``html=True`` also serves
        ``index.html`` for directories and ``404.html`` for missing files;
        ``cache_control`` is sent with every file)."""

        __module__ = __name__

        def __init__(self, *args: Any, cache_control: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            #: ``Cache-Control`` sent with every file served (``None``: none).
            self.cache_control = cache_control

        async def get_response(self, path: str, scope: Any) -> StarletteResponse:
            try:
                response = await super().get_response(path, scope)
            except StarletteHTTPException as exc:
                return PlainTextResponse(exc.detail, status_code=exc.status_code,
                                         headers=exc.headers)
            if self.cache_control and response.status_code in (200, 206, 304):
                response.headers["cache-control"] = self.cache_control
            return response

    return StaticFiles


def check_static_route(route: str) -> str:
    """A ``static_route`` such as ``/static`` (trailing slash removed)."""
    if not isinstance(route, str) or not route.startswith("/") or not route.rstrip("/"):
        raise ValueError(f"static_route must be a path prefix such as '/static', got {route!r}")
    return route.rstrip("/")


class StaticSite:
    """An app's static files: ``directory`` served at ``route``, and the
    prefixes whose unrouted GETs get ``index.html`` (single-page apps)."""

    def __init__(self, directory: str | os.PathLike[str] | None, route: str,
                 cache_control: str | None = None) -> None:
        from pathlib import Path  # when an app is made, not on import dyne

        self.directory = None if directory is None else Path(directory).absolute()
        self.cache_control = cache_control
        self.route = check_static_route(route)
        #: Single-page-app prefixes, longest first.
        self.spa_prefixes: list[str] = []

    @property
    def index(self) -> Path:
        if self.directory is None:
            raise ValueError("add_route(..., static=True) needs a static_dir")
        return self.directory / "index.html"

    def index_view(self) -> Any:
        """The view ``add_route(path, static=True)`` registers: ``index.html``."""
        index = self.index

        async def static_index(req: Request, resp: Response) -> None:
            resp.file(index)

        return static_index

    def add_spa_prefix(self, path: str) -> None:
        """Answer unrouted GETs under ``path`` with ``index.html``."""
        prefix = path.rstrip("/")
        if prefix not in self.spa_prefixes:
            self.spa_prefixes.append(prefix)
            self.spa_prefixes.sort(key=len, reverse=True)

    def spa_index(self, method: str, path: str) -> Path | None:
        """The ``index.html`` to answer an unrouted ``path`` with, if a
        ``static=True`` route covers it (GET and HEAD only, never under
        the static route)."""
        if not self.spa_prefixes or method not in ("GET", "HEAD") or self.directory is None:
            return None
        route = self.route
        if path == route or path.startswith(route + "/"):
            return None
        for prefix in self.spa_prefixes:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return self.directory / "index.html"
        return None

    def server(self) -> Any:
        """A ``StaticFiles`` for the directory, or ``None`` when it does not exist."""
        if self.directory is None or not self.directory.is_dir():
            return None
        return _static_files_class()(directory=self.directory, cache_control=self.cache_control)
