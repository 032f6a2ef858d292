"""The fluent response of controllers and exception-handler classes
(``req.response`` / ``req.res``), in PyJolt's spelling.

It wraps the request's ``dyne.Response``: every method changes that response
at once and returns the fluent object, so calls chain and a handler may
``return req.response.json(data).status(HttpStatus.CREATED)``.
``html()`` renders a template file asynchronously: await it (its chainable
methods may be called before the ``await``, as in
``await req.response.html("page.html", ctx).status(200)``).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from typing import Self

    from .request import Request
    from .response import Response

__all__ = ["FLUENT_KEY", "FluentResponse", "HttpStatus", "MediaType", "PendingHtml", "fluent_for"]

T = TypeVar("T")

#: Where the fluent response of the current request is kept (in the ASGI scope).
FLUENT_KEY = "dyne.fluent_response"

#: PyJolt's ``HttpStatus``: the standard library's ``http.HTTPStatus`` (an ``IntEnum``).
HttpStatus = HTTPStatus


class MediaType(StrEnum):
    """Media types for ``@consumes`` and ``@produces`` (PyJolt's names)."""

    APPLICATION_X_WWW_FORM_URLENCODED = "application/x-www-form-urlencoded"
    MULTIPART_FORM_DATA = "multipart/form-data"
    APPLICATION_JSON = "application/json"
    APPLICATION_PROBLEM_JSON = "application/problem+json"
    APPLICATION_XML = "application/xml"
    TEXT_XML = "text/xml"
    TEXT_PLAIN = "text/plain"
    TEXT_HTML = "text/html"
    APPLICATION_OCTET_STREAM = "application/octet-stream"
    IMAGE_PNG = "image/png"
    IMAGE_JPEG = "image/jpeg"
    IMAGE_GIF = "image/gif"
    APPLICATION_PDF = "application/pdf"
    APPLICATION_X_NDJSON = "application/x-ndjson"
    APPLICATION_CSV = "application/csv"
    TEXT_CSV = "text/csv"
    APPLICATION_YAML = "application/yaml"
    TEXT_YAML = "text/yaml"
    APPLICATION_GRAPHQL = "application/graphql"
    NO_CONTENT = "empty"


class FluentResponse(Generic[T]):
    """``req.response``: chainable setters over the request's ``dyne.Response``.

    ``FluentResponse[Model]`` (exported as ``dyne.controllers.Response``) as a
    controller method's return annotation serializes the JSON body through
    ``Model`` and documents it in OpenAPI.
    """

    __slots__ = ("resp",)

    def __init__(self, resp: Response) -> None:
        #: The ``dyne.Response`` this object changes.
        self.resp = resp

    @property
    def req(self) -> Request | None:
        return self.resp.req

    @property
    def status_code(self) -> int:
        return self.resp.status_code

    @property
    def headers(self) -> Any:
        return self.resp.headers

    def status(self, status_code: int | HTTPStatus) -> Self:
        """Set the status code."""
        self.resp.status_code = int(status_code)
        return self

    def json(self, data: Any) -> Self:
        """A JSON body: a dict, a list, a pydantic model or a dataclass."""
        resp = self.resp
        resp.media = data
        resp._mimetype = "application/json"  # resp.mimetype, without a second property call
        return self

    def text(self, text: str) -> Self:
        """A ``text/plain`` body."""
        self.resp.text = text
        return self

    def html_from_string(self, text: str, context: Mapping[str, Any] | None = None) -> Self:
        """An HTML body rendered from a template string (Jinja2, escaped)."""
        self.resp.html = self._app().template_string(text, **dict(context or {}))
        return self

    def html(self, template_path: str, context: Mapping[str, Any] | None = None) -> PendingHtml:
        """An HTML body rendered from a template file: ``await`` the result."""
        return PendingHtml(self, template_path, dict(context or {}))

    def no_content(self) -> Self:
        """``204 No Content``."""
        self.resp.no_content()
        return self

    def redirect(self, location: str, status_code: int | HTTPStatus = HTTPStatus.SEE_OTHER) -> Self:
        """Redirect to ``location`` (``303 See Other`` unless told otherwise)."""
        self.resp.redirect(location, status_code=int(status_code))
        return self

    def send_file(self, body: str | os.PathLike[str] | bytes, headers: Mapping[str, str] | None = None,
                  *, content_type: str | None = None, filename: str | None = None) -> Self:
        """Send a file from disk (a path; ranges and conditional requests are
        answered) or the given bytes, with extra ``headers``."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            self.resp.content = bytes(body)
            if content_type is not None:
                self.resp.mimetype = content_type
        else:
            self.resp.file(body, content_type=content_type, filename=filename)
        for key, value in (headers or {}).items():
            self.resp.headers[key] = value
        return self

    def set_header(self, key: str, value: str) -> Self:
        self.resp.headers[key] = value
        return self

    def set_cookie(self, cookie_name: str, value: str, max_age: int | None = None, path: str = "/",
                   domain: str | None = None, secure: bool = False, http_only: bool = True,
                   samesite: str | None = "lax") -> Self:
        self.resp.set_cookie(cookie_name, value, max_age=max_age, path=path, domain=domain,
                             secure=secure, httponly=http_only, samesite=samesite)
        return self

    def delete_cookie(self, cookie_name: str, path: str = "/", domain: str | None = None) -> Self:
        self.resp.delete_cookie(cookie_name, path=path, domain=domain)
        return self

    def _app(self) -> Any:
        req = self.resp.req
        app = req.app if req is not None else None
        if app is None:
            raise RuntimeError("Rendering a template needs the request's application")
        return app

    def __repr__(self) -> str:
        return f"<FluentResponse {self.resp.status_code}>"


class PendingHtml:
    """What ``req.response.html(...)`` returns: await it to render the
    template; ``status``, ``set_header``, ``set_cookie`` and ``delete_cookie``
    apply at once and chain."""

    __slots__ = ("context", "fluent", "template")

    def __init__(self, fluent: FluentResponse[Any], template: str, context: dict[str, Any]) -> None:
        self.fluent = fluent
        self.template = template
        self.context = context

    def status(self, status_code: int | HTTPStatus) -> PendingHtml:
        self.fluent.status(status_code)
        return self

    def set_header(self, key: str, value: str) -> PendingHtml:
        self.fluent.set_header(key, value)
        return self

    def set_cookie(self, cookie_name: str, value: str, **options: Any) -> PendingHtml:
        self.fluent.set_cookie(cookie_name, value, **options)
        return self

    def delete_cookie(self, cookie_name: str, path: str = "/", domain: str | None = None) -> PendingHtml:
        self.fluent.delete_cookie(cookie_name, path=path, domain=domain)
        return self

    async def _render(self) -> FluentResponse[Any]:
        fluent = self.fluent
        fluent.resp.html = await fluent._app().template_async(self.template, **self.context)
        return fluent

    def __await__(self) -> Generator[Any, None, FluentResponse[Any]]:
        return self._render().__await__()


def fluent_for(req: Request) -> FluentResponse[Any]:
    """``req.response`` / ``req.res``: the fluent response of a controller
    method or an exception-handler class."""
    fluent = req.scope.get(FLUENT_KEY)
    if fluent is None:
        raise AttributeError("req.response is available in controller methods and exception-handler "
                             "classes (dyne.controllers); function views use resp")
    return fluent  # type: ignore[no-any-return]
