"""The incoming HTTP request, as views see it (``req``).

Nothing is parsed until it is asked for: headers, query string, cookies,
session and body are each decoded on first access and then cached, so a view
that reads none of them pays for none of them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Generator
from typing import TYPE_CHECKING, Any

from .bodies import (
    DEFAULT_MEDIA_LIMITS,
    JSON_SOURCE_MAX,
    SCOPE_FORMATS_KEY,
    decode,
    decode_json,
    json_checked,
    too_large,
)
from .datastructures import Address, Headers, QueryDict, State
from .exceptions import ClientDisconnect, HTTPException
from .formats import FORMATS, format_for_content_type

if TYPE_CHECKING:
    from starlette.datastructures import URL, FormData

    from .app import App
    from .htmx import HtmxDetails
    from .sessions import Session
    from .types import Receive, Scope

__all__ = ["HTTPMethod", "ParsedMedia", "Request"]


class ParsedMedia(dict[str, Any]):
    """A decoded body (a JSON object, a form...): a plain ``dict`` that can also
    be awaited, giving itself.

    ``await req.media()`` always works. Once the body has been decoded (by an
    earlier ``await req.media()``, by ``@input``...), ``req.media()`` without
    ``await`` returns this dict directly, which is how code written as
    ``data = req.media()`` keeps working.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, ParsedMedia]:
        return self
        yield  # a generator: awaiting finishes at once with ``self``


#: In ``Request._media``: a JSON body not decoded yet (see ``Request._json_source``).
_UNDECODED = object()


async def _ready(value: Any) -> Any:
    return value


def _all_formats() -> frozenset[str]:
    from .bodies import DEFAULT_MEDIA_FORMATS

    return DEFAULT_MEDIA_FORMATS


def _counted(total: int, chunk: bytes, limit: int | None) -> int:
    """The running body size after ``chunk``; 413 once it passes ``limit``."""
    total += len(chunk)
    if limit is not None and total > limit:
        raise HTTPException(413, f"Request body larger than the {limit}-byte limit")
    return total


class HTTPMethod(str):
    """The request method, upper-case (``"GET"``), that also compares equal to
    its lower-case spelling so code written for ``req.method == "get"`` works."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other.upper())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__


#: One shared (immutable) ``HTTPMethod`` per standard method, so ``req.method``
#: does not build a new string object on each access.
_STANDARD_METHODS = {name: HTTPMethod(name)
                     for name in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it (no quoting
    rules enforced; later duplicates do not override earlier ones)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", key
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if (key or value) and key not in cookies:
            cookies[key] = value
    return cookies


def _split_content_type(value: str) -> tuple[str, dict[str, str]]:
    mimetype, _, rest = value.partition(";")
    params = {}
    for item in rest.split(";"):
        name, sep, param = item.partition("=")
        if sep:
            params[name.strip().lower()] = param.strip().strip('"')
    return mimetype.strip().lower(), params


class Request:
    """An HTTP request. Created by the application for each request."""

    __slots__ = (
        "_body",
        "_cookies",
        "_encoding",
        "_form",
        "_headers",
        "_media",
        "_params",
        "_receive",
        "_session",
        "_state",
        "_stream_consumed",
        "_url",
        "app",
        "path_params",
        "scope",
    )

    def __init__(self, scope: Scope, receive: Receive | None = None, app: App | None = None) -> None:
        self.scope = scope
        self._receive = receive
        self.app = app if app is not None else scope.get("app")
        self.path_params: dict[str, Any] = {}
        self._headers: Headers | None = None
        self._params: QueryDict | None = None
        self._cookies: dict[str, str] | None = None
        self._session: Session | None = None
        self._state: State | None = None
        self._url: URL | None = None
        self._body: bytes | None = None
        self._form: FormData | None = None
        self._media: dict[str, Any] | None = None
        self._encoding: str | None = None
        self._stream_consumed = False

    # -- request line ----------------------------------------------------------

    @property
    def method(self) -> HTTPMethod:
        """``"GET"``, ``"POST"``... (also equal to ``"get"``, ``"post"``...)."""
        method = self.scope["method"]
        return _STANDARD_METHODS.get(method) or HTTPMethod(method)

    @property
    def path(self) -> str:
        return self.scope["path"]

    @property
    def url(self) -> URL:
        """The request URL, with ``.scheme``, ``.hostname``, ``.port``,
        ``.path``, ``.query`` and ``.replace(...)`` (Starlette's ``URL``)."""
        if self._url is None:
            from starlette.datastructures import URL

            self._url = URL(scope=self.scope)
        return self._url

    @property
    def full_url(self) -> str:
        """The URL as a string, scheme and host included."""
        return str(self.url)

    @property
    def base_url(self) -> str:
        """Scheme, host and root path: ``https://example.com/``."""
        url = self.url
        root = self.scope.get("root_path", "")
        return f"{url.scheme}://{url.netloc}{root}/"

    @property
    def is_secure(self) -> bool:
        return self.scope.get("scheme") in ("https", "wss")

    @property
    def client(self) -> Address | None:
        """``(host, port)`` of the client, when the server reports it."""
        client = self.scope.get("client")
        return Address(client[0], client[1]) if client else None

    # -- headers & friends --------------------------------------------------------

    @property
    def headers(self) -> Headers:
        """Case-insensitive request headers."""
        if self._headers is None:
            self._headers = Headers(self.scope["headers"])
        return self._headers

    def raw_header(self, name: bytes) -> bytes | None:
        """The first raw value of a header (``name`` lower-case), without
        building the header table. Used on hot paths."""
        for key, value in self.scope["headers"]:
            if key == name:
                return value
        return None

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` header a reconnecting Server-Sent Events client
        sends (the ``id`` of the last event it got), or ``None``. A 400 when it
        is malformed (over 1024 bytes, not UTF-8, control characters)."""
        from .sse import last_event_id

        return last_event_id(self)

    @property
    def htmx(self) -> HtmxDetails:
        """What htmx says about this request (``dyne.htmx.HtmxDetails``):
        false for a request htmx did not send; ``.target``, ``.trigger``,
        ``.current_url``, ``.boosted``..."""
        from .htmx import HtmxDetails

        return HtmxDetails(self)

    @property
    def params(self) -> QueryDict:
        """Query-string parameters (``params["q"]``, ``params.getlist("tag")``)."""
        if self._params is None:
            self._params = QueryDict(self.scope.get("query_string", b"").decode("latin-1"))
        return self._params

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for key, value in self.scope["headers"]:
                if key == b"cookie":
                    for name, val in parse_cookie_header(value.decode("latin-1")).items():
                        cookies.setdefault(name, val)
            self._cookies = cookies
        return self._cookies

    @property
    def session(self) -> Session:
        """Session data from the signed ``dyne-Session`` cookie (a dict; changes
        are written back to the client with the response)."""
        if self._session is None:
            from .sessions import Session

            app = self.app
            if app is None:
                raise RuntimeError("req.session needs the request to belong to a dyne App")
            self._session = Session(app.session_backend.load(self))
        return self._session

    @property
    def state(self) -> State:
        """Per-request attribute storage (``req.state.user = ...``)."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    @property
    def mimetype(self) -> str:
        """The body's content type without parameters, lower-case ("" if none)."""
        value = self.raw_header(b"content-type")
        if value is None:
            return ""
        return _split_content_type(value.decode("latin-1"))[0]

    @property
    def encoding(self) -> str:
        """The body's charset (from ``Content-Type``), ``utf-8`` by default."""
        if self._encoding is None:
            value = self.raw_header(b"content-type")
            charset = None
            if value is not None:
                charset = _split_content_type(value.decode("latin-1"))[1].get("charset")
            self._encoding = charset or "utf-8"
        return self._encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype
        return mimetype == "application/json" or mimetype.endswith("+json")

    def accepts(self, content_type: str) -> bool:
        """Whether the ``Accept`` header lists ``content_type`` (or a wildcard for it)."""
        from .formats import parse_accept

        accept = self.headers.get("accept")
        if not accept:
            return True
        major = content_type.split("/", 1)[0]
        for media, quality in parse_accept(accept):
            if quality > 0 and media in (content_type.lower(), "*/*", f"{major}/*"):
                return True
        return False

    # -- body ------------------------------------------------------------------

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives, chunk by chunk (once; use ``content`` to keep it).

        Refuses, with 413, a body larger than the app's ``max_body_size``: up
        front when ``Content-Length`` says so, otherwise as soon as the running
        total passes the limit.
        """
        if self._body is not None:
            if self._body:
                yield self._body
            return
        limit = self._start_reading()
        total = 0
        while True:
            chunk, more = await self._receive_chunk()
            if chunk:
                total = _counted(total, chunk, limit)
                yield chunk
            if not more:
                return

    async def _receive_chunk(self) -> tuple[bytes, bool]:
        """The next piece of the body and whether more follows; a client that
        went away raises ``ClientDisconnect``."""
        receive = self._receive
        assert receive is not None
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                return message.get("body", b""), message.get("more_body", False)
            if kind == "http.disconnect":
                raise ClientDisconnect()

    def _start_reading(self, limit: int | None = None, fmt: str | None = None) -> int | None:
        """Checks before the body is read (once only; a declared ``Content-Length``
        over the limit is a 413); returns the size limit: the app's (or the
        route's ``max_body_size=``), or ``limit`` when that is smaller (the
        limit of the format ``fmt``, named in the 413)."""
        if self._stream_consumed:
            raise RuntimeError("The request body was already consumed as a stream")
        if self._receive is None:
            raise RuntimeError("This request has no body channel")
        scope = self.scope
        if "dyne.max_body_size" in scope:  # the route's max_body_size=
            app_limit: int | None = scope["dyne.max_body_size"]
        else:
            app = self.app
            app_limit = getattr(app, "max_body_size", None) if app is not None else None
        if limit is None or (app_limit is not None and app_limit < limit):
            limit, fmt = app_limit, None
        if limit is not None:
            for key, declared in scope["headers"]:
                if key == b"content-length":
                    if declared.isdigit() and int(declared) > limit:
                        if fmt is not None:
                            raise too_large(fmt, limit)
                        raise HTTPException(413, f"Request body larger than the {limit}-byte limit")
                    break
        self._stream_consumed = True
        return limit

    @property
    async def content(self) -> bytes:
        """The raw body, read once and kept: ``await req.content``."""
        if self._body is None:
            self._body = await self._read_body()
        return self._body

    async def _read_body(self, limit: int | None = None, fmt: str | None = None) -> bytes:
        """The whole body, with the same checks as ``stream`` but without an
        async generator (which costs more than the read itself for the usual
        body that arrives in one message)."""
        limit = self._start_reading(limit, fmt)
        receive = self._receive
        assert receive is not None
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            # The usual case: the whole body in one message.
            body = message.get("body", b"")
            if limit is not None and len(body) > limit:
                raise HTTPException(413, f"Request body larger than the {limit}-byte limit")
            return body if type(body) is bytes else bytes(body)
        if message["type"] == "http.request":
            chunk, more = message.get("body", b""), True
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
        else:  # not a body message: wait for one
            chunk, more = await self._receive_chunk()
        chunks: list[bytes] = []
        total = 0
        while True:
            if chunk:
                total = _counted(total, chunk, limit)
                chunks.append(chunk)
            if not more:
                break
            chunk, more = await self._receive_chunk()
        return b"".join(chunks)

    @property
    async def text(self) -> str:
        """The body decoded with ``req.encoding``: ``await req.text``."""
        body = await self.content
        try:
            return body.decode(self.encoding)
        except LookupError:
            raise HTTPException(400, f"Unknown charset {self.encoding!r}") from None
        except UnicodeDecodeError:
            raise HTTPException(400, f"Request body is not valid {self.encoding}") from None

    async def form(self, *, max_files: int = 1000, max_fields: int = 1000,
                   max_part_size: int = 1024 * 1024) -> FormData:
        """Parse an urlencoded or multipart form (Starlette ``FormData``: ``get``,
        ``getlist``, uploads as ``UploadFile`` spooled to disk past 1 MB).

        Broken multipart data is a 400; a body that is not a form is a 415.
        """
        if self._form is None:
            from starlette.datastructures import FormData
            from starlette.datastructures import Headers as StarletteHeaders
            from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

            mimetype = self.mimetype
            headers = StarletteHeaders(raw=self.scope["headers"])
            parser: FormParser | MultiPartParser
            tail = bytearray()
            if mimetype == "multipart/form-data":
                parser = MultiPartParser(headers, self._stream_keeping_tail(tail),
                                         max_files=max_files, max_fields=max_fields,
                                         max_part_size=max_part_size)
            elif mimetype == "application/x-www-form-urlencoded":
                parser = FormParser(headers, self.stream(), max_fields=max_fields,
                                    max_part_size=max_part_size)
            elif not mimetype and not await self.content:
                self._form = FormData()
                return self._form
            else:
                raise HTTPException(415, "Expected a form body (application/x-www-form-urlencoded "
                                         f"or multipart/form-data), got {mimetype or 'no content type'}")
            try:
                form = await parser.parse()
            except MultiPartException as exc:
                raise HTTPException(400, f"Malformed form body: {exc.message}") from None
            except (ValueError, UnicodeDecodeError, KeyError) as exc:
                raise HTTPException(400, f"Malformed form body: {exc}") from None
            if mimetype == "multipart/form-data":
                boundary = _split_content_type(headers["content-type"])[1].get("boundary", "")
                if f"--{boundary}--".encode("latin-1") not in tail:
                    await form.close()
                    raise HTTPException(400, "Malformed form body: incomplete multipart data")
            self._form = form
        return self._form

    async def _stream_keeping_tail(self, tail: bytearray, size: int = 1024
                                   ) -> AsyncGenerator[bytes, None]:
        """The body stream, remembering its last ``size`` bytes (to check that a
        multipart body really ends with its closing boundary)."""
        async for chunk in self.stream():
            tail.extend(chunk)
            if len(tail) > size:
                del tail[:-size]
            yield chunk

    def media(self, format: str | None = None) -> Awaitable[Any]:
        """The decoded body: ``data = await req.media()``.

        ``format`` is ``"json"``, ``"yaml"``, ``"msgpack"``, ``"form"`` or
        ``"files"``; ``None`` picks by ``Content-Type`` (a body without one is
        read as JSON), among the formats the app (``App(media_formats=...)``)
        or the route (``media_formats=``) accepts. An empty body gives ``{}``.
        Malformed bodies raise a 400, unsupported or refused content types a
        415, bodies over the format's limits (``App(media_limits=...)``) a 413.

        ``"form"`` gives ``{field: value}`` (files as in ``"files"``);
        ``"files"`` gives ``{field: {"filename", "content", "content_type"}}``.

        A body that decodes to an object is returned as a ``ParsedMedia`` dict;
        once decoded, ``req.media()`` returns it even without ``await``.
        """
        if format is None:
            mimetype = self.mimetype
            fmt = format_for_content_type(mimetype) if mimetype else "json"
            if fmt is None or fmt not in self.media_formats:
                raise HTTPException(415, f"Unsupported media type {mimetype!r}")
        else:
            fmt = format.lower()
            if fmt not in FORMATS:
                raise ValueError(f"Unknown media format {format!r}; use one of {', '.join(FORMATS)}")
        cache = self._media
        if cache is not None and fmt in cache:
            value = cache[fmt]
            if value is _UNDECODED:  # read by a one-pass validator (_json_source)
                value = decode_json(self._body or b"", None)
                if type(value) is dict:
                    value = ParsedMedia(value)
                cache[fmt] = value
            return value if isinstance(value, ParsedMedia) else _ready(value)
        return self._decode_media(fmt)

    @property
    def media_formats(self) -> frozenset[str]:
        """The formats ``req.media()`` decodes by ``Content-Type`` here: the
        route's ``media_formats=``, else the app's."""
        formats = self.scope.get("dyne.media_formats")
        if formats is not None:
            return formats  # type: ignore[no-any-return]
        app = self.app
        return getattr(app, "media_formats", None) or _all_formats()

    def _media_limit(self, fmt: str) -> Any:
        limits = getattr(self.app, "media_limits", None) or DEFAULT_MEDIA_LIMITS
        return limits[fmt]

    async def _limited_body(self, fmt: str, limit: Any) -> bytes:
        """The body for decoding as ``fmt``, read once within ``limit.max_size``."""
        body = self._body
        if body is None:
            body = self._body = await self._read_body(limit.max_size, fmt)
        return body

    async def _json_source(self) -> bytes | None:
        """The raw body, for a caller that validates JSON in one pass (``@input``
        and body parameters with pydantic), when ``req.media()`` would decode it
        as JSON: a JSON (or absent) content type that the route accepts, not
        yet decoded, within the JSON limits and small enough to handle on the
        event loop. ``None`` otherwise (the caller then uses ``req.media()``)."""
        if self._media is not None:
            return None
        content_type = self.raw_header(b"content-type")
        if content_type is not None and content_type != b"application/json" and \
                not content_type.startswith(b"application/json;"):
            return None
        app = self.app
        formats = self.scope.get(SCOPE_FORMATS_KEY)
        if formats is None:
            formats = getattr(app, "media_formats", None) or _all_formats()
        if "json" not in formats:
            return None
        limit = (getattr(app, "media_limits", None) or DEFAULT_MEDIA_LIMITS)["json"]
        body = self._body
        if body is None:
            body = self._body = await self._read_body(limit.max_size, "json")
        if not body or len(body) > JSON_SOURCE_MAX or not json_checked(body, limit.max_items):
            return None
        # Decoded on demand: ``req.media()`` (even without ``await``) still gives the dict.
        self._media = {"json": _UNDECODED}
        return body

    async def _decode_media(self, fmt: str) -> Any:
        limit = self._media_limit(fmt)
        if fmt in ("form", "files"):
            value: Any = await self._form_media(files_only=fmt == "files", limit=limit)
        else:
            body = await self._limited_body(fmt, limit)
            value = await decode(fmt, body, limit) if body else {}
        if type(value) is dict:
            value = ParsedMedia(value)
        if self._media is None:
            self._media = {}
        self._media[fmt] = value
        return value

    async def _form_media(self, files_only: bool, limit: Any) -> dict[str, Any]:
        if self._form is None and limit.max_size is not None:
            declared = self.raw_header(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit.max_size:
                raise HTTPException(413, f"Request body larger than the {limit.max_size}-byte "
                                         "limit for forms")
        fields, files = limit.max_items, self._media_limit("files").max_items
        form = await self.form(max_fields=10**9 if fields is None else fields,
                               max_files=10**9 if files is None else files)
        result: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                if not files_only:
                    result[key] = value
            else:
                await value.seek(0)
                result[key] = {
                    "filename": value.filename,
                    "content": await value.read(),
                    "content_type": value.content_type,
                }
        return result

    async def close(self) -> None:
        """Release uploaded files. Called by the application after the response."""
        if self._form is not None:
            await self._form.close()

    # -- extension properties ---------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        app = self.app
        if app is not None:
            getter = app.request_properties.get(name)
            if getter is not None:
                return getter(self)
        raise AttributeError(f"'Request' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('path')}>"

