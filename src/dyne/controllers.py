"""Controllers and exception-handler classes: PyJolt's way of writing an
application, beside dyne's function views in the same app.

A ``Controller`` groups endpoints under one path (``@path``); its methods are
registered as ordinary dyne routes (one router, one pipeline, one OpenAPI
document), named ``"Class.method"`` for ``app.url_for``::

    from dyne.controllers import Controller, path, get

    @path("/api/v1/users", tags=["Users"])
    class UsersApi(Controller):
        @get("/<int:user_id>")
        async def get_user(self, req, user_id: int) -> Response:
            return req.response.json({"id": user_id})

    app.add_controller(UsersApi)          # or "package.module:UsersApi"

Methods take dyne's form ``(self, req, resp, *, user_id)`` or PyJolt's
``(self, req, user_id)`` returning ``req.response`` (a ``FluentResponse``).
Everything is worked out once, when the controller is registered: the method
form, the ``@consumes`` parameter, the ``Response[Model]`` return annotation.

``ExceptionHandler`` classes answer errors with ``@handles(Exc, ...)``
methods; ``abort`` and ``html_abort`` here are PyJolt's (``dyne.abort`` keeps
dyne's ``abort(status_code, detail)``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from .concurrency import is_async_callable, run_sync
from .endpoints import (
    DIRECT_HANDLER_ATTRIBUTE,
    PHASE_AUTH,
    PHASE_BEFORE,
    PHASE_INPUT,
    PHASE_OUTPUT,
    SPEC_ATTRIBUTE,
    EndpointSpec,
    get_endpoint_spec,
)
from .exceptions import HTTPException
from .fluent import FLUENT_KEY, FluentResponse, HttpStatus, MediaType, PendingHtml, fluent_for
from .injection import compile_signature, is_model, signature_annotations
from .response import Response as DyneResponseClass
from .route_cors import cors, no_cors
from .routing import PathTemplate

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .response import Response as DyneResponse
    from .routing import BaseRoute

__all__ = [
    "AborterException",
    "BaseHttpException",
    "Controller",
    "CustomException",
    "Descriptor",
    "ExceptionHandler",
    "FluentResponse",
    "HtmlAborterException",
    "HttpStatus",
    "MediaType",
    "NotFound",
    "PendingHtml",
    "Response",
    "abort",
    "after_request",
    "before_request",
    "consumes",
    "cors",
    "delete",
    "development",
    "get",
    "handles",
    "html_abort",
    "login_required",
    "no_cors",
    "open_api_docs",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "register_controller",
    "register_exception_handler",
    "role_required",
    "socket",
    "werkzeug_path",
]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

#: PyJolt's ``Response``: the fluent response; ``Response[Model]`` as a return
#: annotation serializes and documents the body.
Response = FluentResponse

_ROUTES = "__dyne_controller_routes__"
_HOOK = "__dyne_controller_hook__"
_HANDLES = "__dyne_handles__"
_CONSUMES = "__dyne_consumes__"
_PRODUCES = "__dyne_produces__"
_DOCS = "__dyne_open_api_docs__"
_DEVELOPMENT = "__dyne_development__"
_LOGIN = "__dyne_controller_login__"

#: Phase of ``@before_request`` methods: after authentication, before input.
PHASE_CONTROLLER_BEFORE = PHASE_AUTH + 50


def _logger() -> logging.Logger:
    return logging.getLogger("dyne")


# -- Paths -------------------------------------------------------------------------------

_WERKZEUG = re.compile(r"<(?:([a-zA-Z_][a-zA-Z0-9_]*)(\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_WERKZEUG_CONVERTORS = {"int": "int", "string": "str", "str": "str", "path": "path",
                        "float": "float", "uuid": "uuid", "default": "str"}


def werkzeug_path(url_path: str) -> str:
    """``/users/<int:user_id>`` -> ``/users/{user_id:int}`` (``<string:x>``,
    ``<path:p>``, ``<float:x>``, ``<uuid:x>`` and ``<x>`` too); dyne's own
    ``{name:type}`` passes through unchanged."""

    def convert(found: re.Match[str]) -> str:
        kind, arguments, name = found.group(1), found.group(2), found.group(3)
        if arguments:
            raise ValueError(f"Path {url_path!r}: convertor arguments ({kind}{arguments}) are not "
                             "supported; use a dyne convertor (app.register_convertor)")
        if kind is None:
            return "{" + name + "}"
        converted = _WERKZEUG_CONVERTORS.get(kind)
        if converted is None:
            raise ValueError(f"Path {url_path!r}: unknown convertor <{kind}:...>; use int, string, "
                             "path, float or uuid (or dyne's {name:type})")
        return "{" + name + ("" if converted == "str" else ":" + converted) + "}"

    return _WERKZEUG.sub(convert, url_path)


def _join(base: str, url_path: str) -> str:
    base = base.rstrip("/")
    if url_path in ("", "/"):
        return base or "/"
    if not url_path.startswith("/"):
        raise ValueError(f"Controller paths start with '/', got {url_path!r}")
    return base + url_path


# -- Decorators --------------------------------------------------------------------------

def _check_tags(tags: Iterable[str] | None, where: str) -> list[str] | None:
    if tags is None:
        return None
    if isinstance(tags, str):
        raise TypeError(f"{where}(tags=...) takes a list of strings, not a string")
    checked = list(tags)
    if not all(isinstance(tag, str) for tag in checked):
        raise TypeError(f"{where}(tags=...) takes strings, got {checked!r}")
    return checked


def _check_path(url_path: Any, where: str) -> str:
    if not isinstance(url_path, str):
        raise TypeError(f"{where}() takes a URL path (a string), got {url_path!r}")
    return url_path


def path(url_path: str = "", open_api_spec: bool = True,
         tags: Iterable[str] | None = None) -> Callable[[C], C]:
    """The controller's URL prefix, whether its endpoints are in the OpenAPI
    document, and their tags (a method's own tags win)."""
    prefix = _check_path(url_path, "@path")
    tag_list = _check_tags(tags, "@path")

    def decorator(cls: C) -> C:
        if not (isinstance(cls, type) and issubclass(cls, Controller)):
            raise TypeError(f"@path decorates a Controller subclass, got {cls!r}")
        cls._controller_path = prefix
        cls._controller_open_api = bool(open_api_spec)
        cls._controller_tags = tag_list
        return cls

    return decorator


@dataclass(frozen=True)
class _RouteInfo:
    method: str  # "GET"... or "WEBSOCKET"
    path: str
    open_api_spec: bool
    tags: list[str] | None


def _method_decorator(method: str) -> Callable[..., Callable[[F], F]]:
    where = f"@{method.lower()}"

    def route(url_path: str, open_api_spec: bool = True,
              tags: Iterable[str] | None = None) -> Callable[[F], F]:
        info = _RouteInfo(method, _check_path(url_path, where), bool(open_api_spec),
                          _check_tags(tags, where))

        def decorator(func: F) -> F:
            if not callable(func) or isinstance(func, type):
                raise TypeError(f"{where} decorates a controller method, got {func!r}")
            routes = func.__dict__.setdefault(_ROUTES, [])
            routes.insert(0, info)
            return func

        return decorator

    route.__name__ = method.lower()
    route.__doc__ = (f"Answer {method} requests at ``url_path`` (under the controller's "
                     "``@path``) with this method.")
    return route


get = _method_decorator("GET")
post = _method_decorator("POST")
put = _method_decorator("PUT")
patch = _method_decorator("PATCH")
delete = _method_decorator("DELETE")


def socket(url_path: str) -> Callable[[F], F]:
    """A websocket endpoint at ``url_path``: ``async def handler(self, req)``,
    where ``req`` is the websocket (``req.accept()``, ``req.receive()``,
    ``req.res.send(...)``)."""
    info = _RouteInfo("WEBSOCKET", _check_path(url_path, "@socket"), False, None)

    def decorator(func: F) -> F:
        func.__dict__.setdefault(_ROUTES, []).insert(0, info)
        return func

    return decorator


def consumes(*media_types: MediaType | str) -> Callable[[F], F]:
    """The request body's accepted media types: another ``Content-Type`` is a
    ``415``. The body is decoded and validated into the method's parameter
    annotated with a pydantic model (invalid: ``422`` with
    ``{"detail": [{"loc", "msg", "type"}]}``), or given as ``str``/``bytes``
    to a parameter so annotated."""
    if not media_types:
        raise TypeError("@consumes needs at least one MediaType")
    accepted = tuple(str(MediaType(m) if not isinstance(m, MediaType) else m) for m in media_types)

    def decorator(func: F) -> F:
        setattr(func, _CONSUMES, accepted)
        return func

    return decorator


def produces(*media_types: MediaType | str) -> Callable[[F], F]:
    """The response's media type: set when the method left it unset (a
    warning is logged when it set another)."""
    if not media_types:
        raise TypeError("@produces needs at least one MediaType")
    produced = tuple(str(MediaType(m) if not isinstance(m, MediaType) else m) for m in media_types)

    def decorator(func: F) -> F:
        setattr(func, _PRODUCES, produced)
        return func

    return decorator


@dataclass(frozen=True)
class Descriptor:
    """A documented response of ``@open_api_docs``."""

    status: int | HTTPStatus = HTTPStatus.BAD_REQUEST
    description: str | None = None
    media_type: MediaType | str = MediaType.APPLICATION_JSON
    body: Any = None


def open_api_docs(*descriptors: Descriptor) -> Callable[[F], F]:
    """Document other responses of the endpoint (documentation only)."""
    for descriptor in descriptors:
        if not isinstance(descriptor, Descriptor):
            raise TypeError(f"@open_api_docs takes Descriptor(...) objects, got {descriptor!r}")

    def decorator(func: F) -> F:
        existing = getattr(func, _DOCS, ())
        setattr(func, _DOCS, (*descriptors, *existing))
        return func

    return decorator


def development(target: F) -> F:
    """On a controller class or method: unreachable (404) unless the app is in
    debug mode, and documented in OpenAPI only when the app was in debug mode
    when the controller was registered."""
    setattr(target, _DEVELOPMENT, True)
    return target


def before_request(func: F) -> F:
    """A controller method run before each of the controller's endpoints:
    ``(self, req)`` or ``(self, req, resp)``. Setting a status or a body
    answers the request. Several run in alphabetical order."""
    setattr(func, _HOOK, "before")
    return func


def after_request(func: F) -> F:
    """A controller method run after each endpoint answered: ``(self, res)``
    (the fluent response) or ``(self, req, resp)``."""
    setattr(func, _HOOK, "after")
    return func


def _add_login(target: Any, roles: list[Any] | None) -> None:
    # The target's own list (a class must not extend its base's).
    setattr(target, _LOGIN, [roles, *vars(target).get(_LOGIN, [])])


def login_required(target: F) -> F:
    """On a controller class (or method): every endpoint needs a logged-in
    user, checked by the app's ``dyne.ext.auth.LoginManager``."""
    _add_login(target, None)
    return target


def role_required(*roles: Any) -> Callable[[F], F]:
    """On a controller class (or method): every endpoint needs a logged-in
    user with one of ``roles`` (the app's ``LoginManager`` checks them)."""
    if not roles:
        raise TypeError("@role_required needs at least one role")

    def decorator(target: F) -> F:
        _add_login(target, list(roles))
        return target

    return decorator


def handles(*exceptions: type[BaseException]) -> Callable[[F], F]:
    """An ``ExceptionHandler`` method for these exception classes:
    ``async def handler(self, req, exc)`` returning ``req.response...``."""
    if not exceptions:
        raise TypeError("@handles needs at least one exception class")
    for exc in exceptions:
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise TypeError(f"@handles takes exception classes, got {exc!r}")

    def decorator(func: F) -> F:
        setattr(func, _HANDLES, (*exceptions, *getattr(func, _HANDLES, ())))
        return func

    return decorator


# -- Base classes ------------------------------------------------------------------------

class Controller:
    """Base class of controllers. One instance per app, created when the
    controller is registered; ``self.app`` is the application."""

    _controller_path: str = ""
    _controller_open_api: bool = True
    _controller_tags: list[str] | None = None

    def __init__(self, app: App) -> None:
        self.app = app


class ExceptionHandler:
    """Base class of exception-handler classes; ``self.app`` is the application."""

    def __init__(self, app: App) -> None:
        self.app = app


# -- Aborts ------------------------------------------------------------------------------

class CustomException(Exception):
    """A base for an application's own exceptions (PyJolt's name); handle
    them with ``@handles``."""


class BaseHttpException(HTTPException):
    """A base for exceptions that carry an HTTP status: ``status_code``
    (a class attribute, 500 by default, or given) and a ``message``."""

    status_code = 500

    def __init__(self, message: Any = None, status_code: int | None = None,
                 headers: Any = None) -> None:
        super().__init__(int(status_code if status_code is not None else type(self).status_code),
                         message, headers)
        self.message = self.detail


class NotFound(BaseHttpException):
    """404. ``@handles(NotFound)`` also answers the app's other 404s (an
    unknown URL, ``abort(404)``): it becomes the app's 404 handler."""

    status_code = 404


class AborterException(HTTPException):
    """Raised by ``abort``. Unhandled, it answers ``status_code`` with
    ``{"status": status, "message": msg, "data": data}``."""

    def __init__(self, msg: str, status_code: int = HTTPStatus.BAD_REQUEST, status: str = "error",
                 data: Any = None) -> None:
        super().__init__(int(status_code), {"status": status, "message": msg, "data": data})
        self.message = msg
        self.status = status
        self.data = data


class HtmlAborterException(HTTPException):
    """Raised by ``html_abort``: answered with the rendered template (in an
    app with controllers or exception-handler classes)."""

    def __init__(self, template: str, status_code: int = HTTPStatus.BAD_REQUEST, data: Any = None) -> None:
        super().__init__(int(status_code), f"{int(status_code)} {HTTPStatus(int(status_code)).phrase}")
        self.template = template
        self.data = data


def abort(msg: str, status_code: int = HTTPStatus.BAD_REQUEST, status: str = "error",
          data: Any = None) -> NoReturn:
    """PyJolt's quick abort: raise ``AborterException``. (``dyne.abort`` is
    dyne's ``abort(status_code, detail)``.)"""
    if not isinstance(msg, str):
        raise TypeError(f"abort() takes a message first (PyJolt's abort(msg=..., status_code=...)), "
                        f"got {msg!r}; for abort(status_code, detail) use dyne.abort")
    raise AborterException(msg, status_code=status_code, status=status, data=data)


def html_abort(template: str, status_code: int = HTTPStatus.BAD_REQUEST, data: Any = None) -> NoReturn:
    """PyJolt's HTML abort: answer with ``template`` rendered with ``data``
    (as ``data``, and its keys when it is a dict)."""
    raise HtmlAborterException(template, status_code=status_code, data=data)


# -- Registration ------------------------------------------------------------------------

def _resolve(target: Any, base: type, what: str) -> type:
    original = target
    if isinstance(target, str):
        module_name, sep, attribute = target.partition(":")
        if not sep or not module_name or not attribute:
            raise ValueError(f"{what} import strings look like 'package.module:Class', got {target!r}")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImportError(f"Cannot import {module_name!r} for {what} {original!r}: {exc}") from exc
        try:
            target = getattr(module, attribute)
        except AttributeError:
            raise ImportError(f"Module {module_name!r} has no {attribute!r} (from {what} "
                              f"{original!r})") from None
    if not (isinstance(target, type) and issubclass(target, base)):
        raise TypeError(f"{what} must be a {base.__module__}.{base.__name__} subclass (or an import "
                        f"string naming one), got {original!r}")
    return target


def _positional(func: Callable[..., Any]) -> list[inspect.Parameter]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in inspect.signature(func).parameters.values() if p.kind in kinds]


async def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if is_async_callable(func):
        return await func(*args, **kwargs)
    return await run_sync(func, *args, **kwargs)


def _apply_result(resp: DyneResponse, result: Any) -> None:
    """A handler's return value, unless it is the fluent response itself."""
    if result is not None and not isinstance(result, FluentResponse):
        resp.apply_return(result)


async def _install_fluent(req: Request, resp: DyneResponse, kwargs: dict[str, Any]) -> None:
    req.scope[FLUENT_KEY] = FluentResponse(resp)


def _install_request_properties(app: App) -> None:
    """``req.response``/``req.res``, ``req.route_parameters``,
    ``req.query_params`` and ``req.user``, for apps with controllers."""
    properties: dict[str, Callable[[Request], Any]] = {
        "response": fluent_for,
        "res": fluent_for,
        "route_parameters": lambda req: req.path_params,
        "query_params": lambda req: {key: req.params.get(key) for key in req.params},
        "user": lambda req: getattr(req.state, "user", None),
    }
    for name, getter in properties.items():
        if name not in app.request_properties:
            app.add_request_property(name, getter)


def _install_error_defaults(app: App) -> None:
    """PyJolt's answers for unhandled errors and HTML aborts (once per app)."""
    errors = app.errors
    if HtmlAborterException not in errors.exception_handlers:
        async def render_html_abort(req: Request, resp: DyneResponse, exc: BaseException) -> None:
            assert isinstance(exc, HtmlAborterException)
            data = exc.data
            context = dict(data) if isinstance(data, dict) else {}
            resp.status_code = exc.status_code
            resp.html = await app.template_async(exc.template, data=data, **context)

        errors.add(HtmlAborterException, render_html_abort)
    if 500 not in errors.status_handlers:
        async def internal_error(req: Request, resp: DyneResponse, exc: BaseException) -> None:
            if isinstance(exc, HTTPException):
                errors.default_body(resp, exc.status_code, exc.detail)
                return
            resp.media = {"status": "error", "message": "Internal server error"}
            resp.mimetype = "application/json"

        errors.add(500, internal_error)


def _copy_spec(source: EndpointSpec | None, target: EndpointSpec) -> None:
    if not source:
        return
    target.steps.extend(source.steps)
    target.after.extend(source.after)
    for key, value in source.meta.items():
        current = target.meta.get(key)
        if isinstance(current, list) and isinstance(value, list):
            target.meta[key] = [*current, *value]
        elif isinstance(current, dict) and isinstance(value, dict):
            target.meta[key] = {**current, **value}
        else:
            target.meta[key] = value


def _login_manager(app: App, cls: type) -> Any:
    from .ext.auth.session.manager import LoginManager

    for extension in app.extensions.values():
        if isinstance(extension, LoginManager):
            return extension
    raise TypeError(f"{cls.__name__} uses @login_required/@role_required, which need a "
                    "dyne.ext.auth.LoginManager bound to the app (LoginManager(app) or init_app) "
                    "before the controller is registered")


class _Endpoint:
    """What one controller method needs, worked out at registration: its form,
    the plan of its parameters (``dyne.injection``, as for function views),
    the ``@consumes`` body and the ``Response[Model]`` return annotation."""

    def __init__(self, controller: Controller, name: str, func: Callable[..., Any],
                 route_params: Mapping[str, Any], app: App, injected: Iterable[str] = (),
                 other_steps: bool = False) -> None:
        self.name = name
        self.func = func
        self.bound = getattr(controller, name)
        where = f"{type(controller).__name__}.{name}"
        params = _positional(func)[1:]  # without self
        if not params:
            raise TypeError(f"{where} must take the request: async def {name}(self, req, ...)")
        # The injection engine's reading of the annotations (one that does not
        # resolve is an ``_Unresolved``: neither a model nor the response).
        hints = signature_annotations(func, where)
        self.consumes: tuple[str, ...] | None = getattr(func, _CONSUMES, None)
        self.body_key: str | None = None
        self.body_type: Any = None
        #: The route's path parameters (names -> convertors).
        self.param_names = tuple(route_params)
        path_params = set(route_params)
        if self.consumes is not None:
            for parameter in [*params[1:], *(p for p in inspect.signature(func).parameters.values()
                                             if p.kind is inspect.Parameter.KEYWORD_ONLY)]:
                annotation = hints.get(parameter.name)
                if parameter.name not in path_params and (
                        is_model(annotation) or annotation in (str, bytes)):
                    self.body_key, self.body_type = parameter.name, annotation
                    break
            if self.body_key is None:
                raise TypeError(f"{where} has @consumes but no parameter annotated with a pydantic "
                                "model (or str / bytes) to receive the body (the annotation must "
                                "resolve at registration: define the model at module level)")
        second = params[1] if len(params) > 1 else None
        #: dyne's form (self, req, resp, ...) or PyJolt's (self, req, ...): the
        #: second parameter is the response unless the route, the body or its
        #: annotation (a query parameter...) claims it.
        second_type = hints.get(second.name, inspect.Parameter.empty) if second is not None else None
        self.takes_resp = (second is not None and second.name not in path_params
                           and second.name != self.body_key
                           and (second_type is inspect.Parameter.empty
                                or (isinstance(second_type, type)
                                    and issubclass(second_type, (DyneResponseClass, FluentResponse)))))
        returned = hints.get("return")
        self.response_model: Any = None
        if typing.get_origin(returned) is FluentResponse:
            (self.response_model,) = typing.get_args(returned)
        raw = self.body_type in (str, bytes)
        #: The parameters' plan: path, query, header... values, ``Depends``, the body.
        self.plan = compile_signature(
            self.bound, route_params, skip=2 if self.takes_resp else 1,
            injected={*injected, *((self.body_key,) if raw and self.body_key else ())},
            other_steps=other_steps, name=where,
            body_validator=_consumes_validator(app) if self.consumes is not None else None)
        if self.plan is not None:
            self.plan.output = None  # Response[Model] is the controllers' return annotation

    def view(self, produce: _Produces | None = None) -> Callable[..., Any]:
        """The route's view: installs ``req.response``, calls the method in
        its form, applies a plain return value, then ``@produces``.

        Everything is chosen here, once: the method's form, whether the route
        has path parameters, ``@produces``. An async method's view also
        records its own handler, which the route's pipeline calls instead:
        the method called from the pipeline's coroutine, as a function view is."""
        bound, takes_resp = self.bound, self.takes_resp
        is_async = is_async_callable(bound)
        allowed, check = (produce.allowed, produce) if produce is not None else (None, None)

        async def view(req: Request, resp: DyneResponse, **kwargs: Any) -> None:
            req.scope[FLUENT_KEY] = FluentResponse(resp)
            args = (req, resp) if takes_resp else (req,)
            if is_async:
                result = await bound(*args, **kwargs)
            else:
                result = await run_sync(bound, *args, **kwargs)
            if result is not None and not isinstance(result, FluentResponse):
                resp.apply_return(result)
            if allowed is not None and resp._mimetype not in allowed:
                check(resp)  # type: ignore[misc]

        view.__name__ = self.name
        view.__qualname__ = self.func.__qualname__
        view.__doc__ = self.func.__doc__
        view.__module__ = self.func.__module__
        if is_async:
            def handler_for(steps: bool) -> Callable[..., Any]:
                # One handler serves with and without steps: it passes on
                # whatever keyword arguments it is given.
                return self._handler(allowed, check)

            setattr(view, DIRECT_HANDLER_ATTRIBUTE, (view, handler_for))
        return view

    def _handler(self, allowed: frozenset[str] | None,
                 check: Callable[[DyneResponse], None] | None) -> Callable[..., Any]:
        """``handler(req, resp, kwargs)`` calling the (async) method directly
        (``endpoints.DIRECT_HANDLER_ATTRIBUTE``), written out for the two forms
        (with and without ``resp``) so that no argument tuple is built."""
        bound = self.bound
        fluent = FluentResponse
        key = FLUENT_KEY
        # FluentResponse(resp), without the call of its __init__.
        new = object.__new__

        if self.takes_resp:
            async def handler(req: Request, resp: DyneResponse, params: dict[str, Any]) -> None:
                req.scope[key] = wrapper = new(fluent)
                wrapper.resp = resp
                result = await bound(req, resp, **params)
                if result is not None and not isinstance(result, fluent):
                    resp.apply_return(result)
                if allowed is not None and resp._mimetype not in allowed:
                    check(resp)  # type: ignore[misc]
        else:
            async def handler(req: Request, resp: DyneResponse, params: dict[str, Any]) -> None:
                req.scope[key] = wrapper = new(fluent)
                wrapper.resp = resp
                result = await bound(req, **params)
                if result is not None and not isinstance(result, fluent):
                    resp.apply_return(result)
                if allowed is not None and resp._mimetype not in allowed:
                    check(resp)  # type: ignore[misc]

        handler.__name__ = self.name
        handler.__qualname__ = self.func.__qualname__
        return handler

    def input_step(self) -> Callable[..., Any] | None:
        """The step filling the method's parameters: ``@consumes``' media-type
        check (415) and raw ``str``/``bytes`` body, then the plan."""
        plan = self.plan
        resolve = plan.request_step() if plan is not None and plan.arguments else None
        if self.consumes is None:
            return resolve
        accepted = frozenset(self.consumes)
        expected = ", ".join(self.consumes)
        key, kind = self.body_key, self.body_type

        # req.mimetype by the Content-Type header as sent, for the few an API gets.
        mimetypes: dict[bytes | None, str] = {}

        async def consume(req: Request, resp: DyneResponse, kwargs: dict[str, Any]) -> None:
            raw = req.raw_header(b"content-type")
            mimetype = mimetypes.get(raw)
            if mimetype is None:
                mimetype = req.mimetype
                if len(mimetypes) < 64:
                    mimetypes[raw] = mimetype
            if mimetype not in accepted:
                raise HTTPException(415, f"Expected a {expected} body, got {mimetype or 'none'}")
            if kind is bytes:
                kwargs[key] = await req.content  # type: ignore[index]
            elif kind is str:
                kwargs[key] = await req.text  # type: ignore[index]
            if resolve is not None:
                await resolve(req, resp, kwargs)

        return consume

    def inputs(self) -> list[Any]:
        """The plan's inputs for OpenAPI; a ``@consumes`` body is documented
        by ``meta["io.request_model"]`` (with its 415 and 422)."""
        if self.plan is None:
            return []
        return [item for item in self.plan.inputs
                if not (self.consumes is not None and item.location == "media")]


def _consumes_validator(app: App) -> Callable[[Any], Callable[[Any], Any]]:
    """``@consumes``' body validation: invalid is a 422 with
    ``{"detail": [{"loc", "msg", "type"}]}``, or the ``ValidationError`` itself
    when the app has a handler for it (an exception-handler class)."""

    def validator(annotation: Any) -> Callable[[Any], Any]:
        from pydantic import ValidationError

        from .ext.io.pydantic.adapter import ADAPTER

        validate = ADAPTER.type_adapter(annotation).validate_python

        def validate_body(data: Any) -> Any:
            try:
                return validate(data)
            except ValidationError as exc:
                if app.errors.for_exception(exc) is not None:
                    raise  # an exception handler (class) answers it
                details = [{"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
                           for error in exc.errors(include_url=False)]
                raise HTTPException(422, {"detail": details}) from None

        return validate_body

    return validator


def _hook_step(bound: Callable[..., Any], kind: str) -> Any:
    count = len(_positional(bound))
    if count not in (1, 2):
        raise TypeError(f"@{kind}_request method {bound.__qualname__} must take (self, "
                        f"{'req' if kind == 'before' else 'res'}) or (self, req, resp)")
    if kind == "before":
        async def before(req: Request, resp: DyneResponse, kwargs: dict[str, Any]) -> None:
            await _call(bound, *((req,) if count == 1 else (req, resp)))

        return before

    async def after(req: Request, resp: DyneResponse) -> None:
        await _call(bound, *((fluent_for(req),) if count == 1 else (req, resp)))

    return after


class _Produces:
    """``@produces``: ``produces(resp)`` after the method ran. A response
    whose media type is one of ``allowed`` needs nothing (the views check
    that first, without a call)."""

    __slots__ = ("allowed", "primary", "produced", "where")

    def __init__(self, produced: tuple[str, ...], where: str) -> None:
        self.produced = produced
        self.primary = produced[0]
        self.allowed = frozenset(produced)
        self.where = where

    def __call__(self, resp: DyneResponse) -> None:
        if not resp.is_set or resp.status_code == 204:
            return
        mimetype = resp.mimetype
        if mimetype is None:
            if self.primary != MediaType.NO_CONTENT:
                resp.mimetype = self.primary
        elif mimetype not in self.allowed:
            _logger().warning("%s produced %s, not the declared %s", self.where, mimetype,
                              ", ".join(self.produced))


def _producer(produced: tuple[str, ...], where: str) -> _Produces:
    return _Produces(produced, where)


def _serialize_step(model: Any) -> Any:
    from .ext.io.pydantic.adapter import ADAPTER

    dump = ADAPTER.dumper(model)

    async def serialize(req: Request, resp: DyneResponse) -> None:
        media = resp.media
        if media is not None:
            mimetype = resp._mimetype
            resp.media = dump(media)
            resp._mimetype = mimetype

    return serialize


def _development_step(app: App) -> Any:
    async def only_in_debug(req: Request, resp: DyneResponse, kwargs: dict[str, Any]) -> None:
        if not app.debug:
            raise HTTPException(404)

    return only_in_debug


def _class_attribute(cls: type, name: str) -> Any:
    return getattr(cls, name, None)


def _members(cls: type) -> list[tuple[str, Any]]:
    """Functions of ``cls`` and its bases, in definition order (subclasses override)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if inspect.isfunction(value):
                found[name] = value
    return list(found.items())


def register_controller(app: App, controller: type[Any] | str) -> list[BaseRoute]:
    """``app.add_controller``: register every endpoint of a controller."""
    cls = typing.cast("type[Controller]", _resolve(controller, Controller, "add_controller()"))
    registered: set[type] = app.__dict__.setdefault("_dyne_controllers", set())
    if cls in registered:
        raise ValueError(f"Controller {cls.__name__} is already registered on this app")
    instance = cls(app)
    if getattr(instance, "app", None) is not app:
        raise TypeError(f"{cls.__name__}.__init__ must call super().__init__(app)")
    members = _members(cls)
    hooks = sorted((name, func) for name, func in members if getattr(func, _HOOK, None))
    endpoints = [(name, func) for name, func in members if func.__dict__.get(_ROUTES)]
    if not endpoints:
        raise TypeError(f"Controller {cls.__name__} has no endpoints: decorate methods with "
                        "@get/@post/@put/@patch/@delete or @socket")
    _install_request_properties(app)
    _install_error_defaults(app)

    base_path = werkzeug_path(cls._controller_path)
    class_specs = [vars(klass).get(SPEC_ATTRIBUTE) for klass in reversed(cls.__mro__)]
    class_development = bool(_class_attribute(cls, _DEVELOPMENT))
    class_logins = [entry for klass in reversed(cls.__mro__) for entry in vars(klass).get(_LOGIN, [])]
    before_steps = [_hook_step(getattr(instance, name), "before")
                    for name, func in hooks if getattr(func, _HOOK) == "before"]
    after_steps = [_hook_step(getattr(instance, name), "after")
                   for name, func in hooks if getattr(func, _HOOK) == "after"]
    manager = None
    routes: list[BaseRoute] = []
    for name, func in endpoints:
        infos: list[_RouteInfo] = func.__dict__[_ROUTES]
        route_name = f"{cls.__name__}.{name}"
        sockets = [info for info in infos if info.method == "WEBSOCKET"]
        http = [info for info in infos if info.method != "WEBSOCKET"]
        if sockets and http:
            raise TypeError(f"{route_name} is both a websocket (@socket) and an HTTP endpoint")
        if sockets:
            routes.extend(_register_socket(app, instance, cls, name, func, base_path, sockets,
                                           class_specs, class_logins))
            continue
        by_path: dict[str, list[_RouteInfo]] = {}
        for info in http:
            by_path.setdefault(_join(base_path, werkzeug_path(info.path)), []).append(info)
        for number, (full_path, group) in enumerate(by_path.items()):
            own_spec = get_endpoint_spec(func, False)
            endpoint = _Endpoint(
                instance, name, func, PathTemplate(full_path, app.router.convertors).convertors,
                app, injected={item.key for item in own_spec.meta.get("io.inputs", ())}
                if own_spec is not None else (),
                other_steps=bool(own_spec is not None and own_spec.steps) or bool(before_steps))
            produced = getattr(func, _PRODUCES, None)
            view = endpoint.view(_producer(produced, route_name) if produced is not None else None)
            spec = EndpointSpec()
            setattr(view, SPEC_ATTRIBUTE, spec)
            if before_steps:  # they may use req.response (the view installs it otherwise)
                spec.add_step(_install_fluent, PHASE_BEFORE - 10)
            development_only = class_development or bool(getattr(func, _DEVELOPMENT, False))
            if development_only:
                spec.add_step(_development_step(app), PHASE_BEFORE - 5)
            for kind_step in before_steps:
                spec.add_step(kind_step, PHASE_CONTROLLER_BEFORE)
            _copy_spec(get_endpoint_spec(func, False), spec)
            input_step = endpoint.input_step()
            if input_step is not None:
                spec.add_step(input_step, PHASE_INPUT)
                inputs = endpoint.inputs()
                if inputs:
                    spec.meta.setdefault("io.inputs", []).extend(inputs)
            if endpoint.consumes is not None and is_model(endpoint.body_type):
                spec.meta["io.request_model"] = endpoint.body_type
            if endpoint.response_model is not None:
                spec.add_after(_serialize_step(endpoint.response_model), PHASE_OUTPUT)
                spec.meta["io.response_model"] = endpoint.response_model
            for after_step in after_steps:
                spec.add_after(after_step, PHASE_OUTPUT + 2)
            _document(spec, func, group, cls)
            logins = [*class_logins, *func.__dict__.get(_LOGIN, [])]
            if logins:
                manager = manager or _login_manager(app, cls)
                for roles in reversed(logins):
                    if roles is None:
                        manager.login_required(view)
                    else:
                        manager.role_required(*roles)(view)
            include = (cls._controller_open_api and all(info.open_api_spec for info in group)
                       and (app.debug or not development_only))
            route = app.add_route(full_path, view, methods=[info.method for info in group],
                                  name=route_name if number == 0 else f"{route_name}_{number + 1}",
                                  include_in_schema=include)
            own = getattr(route, "spec", None)
            if own is not None:
                for class_spec in class_specs:
                    _copy_spec(class_spec, own)
            routes.append(route)
    registered.add(cls)
    return routes


def _document(spec: EndpointSpec, func: Callable[..., Any], group: list[_RouteInfo], cls: type) -> None:
    tags = next((info.tags for info in group if info.tags is not None), None)
    if tags is None:
        tags = cls._controller_tags  # type: ignore[attr-defined]
    if tags is not None:
        openapi = dict(spec.meta.get("openapi", {}))
        openapi.setdefault("tags", list(tags))
        spec.meta["openapi"] = openapi
    descriptors: tuple[Descriptor, ...] = getattr(func, _DOCS, ())
    if descriptors:
        from .ext.io.core import ExpectMeta

        documented = dict(spec.meta.get("io.expect", {}))
        for descriptor in descriptors:
            documented[int(descriptor.status)] = ExpectMeta(
                schema=descriptor.body, description=descriptor.description, library="pydantic")
        spec.meta["io.expect"] = documented


class _SocketRequest:
    """The websocket, as a controller's socket handler sees it: every
    ``WebSocket`` method, plus ``res``/``response`` (the same websocket, for
    ``req.res.send(...)``) and ``route_parameters``."""

    __slots__ = ("_ws",)

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    @property
    def res(self) -> Any:
        return self._ws

    response = res

    @property
    def route_parameters(self) -> dict[str, Any]:
        return dict(self._ws.path_params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


def _register_socket(app: App, instance: Controller, cls: type, name: str, func: Callable[..., Any],
                     base_path: str, infos: list[_RouteInfo], class_specs: list[EndpointSpec | None],
                     class_logins: list[Any]) -> list[BaseRoute]:
    if any(spec and spec.steps for spec in class_specs) or class_logins or func.__dict__.get(_LOGIN):
        raise TypeError(f"{cls.__name__}.{name}: websocket endpoints do not run the controller's "
                        "authentication steps; check credentials inside the handler, or move the "
                        "websocket to a controller without class-level authentication")
    bound = getattr(instance, name)

    async def socket_view(ws: Any, **params: Any) -> None:
        await _call(bound, _SocketRequest(ws), **params)

    socket_view.__doc__ = func.__doc__
    routes = []
    for number, info in enumerate(infos):
        route_name = f"{cls.__name__}.{name}" if number == 0 else f"{cls.__name__}.{name}_{number + 1}"
        routes.append(app.add_route(_join(base_path, werkzeug_path(info.path)), socket_view,
                                    websocket=True, name=route_name))
    return routes


def register_exception_handler(app: App, handler: type[Any] | str) -> ExceptionHandler:
    """``app.add_exception_handler``: each ``@handles`` method becomes the
    app's error handler for its exception classes."""
    cls = _resolve(handler, ExceptionHandler, "add_exception_handler()")
    instance = cls(app)
    methods = [(name, func) for name, func in _members(cls) if getattr(func, _HANDLES, None)]
    if not methods:
        raise TypeError(f"Exception handler {cls.__name__} has no @handles(...) methods")
    _install_request_properties(app)
    _install_error_defaults(app)
    for name, func in methods:
        bound = getattr(instance, name)
        count = len(_positional(bound))
        if count not in (2, 3):
            raise TypeError(f"{cls.__name__}.{name} must take (self, req, exc) or (self, req, resp, exc)")
        for exc_type in getattr(func, _HANDLES):
            handle = _error_handler(bound, count == 3)
            app.errors.add(exc_type, handle)
            if exc_type is NotFound:
                app.errors.add(404, handle)  # every 404, an unknown URL included
    return instance  # type: ignore[no-any-return]


def _error_handler(bound: Callable[..., Any], takes_resp: bool) -> Callable[..., Any]:
    async def handle(req: Request, resp: DyneResponse, exc: BaseException) -> None:
        req.scope[FLUENT_KEY] = FluentResponse(resp)
        args = (req, resp, exc) if takes_resp else (req, exc)
        _apply_result(resp, await _call(bound, *args))

    return handle
