"""dyne: a batteries-included, async-first Python web framework.

    import dyne

    app = dyne.App()

    @app.route("/")
    async def hello(req, resp):
        resp.media = {"hello": "world"}

Extensions live under ``dyne.ext`` and are imported only when you import them.
"""

from typing import TYPE_CHECKING, Any

from .__version__ import __version__
from .app import App
from .exceptions import HTTPException, abort
from .groups import RouteGroup
from .injection import Body, Cookie, Depends, File, Form, Header, Path, Query
from .request import Request
from .response import Response

if TYPE_CHECKING:
    from starlette.websockets import WebSocketDisconnect

    from .controllers import Controller, ExceptionHandler, HttpStatus, MediaType, cors, no_cors
    from .ext.io.files import File as UploadFile

__all__ = ["App", "Body", "Controller", "Cookie", "Depends", "ExceptionHandler", "File", "Form",
           "HTTPException", "Header", "HttpStatus", "MediaType", "Path", "Query", "Request",
           "Response", "RouteGroup", "UploadFile", "WebSocketDisconnect", "__version__", "abort",
           "cors", "no_cors"]

#: Names of ``dyne.controllers`` also offered here (imported on first use).
_CONTROLLER_NAMES = frozenset({"Controller", "ExceptionHandler", "HttpStatus", "MediaType",
                               "cors", "no_cors"})


def __getattr__(name: str) -> Any:
    # Imported only when asked for, so that ``import dyne`` stays light.
    if name == "WebSocketDisconnect":
        from starlette.websockets import WebSocketDisconnect

        return WebSocketDisconnect
    if name in _CONTROLLER_NAMES:
        from . import controllers

        return getattr(controllers, name)
    if name == "UploadFile":
        from .ext.io.files import File as UploadFile

        return UploadFile
    raise AttributeError(f"module 'dyne' has no attribute {name!r}")
