"""htmx helpers: ``req.htmx`` reads the ``HX-*`` request headers,
``resp.htmx`` sets the ``HX-*`` response headers.

::

    @app.route("/contacts")
    async def contacts(req, resp):
        if req.htmx:                      # a request htmx made
            resp.html = render_rows()     # a fragment for req.htmx.target
        else:
            resp.html = render_page()     # the whole page
        resp.headers["Vary"] = "HX-Request"

    resp.htmx.trigger("saved", {"id": 3})  # HX-Trigger: {"saved": {"id": 3}}
    resp.htmx.redirect("/login")           # HX-Redirect: /login

Header values htmx marks as URI-encoded (``HX-Current-URL-URI-AutoEncoded:
true``, sent for values that are not ASCII) are decoded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

__all__ = ["HtmxDetails", "HtmxResponse"]

#: ``hx-swap`` styles accepted by ``resp.htmx.reswap``.
SWAP_STYLES = frozenset({"innerHTML", "outerHTML", "textContent", "beforebegin", "afterbegin",
                         "beforeend", "afterend", "delete", "none"})
_TRIGGER_HEADERS = {"receive": "HX-Trigger", "settle": "HX-Trigger-After-Settle",
                    "swap": "HX-Trigger-After-Swap"}


class HtmxDetails:
    """``req.htmx``: true when htmx sent the request (``HX-Request: true``)."""

    __slots__ = ("_req",)

    def __init__(self, req: Request) -> None:
        self._req = req

    def _header(self, name: str) -> str | None:
        headers = self._req.headers
        value = headers.get(name)
        if value is None:
            return None
        if headers.get(f"{name}-URI-AutoEncoded") == "true":
            from urllib.parse import unquote

            value = unquote(value)
        return value

    def __bool__(self) -> bool:
        return self._header("HX-Request") == "true"

    @property
    def boosted(self) -> bool:
        """The request comes from an element with ``hx-boost``."""
        return self._header("HX-Boosted") == "true"

    @property
    def current_url(self) -> str | None:
        """The browser's URL when the request was made (``HX-Current-URL``)."""
        return self._header("HX-Current-URL")

    @property
    def history_restore_request(self) -> bool:
        """htmx asks for the whole page to restore its history (cache miss)."""
        return self._header("HX-History-Restore-Request") == "true"

    @property
    def prompt(self) -> str | None:
        """The user's answer to an ``hx-prompt``."""
        return self._header("HX-Prompt")

    @property
    def target(self) -> str | None:
        """The ``id`` of the target element, when it has one (``HX-Target``)."""
        return self._header("HX-Target")

    @property
    def trigger(self) -> str | None:
        """The ``id`` of the element that triggered the request (``HX-Trigger``)."""
        return self._header("HX-Trigger")

    @property
    def trigger_name(self) -> str | None:
        """The ``name`` of the element that triggered the request (``HX-Trigger-Name``)."""
        return self._header("HX-Trigger-Name")

    def __repr__(self) -> str:
        return f"<HtmxDetails {bool(self)} target={self.target!r} trigger={self.trigger!r}>"


class HtmxResponse:
    """``resp.htmx``: setters for the ``HX-*`` response headers htmx acts on."""

    __slots__ = ("_resp",)

    def __init__(self, resp: Response) -> None:
        self._resp = resp

    def _set(self, name: str, value: str) -> None:
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} value contains a line break")
        self._resp.headers[name] = value

    def redirect(self, url: str) -> None:
        """A full-page redirect by the browser to ``url`` (``HX-Redirect``)."""
        self._set("HX-Redirect", str(url))

    def location(self, path: str, **options: Any) -> None:
        """A client-side redirect without a full reload (``HX-Location``);
        ``options`` (``target="#main"``, ``swap="outerHTML"``...) as htmx's
        ``HX-Location`` object takes them."""
        if options:
            self._set("HX-Location", json.dumps({"path": str(path), **options}))
        else:
            self._set("HX-Location", str(path))

    def refresh(self) -> None:
        """A full refresh of the page (``HX-Refresh: true``)."""
        self._set("HX-Refresh", "true")

    def push_url(self, url: str | Literal[False]) -> None:
        """Push ``url`` into the browser history (``False``: push nothing)."""
        self._set("HX-Push-Url", "false" if url is False else str(url))

    def replace_url(self, url: str | Literal[False]) -> None:
        """Replace the current URL in the browser history (``False``: do not)."""
        self._set("HX-Replace-Url", "false" if url is False else str(url))

    def retarget(self, selector: str) -> None:
        """Swap the response into ``selector`` instead of the request's target."""
        self._set("HX-Retarget", selector)

    def reswap(self, style: str) -> None:
        """How to swap the response (``"outerHTML"``, ``"beforeend swap:1s"``...)."""
        parts = style.split()
        if not parts or parts[0] not in SWAP_STYLES:
            raise ValueError(f"Unknown hx-swap style {style!r}; use one of {sorted(SWAP_STYLES)}")
        self._set("HX-Reswap", style)

    def reselect(self, selector: str) -> None:
        """Swap only the part of the response that ``selector`` picks."""
        self._set("HX-Reselect", selector)

    def trigger(self, event: str, detail: Any = None, *,
                after: Literal["receive", "settle", "swap"] = "receive") -> None:
        """Trigger ``event`` in the browser, with ``detail`` (any JSON value),
        when the response is received (``after="settle"`` or ``"swap"``: after
        those steps). Several calls add up to one JSON header."""
        try:
            name = _TRIGGER_HEADERS[after]
        except KeyError:
            raise ValueError(f"after= must be 'receive', 'settle' or 'swap', got {after!r}") from None
        headers = self._resp.headers
        current = headers.get(name)
        events: dict[str, Any] = {}
        if current:
            try:
                parsed = json.loads(current)
            except ValueError:
                parsed = {event.strip(): None for event in current.split(",") if event.strip()}
            if isinstance(parsed, dict):
                events.update(parsed)
        events[event] = detail
        # ensure_ascii: a header is latin-1 on the wire; JSON escapes keep it readable by htmx.
        self._set(name, json.dumps(events, separators=(",", ":")))

    def stop_polling(self) -> None:
        """Answer ``286``: htmx stops polling this element."""
        self._resp.status_code = 286
