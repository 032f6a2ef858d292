"""Static files: ``static_dir`` served under ``static_route``.

``StaticFiles`` is Starlette's file server (``ETag``/``Last-Modified`` with
304s, ``Range`` requests, content types from file names, no escaping the
directory through ``..``, encoded or not, or symlinks), answering its own
errors as plain-text responses so it can be mounted anywhere, as dyne does
with ``static_dir``::

    app.mount("/assets", StaticFiles(directory="assets"))
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles as StarletteStaticFiles

__all__ = ["StaticFiles"]


class StaticFiles(StarletteStaticFiles):
    """Serve the files of ``directory`` (``html=True`` also serves
    ``index.html`` for directories and ``404.html`` for missing files)."""

    async def get_response(self, path: str, scope: Any) -> Response:
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
