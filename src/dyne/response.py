"""The outgoing HTTP response, as views fill it in (``resp``).

Set one body (``text``, ``html``, ``content``, ``media``, a file, a stream or
Server-Sent Events), a status code, headers and cookies; the application
renders it once the view returns. ``resp.media`` is encoded in the format the
client's ``Accept`` header prefers (JSON by default, YAML, MessagePack).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .datastructures import CaseInsensitiveDict
from .encoders import model_kind
from .exceptions import HTTPException
from .formats import ENCODERS, format_for_content_type, json_dumps, negotiate

if TYPE_CHECKING:
    from datetime import datetime
    from http.cookies import SimpleCookie

    from .htmx import HtmxResponse
    from .request import Request
    from .sessions import Session

__all__ = ["Response", "ServerSentEvent", "cookie_jar"]

# What the body is; decides how it is rendered.
_NOTHING, _TEXT, _CONTENT, _MEDIA, _STREAM, _FILE, _SSE = range(7)

_NO_BODY_STATUS = frozenset({204, 205, 304})
_NOT_IN_304 = frozenset({b"content-type", b"content-length", b"content-disposition",
                         b"content-encoding", b"content-range"})
_CHUNK_SIZE = 64 * 1024
RawHeaders = list[tuple[bytes, bytes]]
#: What ``Response.render`` returns: status, raw headers, and the body
#: (``None`` when it is streamed).
Rendered = tuple[int, RawHeaders, "bytes | None"]
_PLAIN_500 = b"500 Internal Server Error"


_cookie_jar_class: Any = None


def cookie_jar() -> SimpleCookie:
    """A new ``resp.cookies`` jar: ``jar["k"] = "v"`` sets a cookie with the same
    defaults as ``resp.set_cookie`` (path ``/``, HttpOnly, SameSite=Lax)."""
    global _cookie_jar_class
    if _cookie_jar_class is None:
        from http.cookies import Morsel, SimpleCookie

        class ResponseCookies(SimpleCookie):
            def __setitem__(self, key: str, value: Any) -> None:
                super().__setitem__(key, value)
                if not isinstance(value, Morsel):
                    morsel = dict.__getitem__(self, key)
                    morsel["path"] = "/"
                    morsel["httponly"] = True
                    morsel["samesite"] = "Lax"

        _cookie_jar_class = ResponseCookies
    return _cookie_jar_class()


class ServerSentEvent:
    """One Server-Sent Event. ``data`` that is not a string is sent as JSON."""

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(self, data: Any = None, event: str | None = None, id: str | None = None,
                 retry: int | None = None, comment: str | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def __repr__(self) -> str:
        return (f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r}, "
                f"retry={self.retry!r}, comment={self.comment!r})")


_SSE_FIELDS = frozenset({"data", "event", "id", "retry", "comment"})


def _sse_line_safe(value: Any) -> str:
    return str(value).replace("\r", " ").replace("\n", " ")


def format_sse(item: Any, dumps: Callable[[Any], bytes] = json_dumps) -> bytes:
    """Encode one event: a string (its data), a ``ServerSentEvent``, a dict of
    SSE fields (``data``, ``event``, ``id``, ``retry``, ``comment``) or any
    other JSON-serializable value (sent as JSON data, with ``dumps``)."""
    if isinstance(item, ServerSentEvent):
        event = item
    elif isinstance(item, Mapping) and item and set(item) <= _SSE_FIELDS:
        event = ServerSentEvent(**item)
    else:
        event = ServerSentEvent(data=item)
    lines: list[str] = []
    if event.comment is not None:
        lines.extend(f": {line}" for line in str(event.comment).splitlines() or [""])
    if event.event is not None:
        lines.append(f"event: {_sse_line_safe(event.event)}")
    if event.id is not None:
        lines.append(f"id: {_sse_line_safe(event.id)}")
    if event.retry is not None:
        lines.append(f"retry: {int(event.retry)}")
    data = event.data
    if data is not None:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        elif not isinstance(data, str):
            data = dumps(data).decode("utf-8")
        lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _http_date(value: datetime | float | int) -> str:
    import email.utils
    from datetime import datetime

    if isinstance(value, datetime):
        return email.utils.format_datetime(value, usegmt=True)
    return email.utils.formatdate(value, usegmt=True)


def _encode_header(name: str, value: Any) -> tuple[bytes, bytes]:
    text = value if isinstance(value, str) else str(value)
    if "\n" in text or "\r" in text or "\n" in name or "\r" in name:
        raise ValueError(f"Header {name!r} contains a line break (header injection refused)")
    return name.lower().encode("latin-1"), text.encode("latin-1")


_content_type_headers: dict[str, tuple[bytes, bytes]] = {}


_JSON_CHOICE = negotiate(None)


def _content_type_header(content_type: str) -> tuple[bytes, bytes]:
    """The encoded ``Content-Type`` header, kept for the few types an app sends."""
    header = _content_type_headers.get(content_type)
    if header is None:
        header = (b"content-type", content_type.encode("latin-1"))
        if len(_content_type_headers) < 256:
            _content_type_headers[content_type] = header
    return header


_mimetype_formats: dict[str, str] = {}


def _mimetype_format(mimetype: str) -> str:
    """The body format ``resp.media`` is encoded in under an explicit
    ``resp.mimetype`` (JSON unless the type names another), kept for the few
    types an app sends."""
    fmt = format_for_content_type(mimetype.split(";", 1)[0].strip().lower()) or "json"
    if len(_mimetype_formats) < 256:
        _mimetype_formats[mimetype] = fmt
    return fmt


class Response:
    """What a view sends back. Created by the application for each request."""

    __slots__ = (
        "_after",
        "_body",
        "_cookies",
        "_file_path",
        "_headers",
        "_kind",
        "_mimetype",
        "_ranged",
        "_status",
        "_stream_source",
        "encoding",
        "obj",
        "req",
    )

    def __class_getitem__(cls, model: Any) -> Any:
        """``Response[Model]``, PyJolt's return annotation of a controller
        method: the fluent response whose JSON body ``Model`` serializes
        (``dyne.controllers``)."""
        from .fluent import FluentResponse

        return FluentResponse[model]  # type: ignore[valid-type]

    def __init__(self, req: Request | None = None) -> None:
        self.req = req
        self._status: int | None = None
        self._headers: CaseInsensitiveDict | None = None
        self._cookies: SimpleCookie | None = None
        self._kind = _NOTHING
        self._body: Any = None
        self._mimetype: str | None = None
        self._stream_source: Any = None
        self._file_path: str | None = None
        self._ranged = False
        self._after: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None = None
        #: Charset for ``str`` bodies.
        self.encoding = "utf-8"
        #: An object for ``@output`` to serialize.
        self.obj: Any = None

    # -- status & headers ---------------------------------------------------------

    @property
    def status_code(self) -> int:
        """The status code (200 unless set)."""
        return 200 if self._status is None else self._status

    @status_code.setter
    def status_code(self, value: int) -> None:
        code = int(value)
        if not 100 <= code <= 599:
            raise ValueError(f"Status code must be between 100 and 599, got {value!r}")
        self._status = code

    @property
    def headers(self) -> CaseInsensitiveDict:
        """Response headers: case-insensitive lookups, case kept on the wire."""
        headers = self._headers
        if headers is None:
            headers = self._headers = CaseInsensitiveDict()
        return headers

    @headers.setter
    def headers(self, value: Mapping[str, str]) -> None:
        self._headers = CaseInsensitiveDict(value)

    @property
    def mimetype(self) -> str | None:
        """The body's content type (without charset); set it to override the default."""
        return self._mimetype

    @mimetype.setter
    def mimetype(self, value: str | None) -> None:
        self._mimetype = value

    @property
    def is_set(self) -> bool:
        """Whether a status or a body has been set (a before-hook that sets
        either stops the request there)."""
        return self._status is not None or self._kind != _NOTHING

    # -- validators and caching -----------------------------------------------------

    @property
    def etag(self) -> str | None:
        """The ``ETag`` header. Set a plain value (``resp.etag = "v3"`` sends
        ``"v3"``) or a quoted one (``'W/"v3"'`` for a weak tag). A ``GET`` whose
        ``If-None-Match`` matches is answered ``304 Not Modified``."""
        return self._headers.get("etag") if self._headers else None

    @etag.setter
    def etag(self, value: str | None) -> None:
        from .conditional import quote_etag

        if value is None:
            self.headers.pop("etag", None)
        else:
            self.headers["ETag"] = quote_etag(value)

    @property
    def last_modified(self) -> datetime | None:
        """The ``Last-Modified`` header as a ``datetime``. Set a ``datetime`` or
        a timestamp; ``If-Modified-Since`` is then answered with ``304`` when
        nothing changed since."""
        from .conditional import parse_http_date

        return parse_http_date(self._headers.get("last-modified") if self._headers else None)

    @last_modified.setter
    def last_modified(self, value: datetime | float | None) -> None:
        if value is None:
            self.headers.pop("last-modified", None)
        else:
            self.headers["Last-Modified"] = _http_date(value)

    def cache_control(self, *, max_age: int | None = None, s_maxage: int | None = None,
                      public: bool = False, private: bool = False, no_cache: bool = False,
                      no_store: bool = False, must_revalidate: bool = False,
                      immutable: bool = False, stale_while_revalidate: int | None = None,
                      **extra: Any) -> str:
        """Set ``Cache-Control`` from keyword directives
        (``resp.cache_control(max_age=60, public=True)`` -> ``public, max-age=60``);
        other directives as ``extra`` (underscores become dashes; ``True`` for
        a bare directive). Returns the header value."""
        parts: list[str] = []
        flags = {"public": public, "private": private, "no-cache": no_cache,
                 "no-store": no_store, "must-revalidate": must_revalidate,
                 "immutable": immutable}
        if public and private:
            raise ValueError("Cache-Control cannot be both public and private")
        parts.extend(name for name, on in flags.items() if on)
        for name, seconds in (("max-age", max_age), ("s-maxage", s_maxage),
                              ("stale-while-revalidate", stale_while_revalidate)):
            if seconds is not None:
                parts.append(f"{name}={int(seconds)}")
        for name, value in extra.items():
            name = name.replace("_", "-")
            if value is True:
                parts.append(name)
            elif value not in (None, False):
                parts.append(f"{name}={value}")
        value = ", ".join(parts)
        self.headers["Cache-Control"] = value
        return value

    # -- status helpers --------------------------------------------------------------

    def created(self, location: str | None = None, body: Any = None) -> None:
        """``201 Created``, with ``Location`` (when given) and an optional body
        (used like a view's return value)."""
        self.status_code = 201
        if location is not None:
            from urllib.parse import quote

            self.headers["Location"] = quote(str(location), safe=":/%#?=@[]!$&'()*+,;~")
        if body is not None:
            self.apply_return(body)

    def no_content(self) -> None:
        """``204 No Content``: no body is sent."""
        self.status_code = 204
        self._set_body(_NOTHING, None, None)

    def problem(self, status: int, detail: str | None = None, *, title: str | None = None,
                type: str = "about:blank", instance: str | None = None, **extra: Any) -> None:
        """An RFC 9457 problem details body (``application/problem+json``):
        ``status``, ``title`` (the status phrase unless given), ``detail``, and
        any extra members."""
        from http import HTTPStatus

        self.status_code = status
        if title is None:
            try:
                title = HTTPStatus(status).phrase
            except ValueError:
                title = "Error"
        document: dict[str, Any] = {"type": type, "title": title, "status": status}
        if detail is not None:
            document["detail"] = detail
        if instance is not None:
            document["instance"] = instance
        document.update(extra)
        self._set_body(_CONTENT, self._encoders()["json"](document), "application/problem+json")

    @property
    def htmx(self) -> HtmxResponse:
        """Setters for htmx's ``HX-*`` response headers (``dyne.htmx.HtmxResponse``):
        ``resp.htmx.redirect(url)``, ``trigger(event, detail)``, ``retarget``..."""
        from .htmx import HtmxResponse

        return HtmxResponse(self)

    # -- after the response ------------------------------------------------------

    def background(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """Run ``func(*args, **kwargs)`` (sync or async) once this response has
        been sent, its last body byte included (``app.background.run`` starts
        at once instead). Calls run in the order they were added, on
        ``app.background``; one that raises is logged on ``dyne.background``.
        They run whatever the status, and also when the client went away
        mid-stream. Usable as a decorator; returns ``func``."""
        if not callable(func):
            raise TypeError(f"resp.background() needs a callable, got {func!r}")
        if self._after is None:
            self._after = []
        self._after.append((func, args, kwargs))
        return func

    # -- bodies ------------------------------------------------------------------

    @property
    def text(self) -> str | None:
        """A plain-text body (``text/plain``)."""
        if self._kind == _TEXT:
            return self._body  # type: ignore[no-any-return]
        content = self.content
        if content is None or isinstance(content, str):
            return content
        return content.decode(self.encoding, "replace")

    @text.setter
    def text(self, value: str) -> None:
        self._set_body(_TEXT, value, "text/plain")

    @property
    def html(self) -> str | None:
        """An HTML body (``text/html``)."""
        return self.text

    @html.setter
    def html(self, value: str) -> None:
        self._set_body(_TEXT, value, "text/html")

    @property
    def content(self) -> bytes | str | None:
        """Raw body bytes (a ``str`` is encoded with ``resp.encoding`` when sent).
        Read back, it gives what was set: the ``str`` given to ``resp.text`` or
        ``resp.html`` (as in Dyne 2.0.5), the bytes given to ``resp.content``,
        and the encoded body of ``resp.media``."""
        kind = self._kind
        if kind == _TEXT:
            return self._body  # type: ignore[no-any-return]
        if kind in (_CONTENT, _MEDIA):
            return self._render_body()[0]
        return None

    @content.setter
    def content(self, value: bytes | str) -> None:
        self._set_body(_CONTENT, value, None)

    @property
    def media(self) -> Any:
        """Data to send as JSON, YAML or MessagePack, chosen by the ``Accept`` header."""
        return self._body if self._kind == _MEDIA else None

    @media.setter
    def media(self, value: Any) -> None:
        self._set_body(_MEDIA, value, None)

    @property
    def session(self) -> Session:
        """The session dict (the same object as ``req.session``)."""
        if self.req is None:
            raise RuntimeError("resp.session needs a request")
        return self.req.session

    def _set_body(self, kind: int, value: Any, mimetype: str | None) -> None:
        self._kind = kind
        self._body = value
        self._mimetype = mimetype
        self._stream_source = None
        self._file_path = None

    def apply_return(self, value: Any) -> None:
        """Use a view's return value as the body: dict/list, a pydantic model,
        a dataclass (or a list of them) -> media, str -> text, bytes ->
        content; ``(body, status)`` and ``(body, status, headers)`` tuples set
        the status and headers too. ``None`` or ``resp`` itself leaves it as set."""
        if value is None or value is self:
            return
        if isinstance(value, (dict, list)):
            self.media = value
        elif isinstance(value, str):
            self.text = value
        elif isinstance(value, (bytes, bytearray, memoryview)):
            self.content = bytes(value)
        elif isinstance(value, tuple):
            self._apply_tuple(value)
        elif _is_model(value):
            self.media = value
        else:
            raise TypeError(f"A view returned {type(value).__name__}; return a dict, list, str, "
                            "bytes, a model, (body, status[, headers]) or None "
                            "(or set resp.media / resp.text / resp.content)")

    def _apply_tuple(self, value: tuple[Any, ...]) -> None:
        if len(value) not in (2, 3) or isinstance(value[1], bool) or not isinstance(value[1], int):
            raise TypeError("A view returned a tuple; return (body, status) or "
                            "(body, status, headers) with an int status")
        body = value[0]
        if isinstance(body, tuple):
            raise TypeError("A view returned a tuple inside a tuple")
        self.status_code = value[1]
        if len(value) == 3 and value[2]:
            headers = value[2]
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, header_value in items:
                self.headers[name] = header_value
        self.apply_return(body)

    def clear(self) -> None:
        """Forget the status, body and content type (kept: other headers and cookies).
        Used before an error response replaces a half-built one."""
        self._status = None
        self._set_body(_NOTHING, None, None)
        self.obj = None
        if self._headers is not None:
            self._file_path = None
        self._ranged = False
        if self._headers is not None:
            for name in ("content-type", "content-length", "content-disposition",
                         "content-encoding", "last-modified", "etag"):
                        self._headers.pop(name, None)

    def discard_headers(self) -> None:
        """Drop every header and cookie set so far (used when they cannot be sent)."""
        self._headers = None
        self._cookies = None

    # -- cookies -----------------------------------------------------------------

    @property
    def cookies(self) -> SimpleCookie:
        """Cookies to set: ``resp.cookies["hello"] = "world"``."""
        if self._cookies is None:
            self._cookies = cookie_jar()
        return self._cookies

    def set_cookie(self, key: str, value: str = "", expires: datetime | int | float | str | None = None,
                   max_age: int | None = None, domain: str | None = None, path: str | None = "/",
                   secure: bool = False, httponly: bool = True, samesite: str | None = "lax") -> None:
        """Set a cookie with directives. ``expires`` is a ``datetime``, a number
        of seconds from now, or a preformatted HTTP date."""
        cookies = self.cookies
        cookies[key] = value
        morsel = dict.__getitem__(cookies, key)
        morsel["path"] = path or ""
        morsel["httponly"] = bool(httponly)
        morsel["secure"] = bool(secure)
        if samesite:
            if samesite.lower() not in ("lax", "strict", "none"):
                raise ValueError("samesite must be 'lax', 'strict' or 'none'")
            morsel["samesite"] = samesite.capitalize()
        else:
            morsel["samesite"] = ""
        if max_age is not None:
            morsel["max-age"] = int(max_age)
        if expires is not None:
            if isinstance(expires, (int, float)):
                import time

                expires = _http_date(time.time() + expires)
            elif not isinstance(expires, str):
                expires = _http_date(expires)
            morsel["expires"] = expires
        if domain is not None:
            morsel["domain"] = domain

    def delete_cookie(self, key: str, path: str = "/", domain: str | None = None) -> None:
        """Tell the client to drop a cookie."""
        self.set_cookie(key, "", expires=_http_date(0), max_age=0, path=path, domain=domain)

    # -- redirects, files, streams -------------------------------------------------------

    def redirect(self, url: str, status_code: int | None = None, permanent: bool = False,
                 *, allow_external: bool = True) -> None:
        """Redirect to ``url`` (302, or 301 when ``permanent``; ``status_code``
        wins), with a ``Redirecting to: <url>`` plain-text body as in Dyne 2.0.5.

        ``allow_external=False`` refuses, with a 400, a target on another
        site: anything but a path on this site (``/account``) or an absolute
        URL with this request's own scheme and host. Use it whenever the
        target comes from the client (a ``?next=`` parameter): ``//evil.example``,
        ``/\\evil.example`` and ``https://evil.example`` are all refused."""
        from urllib.parse import quote

        if not allow_external:
            from .redirects import is_safe_url, is_same_origin

            target = str(url)
            request = self.req
            if not is_safe_url(target) and not (
                    request is not None
                    and is_same_origin(target, request.url.scheme, request.url.netloc)):
                raise HTTPException(400, "Refusing to redirect to another site")
        self.status_code = status_code or (301 if permanent else 302)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.headers["Location"] = location
        self._set_body(_TEXT, f"Redirecting to: {location}", "text/plain")

    def file(self, path: str | os.PathLike[str], content_type: str | None = None,
             filename: str | None = None, *, root: str | os.PathLike[str] | None = None) -> None:
        """Send a file from disk, with its size, ``Last-Modified``, an ``ETag``
        and a content type guessed from its name. ``filename`` makes browsers
        download it under that name. ``Range`` requests get ``206`` (several
        ranges as ``multipart/byteranges``) or ``416``; conditional requests
        get ``304``. With ``root``, ``path`` is taken relative to ``root`` and
        anything resolving outside it (``..``, absolute paths, symlinks) is a
        404. A missing file is a 404."""
        self._set_file(_FILE, path, content_type, filename, root)

    def stream_file(self, path: str | os.PathLike[str], content_type: str | None = None,
                    chunk_size: int = _CHUNK_SIZE, *,
                    root: str | os.PathLike[str] | None = None) -> None:
        """Stream a file from disk in chunks (chunked transfer, no length).
        ``Range`` and conditional requests are answered as by ``resp.file``."""
        self._set_file(_STREAM, path, content_type, None, root)
        self._stream_source = (_file_chunks, (self._file_path, chunk_size), {})

    def _set_file(self, kind: int, path: str | os.PathLike[str], content_type: str | None,
                  filename: str | None, root: str | os.PathLike[str] | None = None) -> None:
        path = os.fspath(path)
        if root is not None:
            path = _inside_root(root, path)
        if not os.path.isfile(path):
            raise HTTPException(404, "File not found")
        if content_type is None:
            import mimetypes

            guessed, _ = mimetypes.guess_type(path)
            content_type = guessed or "application/octet-stream"
        self._set_body(kind, path, content_type)
        self._file_path = path
        if filename is not None:
            from urllib.parse import quote

            self.headers["Content-Disposition"] = (
                f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
            )

    def stream(self, source: Any, *args: Any, **kwargs: Any) -> Any:
        """Stream the body from an async generator function (called with
        ``*args, **kwargs``), an async iterable or a plain iterable of ``bytes``
        or ``str`` chunks. Usable as a decorator; returns ``source``. A content
        type set with ``resp.mimetype`` beforehand is kept."""
        _check_stream_source(source)
        self._set_body(_STREAM, None, self._mimetype if self._kind == _NOTHING else None)
        self._stream_source = (source, args, kwargs)
        return source

    def sse(self, source: Any = None, *args: Any, heartbeat: float | None = None,
            **kwargs: Any) -> Any:
        """Send Server-Sent Events from an async generator function, an async
        iterable or an iterable. Each item is a string (the data), a
        ``ServerSentEvent``, a dict of SSE fields or any JSON-serializable value.
        Usable as a decorator (``@resp.sse``, or ``@resp.sse(heartbeat=15)``);
        returns ``source``.

        ``heartbeat``: seconds; whenever the source yields nothing for that
        long, a comment line ``: ping`` is sent, so idle connections are not
        dropped by proxies."""
        if source is None:
            if args or kwargs:
                raise TypeError("resp.sse() without a source takes only heartbeat=")
            return lambda func: self.sse(func, heartbeat=heartbeat)
        _check_stream_source(source)
        self._set_body(_SSE, None, "text/event-stream")
        if heartbeat is not None:
            from .sse import check_heartbeat, with_heartbeat

            self._stream_source = (with_heartbeat, (source, args, kwargs, check_heartbeat(heartbeat)), {})
        else:
            self._stream_source = (source, args, kwargs)
        return source

    # -- rendering ---------------------------------------------------------------

    def _encoders(self) -> Mapping[str, Callable[[Any], bytes]]:
        """The app's body encoders by format (its ``json_encoders`` included)."""
        req = self.req
        app = req.app if req is not None else None
        encoders = getattr(app, "encoders", None)
        return encoders.by_format if encoders is not None else ENCODERS

    def _render_body(self) -> tuple[bytes, str | None]:
        """The body bytes and default content type, for in-memory bodies."""
        kind = self._kind
        if kind == _MEDIA:
            mimetype = self._mimetype
            if mimetype is not None:
                # An explicit resp.mimetype wins over negotiation; the body is
                # encoded in the format that content type names (JSON otherwise).
                fmt = _mimetype_formats.get(mimetype)
                if fmt is None:
                    fmt = _mimetype_format(mimetype)
                req = self.req
                app_encoders = getattr(req.app, "encoders", None) if req is not None else None
                encoders = ENCODERS if app_encoders is None else app_encoders.by_format
                encoder = encoders.get(fmt) or encoders["json"]
                return encoder(self._body), mimetype
            req = self.req
            if req is None:
                fmt, content_type = negotiate(None)
                return ENCODERS[fmt](self._body), content_type
            accept = req.raw_header(b"accept")
            fmt, content_type = negotiate(accept.decode("latin-1")) if accept else _JSON_CHOICE
            # The app's encoders (its json_encoders), inlined: this is every JSON answer's path.
            app_encoders = getattr(req.app, "encoders", None)
            table = ENCODERS if app_encoders is None else app_encoders.by_format
            return table[fmt](self._body), content_type
        if kind == _TEXT:
            body = self._body if self._body is not None else ""
            return body.encode(self.encoding), f"{self._mimetype}; charset={self.encoding}"
        if kind == _CONTENT:
            body = self._body
            if isinstance(body, str):
                mimetype = self._mimetype or "text/plain"
                return body.encode(self.encoding), f"{mimetype}; charset={self.encoding}"
            if body is None:
                return b"", None
            return bytes(body), self._mimetype or "application/octet-stream"
        return b"", None

    def render(self) -> Rendered:
        """Serialize status, headers and (for in-memory bodies) the body.

        Returns ``(status, raw headers, body)``; ``body`` is ``None`` when the
        body is streamed (files, streams, events) by ``send_body``.
        """
        req = self.req
        if req is not None and req._session is not None and req._session.modified:
            app = req.app
            if app is not None:
                app.session_backend.save(req, self, req._session)
        status = self._status
        if status is None:
            status = 200
        kind = self._kind
        raw: RawHeaders = []
        body: bytes | None
        length: int | None
        headers = self._headers
        validators: tuple[str | None, Any] | None = None
        vary_accept = False
        self._ranged = False
        if kind in (_FILE, _STREAM, _SSE):
            body = None
            content_type = self._mimetype
            path = self._file_path
            if path is not None:
                stat = os.stat(path)
                length = stat.st_size if kind == _FILE else None
                etag = headers.get("etag") if headers else None
                modified = headers.get("last-modified") if headers else None
                if etag is None:
                    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
                    raw.append((b"etag", etag.encode("latin-1")))
                if modified is None:
                    modified = _http_date(stat.st_mtime)
                    raw.append((b"last-modified", modified.encode("latin-1")))
                raw.append((b"accept-ranges", b"bytes"))
                validators = (etag, modified)
            else:
                length = None
                if kind == _SSE:
                    raw.append((b"cache-control", b"no-cache"))
                    raw.append((b"x-accel-buffering", b"no"))
        else:
            body, content_type = self._render_body()
            length = len(body)
            if status in _NO_BODY_STATUS or status < 200:
                body, length, content_type = b"", None, None
            else:
                vary_accept = kind == _MEDIA and self._mimetype is None
                if headers and ("etag" in headers or "last-modified" in headers):
                    validators = (headers.get("etag"), headers.get("last-modified"))
                elif (status == 200 and req is not None and req.app is not None
                      and getattr(req.app, "auto_etag", False)
                      and req.scope.get("method") in ("GET", "HEAD")):
                    from .conditional import weak_etag

                    tag = weak_etag(body)
                    raw.append((b"etag", tag.encode("latin-1")))
                    validators = (tag, None)
        if validators is not None and 200 <= status < 300 and req is not None:
            from .conditional import evaluate_preconditions

            answer = evaluate_preconditions(req.scope.get("method", "GET"), req, *validators)
            if answer is not None:
                return self._render_precondition(answer, raw, headers, vary_accept)
            if (kind in (_FILE, _STREAM) and self._file_path is not None and status == 200
                    and req.raw_header(b"range") is not None
                    and req.scope.get("method") in ("GET", "HEAD")):
                self._ranged = True
                if length is None:
                    length = os.stat(self._file_path).st_size  # type: ignore[arg-type]
        if headers:
            for name, value in headers.items():
                encoded = _encode_header(name, value)
                if encoded[0] == b"content-type":
                    content_type = None
                elif encoded[0] == b"content-length":
                    length = None
                elif vary_accept and encoded[0] == b"vary":
                    vary_accept = False
                    encoded = _vary_with_accept(encoded)
                raw.append(encoded)
        if vary_accept:
            raw.append((b"vary", b"Accept"))
        if content_type is not None:
            if kind == _STREAM and content_type.startswith("text/") and "charset" not in content_type:
                content_type = f"{content_type}; charset={self.encoding}"
            header = _content_type_headers.get(content_type)
            raw.append(header if header is not None else _content_type_header(content_type))
        if length is not None:
            raw.append((b"content-length", b"%d" % length))
        if self._cookies:
            raw.extend(self._cookie_headers())
        return status, raw, body

    def _cookie_headers(self) -> list[tuple[bytes, bytes]]:
        """``Set-Cookie`` headers for the cookies set on this response."""
        if not self._cookies:
            return []
        return [(b"set-cookie", morsel.OutputString().encode("latin-1"))
                for morsel in self._cookies.values()]

    def _render_precondition(self, status: int, raw: RawHeaders, headers: CaseInsensitiveDict | None,
                             vary_accept: bool) -> Rendered:
        """A ``304 Not Modified`` (the validators and caching headers kept, no
        body) or a ``412 Precondition Failed``."""
        self._ranged = False
        if status == 412:
            raw = []
            if self._cookies:
                raw.extend(self._cookie_headers())
            body = b"Precondition Failed"
            raw.append((b"content-type", b"text/plain; charset=utf-8"))
            raw.append((b"content-length", b"%d" % len(body)))
            return 412, raw, body
        raw = [item for item in raw if item[0] != b"accept-ranges"]
        if headers:
            for name, value in headers.items():
                encoded = _encode_header(name, value)
                if encoded[0] not in _NOT_IN_304:
                    if vary_accept and encoded[0] == b"vary":
                        vary_accept = False
                        encoded = _vary_with_accept(encoded)
                    raw.append(encoded)
        if vary_accept:
            raw.append((b"vary", b"Accept"))
        if self._cookies:
            raw.extend(self._cookie_headers())
        return 304, raw, b""

    @staticmethod
    def render_server_error() -> Rendered:
        """A bare ``500 Internal Server Error``, for when the response (even an
        error response) cannot be rendered."""
        return 500, [(b"content-type", b"text/plain; charset=utf-8"),
                     (b"content-length", b"%d" % len(_PLAIN_500))], _PLAIN_500

    async def send_rendered(self, rendered: Rendered, send: Callable[[dict[str, Any]], Any],
                            receive: Callable[[], Any], *, head: bool = False) -> None:
        """Send a rendered response (``render()``) as ASGI messages: the start
        message, then the body (none for ``HEAD``; streamed bodies through
        ``send_body``)."""
        status, headers, body = rendered
        if self._ranged and body is None and self.req is not None:
            await self._send_ranges(headers, send, receive)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
        elif body is not None:
            await send({"type": "http.response.body", "body": body})
        else:
            await self.send_body(send, receive)

    async def _send_ranges(self, headers: RawHeaders, send: Callable[[dict[str, Any]], Any],
                           receive: Callable[[], Any]) -> None:
        """Answer a ``Range`` request for a file with Starlette's ``FileResponse``
        (what serves static files): ``206`` for one range, ``multipart/byteranges``
        for several, ``416`` when none can be satisfied, the whole file when
        ``If-Range`` no longer matches."""
        from starlette.responses import FileResponse

        path = self._file_path
        assert path is not None and self.req is not None
        response = FileResponse(path, stat_result=os.stat(path))
        response.raw_headers[:] = headers  # in place: its .headers view shares the list
        await response(self.req.scope, receive, send)  # type: ignore[arg-type]

    async def send_body(self, send: Callable[[dict[str, Any]], Any],
                        receive: Callable[[], Any]) -> None:
        """Send a streamed body (files, streams, events), stopping early if the
        client disconnects."""
        import anyio

        async def pump() -> None:
            async for chunk in self._iter_chunks():
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

        try:
            async with anyio.create_task_group() as group:
                async def run(func: Callable[[], Any]) -> None:
                    await func()
                    group.cancel_scope.cancel()

                group.start_soon(run, pump)
                await run(watch_disconnect)
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise

    async def _iter_chunks(self) -> Any:
        kind = self._kind
        if kind == _FILE:
            source: Any = (_file_chunks, (self._body, _CHUNK_SIZE), {})
        else:
            source = self._stream_source
        func, args, kwargs = source
        iterable = func(*args, **kwargs) if callable(func) else func
        encoding = self.encoding
        dumps = self._encoders()["json"]
        if isinstance(iterable, AsyncIterable):
            async for item in iterable:
                yield format_sse(item, dumps) if kind == _SSE else _chunk_bytes(item, encoding)
        elif isinstance(iterable, Iterable):
            from .concurrency import iterate_in_threadpool

            async for item in iterate_in_threadpool(iter(iterable)):
                yield format_sse(item, dumps) if kind == _SSE else _chunk_bytes(item, encoding)
        else:
            raise TypeError(f"Cannot stream a {type(iterable).__name__}: give an async "
                            "generator function, an async iterable or an iterable")

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def _vary_with_accept(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    values = {v.strip().lower() for v in header[1].split(b",")}
    if b"accept" in values or b"*" in values:
        return header
    return header[0], header[1] + b", Accept"


def _inside_root(root: str | os.PathLike[str], path: str) -> str:
    """``path`` under ``root``, resolved; a 404 when it would leave ``root``."""
    base = os.path.realpath(os.fspath(root))
    if "\x00" in path:
        raise HTTPException(404, "File not found")
    candidate = os.path.realpath(os.path.join(base, path.lstrip("/\\")))
    if os.path.isabs(path) and os.path.realpath(path).startswith(base + os.sep):
        candidate = os.path.realpath(path)  # an absolute path already inside root
    if candidate != base and not candidate.startswith(base.rstrip(os.sep) + os.sep):
        raise HTTPException(404, "File not found")
    return candidate


def _is_model(value: Any) -> bool:
    """An instance of a model class (pydantic, msgspec, attrs, dataclass):
    what ``resp.media`` can encode."""
    return model_kind(value) in _VALUE_MODEL_KINDS


_VALUE_MODEL_KINDS = frozenset({"pydantic", "msgspec", "attrs", "dataclass"})


def _check_stream_source(source: Any) -> None:
    if not (callable(source) or isinstance(source, (AsyncIterable, Iterable))) or isinstance(
            source, (str, bytes)):
        raise TypeError(f"Cannot stream a {type(source).__name__}: give an async generator "
                        "function, an async iterable or an iterable of chunks")


def _chunk_bytes(item: Any, encoding: str) -> bytes:
    if isinstance(item, str):
        return item.encode(encoding)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError(f"Stream chunks must be bytes or str, got {type(item).__name__}")


async def _file_chunks(path: str, chunk_size: int) -> Any:
    import anyio

    async with await anyio.open_file(path, "rb") as handle:
        while True:
            chunk = await handle.read(chunk_size)
            if not chunk:
                return
            yield chunk
