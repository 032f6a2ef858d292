"""Security headers on every response.

``App(security_headers=...)`` sends ``SECURITY_HEADERS`` (below) with every
HTTP response: views, error pages, redirects, static files and mounted apps.
A header the response already has (a view set its own
``X-Frame-Options``) is left alone.

``True`` (the default) sends the defaults; ``False`` none; a dict is merged
into the defaults, a ``None`` value removing one::

    app = dyne.App(security_headers={
        "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        "X-Frame-Options": None,   # frame-ancestors replaces it
    })

The header list is encoded once. Responses dyne renders itself get it
appended directly; ``SecurityHeadersMiddleware`` adds it to everything else
(mounted apps, static files, and responses from other middleware such as the
debug error page or the trusted-host 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "SecurityHeadersMiddleware", "security_header_list",
           "sending_headers"]

#: The defaults: no MIME sniffing, no full URLs in ``Referer`` to other
#: origins, no framing by other sites. A ``Content-Security-Policy`` is not
#: set by default (it depends on what the pages load); add one.
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
}

RawHeaders = list[tuple[bytes, bytes]]


def security_header_list(option: bool | Mapping[str, str | None] | None) -> RawHeaders:
    """The encoded headers for an ``App(security_headers=...)`` value."""
    if option is None or option is True:
        chosen: dict[str, str | None] = dict(SECURITY_HEADERS)
    elif option is False:
        return []
    elif isinstance(option, Mapping):
        chosen = dict(SECURITY_HEADERS)
        for name, value in option.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"security_headers keys must be header names, got {name!r}")
            # Replace whatever spelling the defaults used.
            for existing in [key for key in chosen if key.lower() == name.lower()]:
                del chosen[existing]
            chosen[name] = value
    else:
        raise TypeError("security_headers must be True, False or a dict of header -> value "
                        f"(None removes a default), got {option!r}")
    headers: RawHeaders = []
    for name, value in chosen.items():
        if value is None:
            continue
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            raise ValueError(f"Bad value for security header {name!r}: {value!r}")
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return headers


def add_missing(headers: RawHeaders, extra: RawHeaders) -> None:
    """Append the ``extra`` headers whose names ``headers`` does not have."""
    present = {name.lower() for name, _ in headers}
    headers.extend(item for item in extra if item[0] not in present)


def sending_headers(send: Send, extra: RawHeaders) -> Send:
    """``send`` adding the ``extra`` headers a response start lacks."""

    async def send_with_headers(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            add_missing(headers, extra)
            message["headers"] = headers
        await send(message)

    return send_with_headers


class SecurityHeadersMiddleware:
    """ASGI middleware adding ``headers`` (from ``security_header_list``) to
    every HTTP response that does not already set them."""

    def __init__(self, app: Any, headers: RawHeaders | None = None) -> None:
        self.app = app
        self.headers = security_header_list(True) if headers is None else list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.headers:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, sending_headers(send, self.headers))
