"""HTTP errors and ``abort``.

Raise ``HTTPException`` (or call ``abort``) anywhere inside a request to stop
it with a status code. The application turns it into a response, through a
handler registered with ``@app.error_handler(status_code)`` when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from starlette.websockets import WebSocketDisconnect

__all__ = [
    "ClientDisconnect",
    "HTTPException",
    "NoRouteFound",
    "WebSocketDisconnect",
    "abort",
    "status_phrase",
]


def status_phrase(status_code: int) -> str:
    """The standard reason phrase for a status code (``404 -> "Not Found"``)."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


class HTTPException(Exception):
    """An error that carries an HTTP status code.

    ``detail`` is the message shown to the client (the status' reason phrase
    when omitted); ``headers`` are added to the error response (``Allow`` on a
    405, ``WWW-Authenticate`` on a 401, ``Retry-After`` on a 429...).
    """

    def __init__(self, status_code: int, detail: Any = None,
                 headers: Mapping[str, str] | None = None) -> None:
        if not isinstance(status_code, int) or not 100 <= status_code <= 599:
            raise ValueError(f"HTTPException needs an HTTP status code (100-599), got {status_code!r}")
        self.status_code = status_code
        self.detail = status_phrase(status_code) if detail is None else detail
        self.headers = dict(headers) if headers else {}
        super().__init__(status_code, self.detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


def abort(status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> NoReturn:
    """Stop the current request with ``status_code``.

    >>> abort(403, detail="You do not have access to this resource.")
    """
    raise HTTPException(status_code, detail=detail, headers=headers)


class NoRouteFound(LookupError):
    """``url_for`` was given an endpoint or name that no route has, or parameters
    that do not fit the route's path."""


class ClientDisconnect(Exception):
    """The client went away while its request body was being read."""



def __getattr__(name: str) -> Any:
    # ``WebSocketDisconnect`` is Starlette's, imported only when asked for.
    if name == "WebSocketDisconnect":
        from starlette.websockets import WebSocketDisconnect

        return WebSocketDisconnect
    raise AttributeError(f"module 'dyne.exceptions' has no attribute {name!r}")
