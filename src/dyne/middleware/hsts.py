"""HTTPS everywhere: redirect plain requests, tell browsers to stay on HTTPS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import Receive, Scope, Send

__all__ = ["HSTSMiddleware"]


class HSTSMiddleware:
    """Redirect ``http://`` and ``ws://`` requests to ``https://`` / ``wss://``
    (307, so the method and body are kept) and add a ``Strict-Transport-Security``
    header to every response served over HTTPS.

    ``max_age`` is how long (seconds) browsers remember to use HTTPS only (one
    year by default); ``include_subdomains`` and ``preload`` add those directives.
    ``App(enable_hsts=True)`` installs it with the defaults.

    Behind a proxy that terminates TLS, run uvicorn with ``--proxy-headers`` (and
    ``--forwarded-allow-ips``) so that ``X-Forwarded-Proto`` reaches the app as
    the request's scheme; otherwise every request looks like plain HTTP.
    """

    def __init__(self, app: Any, max_age: int = 31536000, include_subdomains: bool = False,
                 preload: bool = False) -> None:
        self.app = app
        value = f"max-age={int(max_age)}"
        if include_subdomains:
            value += "; includeSubDomains"
        if preload:
            value += "; preload"
        self.header = (b"strict-transport-security", value.encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope.get("scheme") in ("http", "ws"):
            await self._redirect(scope, receive, send)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        header = self.header

        async def send_with_hsts(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_hsts)

    async def _redirect(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.datastructures import URL
        from starlette.responses import PlainTextResponse, RedirectResponse

        url = URL(scope=scope)
        if not url.netloc:
            await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
            return
        scheme = "https" if url.scheme == "http" else "wss"
        netloc = url.hostname if url.port in (80, 443) else url.netloc
        response = RedirectResponse(url.replace(scheme=scheme, netloc=netloc), status_code=307)
        await response(scope, receive, send)
