"""dyne's debug error page.

In debug mode (``App(debug=True)`` or ``DEBUG=true``) an unhandled exception is
answered with a page naming the exception, the request, the route that
matched (with its path parameters) and the traceback with the source around
each line. The exception is then re-raised so the server logs it as usual.

Everything shown is HTML-escaped: the exception message and the request
(path, query, headers) come from the client. Credentials in headers
(``Authorization``, ``Cookie``, API keys) are hidden. A client that does not
accept HTML gets the same report as plain text. Production never uses this:
outside debug mode an unhandled error is a plain ``500 Internal Server Error``.
"""

from __future__ import annotations

import html
import linecache
import traceback
from types import TracebackType
from typing import Any

from .__version__ import __version__
from .types import Receive, Scope, Send

__all__ = ["DebugErrorMiddleware", "render_debug_page", "render_debug_text"]

HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key",
                            "x-auth-token", "x-csrf-token"})
CONTEXT_LINES = 5
MAX_FRAMES = 60
MAX_VALUE = 2000


def _clip(value: str, limit: int = MAX_VALUE) -> str:
    return value if len(value) <= limit else value[:limit] + f"... ({len(value) - limit} more)"


def _exception_chain(exc: BaseException) -> list[tuple[BaseException, str]]:
    """The exception and what caused it, oldest first, as Python prints them."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen and len(chain) < 10:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current = current.__cause__
            link = "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
            link = "During handling of the above exception, another exception occurred:"
        else:
            current = None
    chain.reverse()
    return chain


def _frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        filename = code.co_filename
        linecache.checkcache(filename)
        first = max(1, lineno - CONTEXT_LINES)
        lines = [(number, linecache.getline(filename, number, frame.f_globals).rstrip("\n"))
                 for number in range(first, lineno + CONTEXT_LINES + 1)]
        while lines and not lines[-1][1] and lines[-1][0] > lineno:
            lines.pop()
        frames.append({"filename": filename, "lineno": lineno, "function": code.co_name,
                       "lines": lines, "library": "site-packages" in filename
                       or "/lib/python" in filename})
    return frames[-MAX_FRAMES:]


def _route_info(scope: Scope) -> dict[str, Any] | None:
    route = scope.get("dyne.route")
    if route is None:
        return None
    endpoint = route.endpoint
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    module = getattr(endpoint, "__module__", None) or type(endpoint).__module__
    methods = getattr(route, "methods", None)
    return {"path": route.path, "name": route.name, "endpoint": f"{module}.{name}",
            "methods": ", ".join(sorted(methods)) if methods else "(by the endpoint)",
            "params": dict(scope.get("path_params") or {})}


def _headers(scope: Scope) -> list[tuple[str, str]]:
    rows = []
    for raw_name, raw_value in scope.get("headers") or []:
        name = raw_name.decode("latin-1").lower()
        value = "(hidden)" if name in HIDDEN_HEADERS else raw_value.decode("latin-1")
        rows.append((name, _clip(value)))
    return rows


def _request_line(scope: Scope) -> tuple[str, str]:
    path = scope.get("root_path", "") + scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    return scope.get("method", "GET"), path + ("?" + query if query else "")


def render_debug_text(exc: BaseException, scope: Scope) -> str:
    """The report as plain text (for clients that do not accept HTML)."""
    method, target = _request_line(scope)
    lines = [f"dyne {__version__} debug: {type(exc).__qualname__}: {_clip(str(exc))}", "",
             f"Request: {method} {_clip(target)}"]
    route = _route_info(scope)
    if route:
        lines.append(f"Route: {route['path']} -> {route['endpoint']} params={route['params']!r}")
    lines += ["", *traceback.format_exception(exc)]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


STYLE = """
:root { color-scheme: light dark; --accent: #6d28d9; --bad: #b91c1c; --muted: #6b7280;
  --bg: #ffffff; --panel: #f6f6f8; --line: #fde68a; --border: #e5e7eb; }
@media (prefers-color-scheme: dark) { :root { --bg: #111114; --panel: #1c1c22;
  --line: #4a3b00; --border: #2e2e36; --muted: #9ca3af; --accent: #a78bfa; --bad: #f87171; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); }
header { padding: 1.2rem 2rem; border-bottom: 4px solid var(--bad); }
header .brand { color: var(--accent); font-weight: 700; letter-spacing: .02em; }
header h1 { margin: .3rem 0; font-size: 1.5rem; overflow-wrap: anywhere; }
header .message { font-size: 1.1rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
main { padding: 1rem 2rem 3rem; max-width: 1200px; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
td, th { text-align: left; vertical-align: top; padding: .25rem .6rem;
  border-bottom: 1px solid var(--border); overflow-wrap: anywhere; }
th { width: 14rem; color: var(--muted); font-weight: 600; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.frame { border: 1px solid var(--border); border-radius: 6px; margin: .6rem 0; overflow: hidden; }
.frame summary { padding: .4rem .8rem; background: var(--panel); cursor: pointer;
  overflow-wrap: anywhere; }
.frame.library summary { color: var(--muted); }
.frame pre { margin: 0; padding: .4rem 0; overflow-x: auto; font-size: .85rem; }
.frame .line { display: block; padding: 0 .8rem; white-space: pre; }
.frame .current { background: var(--line); font-weight: 600; }
.frame .number { display: inline-block; width: 3.5rem; color: var(--muted);
  user-select: none; }
.link { color: var(--muted); margin: 1rem 0 .3rem; font-style: italic; }
.note { color: var(--muted); font-size: .85rem; }
"""


def _table(rows: list[tuple[str, str]], empty: str = "none") -> str:
    if not rows:
        return f'<p class="note">{html.escape(empty)}</p>'
    body = "".join(f"<tr><th>{html.escape(name)}</th><td><code>{html.escape(value)}</code>"
                   f"</td></tr>" for name, value in rows)
    return f"<table>{body}</table>"


def _render_frame(frame: dict[str, Any], open_: bool) -> str:
    lines = "".join(
        f'<span class="line{" current" if number == frame["lineno"] else ""}">'
        f'<span class="number">{number}</span>{html.escape(text)}</span>'
        for number, text in frame["lines"])
    css = "frame library" if frame["library"] else "frame"
    return (f'<details class="{css}"{" open" if open_ else ""}><summary>'
            f'<code>{html.escape(frame["filename"])}</code>, line {frame["lineno"]}, in '
            f'<code>{html.escape(frame["function"])}</code></summary>'
            f'<pre>{lines or html.escape("(source not available)")}</pre></details>')


def render_debug_page(exc: BaseException, scope: Scope) -> str:
    """The debug page for ``exc`` raised while answering the request ``scope``."""
    from urllib.parse import parse_qsl

    method, target = _request_line(scope)
    kind = type(exc).__qualname__
    module = type(exc).__module__
    full_kind = kind if module == "builtins" else f"{module}.{kind}"
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    client = scope.get("client")
    request_rows = [("Method", method), ("Path", _clip(target)),
                    ("Scheme", str(scope.get("scheme", "http"))),
                    ("HTTP version", str(scope.get("http_version", ""))),
                    ("Client", f"{client[0]}:{client[1]}" if client else "unknown")]
    route = _route_info(scope)
    if route is None:
        route_html = '<p class="note">No route matched (the error came before routing or ' \
                     'from a middleware).</p>'
    else:
        route_html = _table([("Path template", route["path"]), ("Name", route["name"]),
                             ("Endpoint", route["endpoint"]), ("Methods", route["methods"])])
        route_html += "<h2>Path parameters</h2>" + _table(
            [(str(key), _clip(repr(value))) for key, value in route["params"].items()],
            "This route has no path parameters.")
    chain_html = []
    for link_exc, link in _exception_chain(exc):
        frames = _frames(link_exc.__traceback__)
        chain_html.append(f"<h2>{html.escape(type(link_exc).__qualname__)}: "
                          f"{html.escape(_clip(str(link_exc), 300))}</h2>")
        last_own = max((i for i, f in enumerate(frames) if not f["library"]), default=-1)
        chain_html.extend(_render_frame(frame, i == len(frames) - 1 or i == last_own)
                          for i, frame in enumerate(frames))
        if link:  # how this exception led to the next one
            chain_html.append(f'<p class="link">{html.escape(link)}</p>')
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(kind)} · dyne debugger</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<div class="brand">dyne {html.escape(__version__)} · debug error page</div>
<h1>{html.escape(full_kind)}</h1>
<p class="message">{html.escape(_clip(str(exc)))}</p>
</header>
<main>
<h2>Request</h2>
{_table(request_rows)}
<h2>Query parameters</h2>
{_table([(key, _clip(value)) for key, value in query], "No query string.")}
<h2>Matched route</h2>
{route_html}
<h2>Headers</h2>
{_table(_headers(scope), "No headers.")}
<h2>Traceback</h2>
{"".join(chain_html)}
<p class="note">You see this page because the app runs in debug mode
(<code>App(debug=True)</code> or <code>DEBUG=true</code>). In production an unhandled
error is answered with a plain <code>500 Internal Server Error</code>.
Never enable debug mode on a public server.</p>
</main>
</body>
</html>
"""


class DebugErrorMiddleware:
    """Outermost layer in debug mode: answer an unhandled exception with the
    debug page (if no response has started), then re-raise it for the server's log."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if not started:
                accept = b""
                for name, value in scope.get("headers") or []:
                    if name.lower() == b"accept":
                        accept = value
                if b"text/html" in accept:
                    body = render_debug_page(exc, scope).encode("utf-8")
                    content_type = b"text/html; charset=utf-8"
                else:
                    body = render_debug_text(exc, scope).encode("utf-8")
                    content_type = b"text/plain; charset=utf-8"
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", content_type),
                                        (b"content-length", str(len(body)).encode()),
                                        (b"cache-control", b"no-store"),
                                        (b"x-content-type-options", b"nosniff")]})
                await send({"type": "http.response.body", "body": body})
            raise
