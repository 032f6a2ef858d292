"""``dyne.App``: the application.

The app composes the pieces, each in its own module: configuration
(``config``), routes (``routing``), per-route pipelines (``endpoints``),
requests and responses, error handlers, lifecycle events, background tasks and
the middleware stack. It is an ASGI 3 application::

    import dyne

    app = dyne.App()

    @app.route("/hello/{who}")
    async def hello(req, resp, *, who):
        resp.media = {"hello": who}

One request goes: middleware stack (built on first use) -> ``_handle_http`` ->
app-wide before-hooks -> ``Router.match`` -> the route's compiled pipeline
(route hooks, extension steps, the view, after steps) -> error handling ->
after-request hooks -> ``Response.render`` -> ASGI ``send``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .background import BackgroundQueue
from .compat import AppCompat
from .concurrency import is_async_callable, run_sync
from .config import Config
from .datastructures import State
from .endpoints import (
    apply_route_options,
    check_view_signature,
    compile_route,
    get_endpoint_spec,
    hook_step,
)
from .exceptions import ClientDisconnect, HTTPException
from .request import Request
from .response import Response
from .routing import (
    BaseRoute,
    Route,
    Router,
    RouteShortcuts,
    WebSocketRoute,
    endpoint_name,
    route_path,
)

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from logging import Logger
    from pathlib import Path

    from .groups import RouteGroup
    from .mounts import Mount
    from .sessions import SessionBackend
    from .templates import Templates
    from .testing import TestClient
    from .types import Receive, Scope, Send

__all__ = ["App"]


def _logger() -> Logger:
    import logging

    return logging.getLogger("dyne")


F = TypeVar("F", bound=Callable[..., Any])
ErrorHandler = Callable[[Request, Response, BaseException], Any]

#: Default ``max_body_size``: request bodies larger than this are refused with 413.
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
_NO_KWARGS: dict[str, Any] = {}


def _check_static_route(route: str) -> str:
    if not isinstance(route, str) or not route.startswith("/") or not route.rstrip("/"):
        raise ValueError(f"static_route must be a path prefix such as '/static', got {route!r}")
    return route.rstrip("/")


def _check_error_key(key: Any) -> None:
    if isinstance(key, int) and not isinstance(key, bool):
        if not 400 <= key <= 599:
            raise ValueError(f"Error handlers are for status codes 400-599, got {key}")
    elif not (isinstance(key, type) and issubclass(key, BaseException)):
        raise TypeError(f"error_handler() takes a status code or an exception class, got {key!r}")


async def _run_websocket_hooks(hooks: Iterable[Callable[..., Any]], ws: Any) -> bool:
    """Run websocket before-hooks in order; ``False`` once one has closed the
    connection (the endpoint must not run then)."""
    from starlette.websockets import WebSocketState

    for hook in hooks:
        if is_async_callable(hook):
            await hook(ws)
        else:
            await run_sync(hook, ws)
        if ws.application_state == WebSocketState.DISCONNECTED:
            return False
    return True


class App(RouteShortcuts, AppCompat):
    """A dyne application.

    :param debug: show tracebacks instead of hiding them, and re-raise unhandled
        errors. Defaults to the ``DEBUG`` config value (``False`` when unset).
    :param secret_key: signs the session cookie. Defaults to the ``SECRET_KEY``
        config value; without one, a random key is made per process (sessions
        then do not survive a restart or span workers) and a warning is logged.
    :param env_file: a dotenv file to load instead of ``./.env``.
    :param env_prefix: prefix for environment lookups (``DYNE_`` -> ``DYNE_DEBUG``).
    :param encoding: encoding of the env file.
    :param lifespan: ``lifespan(app)`` returning an async context manager entered
        at start-up and exited at shutdown (an async generator function works
        too). A mapping it yields is set on ``app.state``.
    :param max_body_size: largest request body accepted, in bytes (413 beyond);
        ``None`` for no limit.
    :param problem_details: render HTTP errors as RFC 9457
        ``application/problem+json`` instead of plain text.
    :param session_backend: where ``req.session`` lives; a signed cookie by default.
    :param cors: answer cross-origin requests as ``cors_params`` allow (restrictive
        defaults: no origin, ``GET`` only, no extra headers, no credentials,
        ``max_age`` 60).
    :param cors_params: ``allow_origins``, ``allow_origin_regex``, ``allow_methods``,
        ``allow_headers``, ``allow_credentials``, ``expose_headers``, ``max_age``.
    :param enable_hsts: redirect ``http://`` to ``https://`` and send
        ``Strict-Transport-Security`` on HTTPS responses.
    :param allowed_hosts: host names the app answers (``*.example.com`` wildcards,
        ``*`` for any); other ``Host`` headers get a 400. Default: any host.
    :param gzip: compress responses of 500 bytes or more for clients that accept gzip.
    :param static_dir: directory served under ``static_route`` (when it exists);
        ``None`` serves no static files.
    :param static_route: URL prefix of the static files; ``None``: ``/`` and
        the name of ``static_dir`` (``/static``).
    :param templates_dir: where ``app.template`` looks for Jinja2 templates.
    :param environ: a mapping looked up instead of ``os.environ`` by ``app.config``.
    :param auto_escape: accepted for Dyne 2.0.5 code; HTML templates are always
        escaped.
    """

    def __init__(
        self,
        *,
        debug: bool | None = None,
        secret_key: str | None = None,
        env_file: str | os.PathLike[str] | None = None,
        env_prefix: str = "",
        encoding: str = "utf-8",
        lifespan: Callable[[App], Any] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        problem_details: bool = False,
        session_backend: SessionBackend | None = None,
        cors: bool = False,
        cors_params: Mapping[str, Any] | None = None,
        enable_hsts: bool = False,
        allowed_hosts: Iterable[str] | None = None,
        gzip: bool = False,
        static_dir: str | os.PathLike[str] | None = "static",
        static_route: str | None = "/static",
        templates_dir: str | os.PathLike[str] = "templates",
        environ: Mapping[str, str] | None = None,
        auto_escape: bool = True,
    ) -> None:
        from pathlib import Path

        from .middleware import check_allowed_hosts, cors_options

        self.config = Config(env_file=env_file, env_prefix=env_prefix, encoding=encoding,
                             environ=environ)
        self.auto_escape = auto_escape
        if static_route is None:  # Dyne 2.0.5: the static directory's name
            static_route = "/" + (Path(static_dir).name if static_dir is not None else "static")
        self.cors = cors
        self.cors_params = cors_options(cors_params)
        self.enable_hsts = enable_hsts
        self.allowed_hosts = check_allowed_hosts(allowed_hosts)
        self.gzip = gzip
        self.static_dir = None if static_dir is None else Path(static_dir).absolute()
        self.static_route = _check_static_route(static_route)
        self.templates_dir = Path(templates_dir).absolute()
        self._templates: Templates | None = None
        self._mounts: list[Mount] = []
        self._spa_prefixes: list[str] = []
        self._debug = debug
        self._secret_key = secret_key
        self.max_body_size = max_body_size
        self.problem_details = problem_details
        self.router = Router()
        self.router.app = self
        self.state = State()
        self.background = BackgroundQueue()
        #: Extensions register themselves here by name (``app.extensions["db"]``).
        self.extensions: dict[str, Any] = {}
        #: Extra ``req.<name>`` attributes: name -> ``getter(req)``.
        self.request_properties: dict[str, Callable[[Request], Any]] = {}
        self._session_backend = session_backend
        self._status_handlers: dict[int, ErrorHandler] = {}
        self._exception_handlers: dict[type[BaseException], ErrorHandler] = {}
        self._before_http: list[Callable[..., Any]] = []
        self._before_ws: list[Callable[..., Any]] = []
        self._after_http: list[Callable[..., Any]] = []
        self._teardown: list[Callable[..., Any]] = []
        self._startup: list[Callable[[], Any]] = []
        self._shutdown: list[Callable[[], Any]] = []
        self._lifespan = lifespan
        self._middleware: list[tuple[Callable[..., Any], dict[str, Any]]] = []
        self._stack: Callable[..., Any] | None = None
        self._client: TestClient | None = None

    @property
    def debug(self) -> bool:
        """Debug mode: the ``debug=`` argument, else the ``DEBUG`` config value."""
        if self._debug is not None:
            return self._debug
        return bool(self.config.get("DEBUG", default=False, cast=bool))

    @debug.setter
    def debug(self, value: bool) -> None:
        self._debug = bool(value)

    @property
    def secret_key(self) -> str | None:
        """The ``secret_key=`` argument, else the ``SECRET_KEY`` config value."""
        return self._secret_key or self.config.get("SECRET_KEY")

    @secret_key.setter
    def secret_key(self, value: str | None) -> None:
        self._secret_key = value

    # -- routing -------------------------------------------------------------------

    def route(self, path: str | None = None, *, methods: Iterable[str] | str | None = None,
              websocket: bool = False, before_request: Any = False, name: str | None = None,
              before: Any = None, **options: Any) -> Callable[[F], F]:
        """Register a view for ``path``.

        ``methods`` limits the route to those HTTP methods (405 otherwise); by
        default it answers every standard method. ``websocket=True`` makes it a
        websocket route. ``before_request=True`` registers the function as a
        hook run before every request (``path`` is then not needed); a callable
        or a list of them as ``before_request`` or ``before`` runs only before
        this route. ``name`` is the name for ``url_for`` (default: the
        function's name). Other keyword options go to extensions
        (``request_model=``, ``response_model=``).
        """

        def decorator(endpoint: F) -> F:
            if before_request is True:
                if websocket:
                    self._before_ws.append(endpoint)
                else:
                    self._before_http.append(hook_step(endpoint))
                return endpoint
            if path is None:
                raise TypeError("@app.route() needs a path (or before_request=True)")
            route_hooks = before if before is not None else before_request or None
            self.add_route(path, endpoint, methods=methods, websocket=websocket, name=name,
                           before=route_hooks, **options)
            return endpoint

        return decorator

    def add_route(self, path: str, endpoint: Callable[..., Any] | None = None, *,
                  methods: Iterable[str] | str | None = None, websocket: bool = False,
                  name: str | None = None, before: Any = None, static: bool = False,
                  **options: Any) -> BaseRoute:
        """Register ``endpoint`` (a function, a class-based view or a view object)
        at ``path``; see ``route`` for the options. Returns the route.

        ``static=True`` (without an endpoint) serves ``index.html`` from
        ``static_dir`` at ``path`` and for every GET under ``path`` that no
        route answers: the single-page-app fallback."""
        if static:
            if endpoint is not None:
                raise TypeError("add_route(path, static=True) serves static_dir/index.html; "
                                "give it no endpoint")
            return self._add_static_index(path, name=name)
        if endpoint is None:
            raise TypeError(f"add_route() needs a view for {path!r}")
        if not callable(endpoint) and not any(a.startswith("on_") for a in dir(type(endpoint))):
            raise TypeError(f"add_route() needs a view (a function, a class or an object with "
                            f"on_<method> handlers) for {path!r}, got {endpoint!r}")
        route: BaseRoute
        if websocket:
            if methods is not None or options:
                raise TypeError("websocket routes take no methods= or route options")
            declared = get_endpoint_spec(endpoint, False)
            if declared is not None and (declared.steps or declared.after):
                # Pipelines are for HTTP: refusing beats silently skipping a
                # step such as @authenticate on a websocket.
                raise TypeError(f"{endpoint_name(endpoint)!r} declares request steps (such as "
                                "@authenticate or @input) that do not run for websocket routes; "
                                "check the websocket's credentials inside the handler")
            route = WebSocketRoute(path, endpoint, name=name)
        else:
            hooks = [] if before is None else [before] if callable(before) else list(before)
            route = Route(path, endpoint, methods=methods, name=name, before=hooks)
            self._check_route(route)
            if options:
                apply_route_options(route, options)
        return self.router.add(route)

    def _check_route(self, route: Route) -> None:
        if route.is_class or route.is_view_object:
            for attr in dir(route.endpoint):
                if attr.startswith("on_") and callable(getattr(route.endpoint, attr)):
                    check_view_signature(getattr(route.endpoint, attr), route.param_names,
                                         route.path, skip_self=route.is_class)
        else:
            check_view_signature(route.endpoint, route.param_names, route.path)

    def _add_static_index(self, path: str, name: str | None) -> BaseRoute:
        if self.static_dir is None:
            raise ValueError("add_route(..., static=True) needs a static_dir")
        index = self.static_dir / "index.html"

        async def static_index(req: Request, resp: Response) -> None:
            resp.file(index)

        route = self.add_route(path, static_index, methods=["GET"], name=name or "static_index")
        prefix = path.rstrip("/")
        if prefix not in self._spa_prefixes:
            self._spa_prefixes.append(prefix)
            self._spa_prefixes.sort(key=len, reverse=True)
        return route

    def _spa_index(self, method: str, path: str) -> Path | None:
        """The ``index.html`` to answer an unrouted ``path`` with, if a
        ``static=True`` route covers it (GET and HEAD only, never under
        ``static_route``)."""
        if method not in ("GET", "HEAD") or self.static_dir is None:
            return None
        static_route = self.static_route
        if path == static_route or path.startswith(static_route + "/"):
            return None
        for prefix in self._spa_prefixes:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return self.static_dir / "index.html"
        return None

    # -- groups and mounts ---------------------------------------------------------

    def group(self, prefix: str, **options: Any) -> RouteGroup:
        """A ``RouteGroup`` whose routes are registered on this app under ``prefix``:
        ``v1 = app.group("/v1")``, then ``@v1.route("/users")``. Its hooks run
        only for its routes. ``options`` are those of ``RouteGroup``."""
        from .groups import RouteGroup

        group = RouteGroup(prefix, **options)
        self.include_router(group)
        return group

    def include_router(self, group: RouteGroup, *, prefix: str = "") -> None:
        """Register the routes of a standalone ``RouteGroup`` under ``prefix``
        (added to the group's own prefix). Routes added to the group later are
        registered too."""
        from .groups import RouteGroup

        if not isinstance(group, RouteGroup):
            raise TypeError(f"include_router() takes a dyne.RouteGroup, got {group!r}")
        group._attach(self, prefix)

    def mount(self, path: str, app: Any, *, name: str | None = None,
              wsgi: bool | None = None) -> Mount:
        """Serve another application under ``path``: any ASGI app (Starlette,
        FastAPI, another dyne app) or WSGI app (Flask, Django), detected by
        its signature (``wsgi=`` forces one). Requests to ``path`` and below go
        to it with ``root_path`` extended by ``path``; mounts take precedence
        over routes under their prefix."""
        from .mounts import Mount

        mount = Mount(path, app, name=name, wsgi=wsgi)
        if any(existing.prefix == mount.prefix for existing in self._mounts):
            raise ValueError(f"An application is already mounted at {mount.prefix!r}")
        self._mounts.append(mount)
        self._mounts.sort(key=lambda m: len(m.prefix), reverse=True)
        return mount

    @property
    def mounts(self) -> list[Mount]:
        """The mounted applications, longest prefix first."""
        return list(self._mounts)

    def _install_static_files(self) -> None:
        """Mount ``static_dir`` at ``static_route`` if the directory exists and
        nothing else is mounted there (done once, when serving starts)."""
        directory = self.static_dir
        if directory is None or not directory.is_dir():
            return
        if any(m.prefix == self.static_route for m in self._mounts):
            return
        from .staticfiles import StaticFiles

        self.mount(self.static_route, StaticFiles(directory=directory), name="static")

    # -- templates -------------------------------------------------------------------

    @property
    def templates(self) -> Templates:
        """The app's ``dyne.templates.Templates`` (Jinja2, from ``templates_dir``),
        with ``url_for`` available in every template."""
        if self._templates is None:
            from .templates import Templates

            self._templates = Templates(directory=self.templates_dir,
                                        context={"url_for": self.url_for})
        return self._templates

    def template(self, name: str, /, *args: Any, **kwargs: Any) -> str:
        """Render the template file ``name`` from ``templates_dir``:
        ``resp.html = app.template("hello.html", name="Ada")``."""
        return self.templates.env.get_template(name).render(*args, **kwargs)

    def template_string(self, source: str, /, *args: Any, **kwargs: Any) -> str:
        """Render a template given as a string (HTML-escaped)."""
        return self.templates.env.from_string(source).render(*args, **kwargs)

    async def template_async(self, name: str, /, *args: Any, **kwargs: Any) -> str:
        """Render ``name`` in Jinja2's async mode (templates may await coroutines)."""
        return await self.templates.render_async(name, *args, **kwargs)

    async def template_string_async(self, source: str, /, *args: Any, **kwargs: Any) -> str:
        """Render a template string in Jinja2's async mode."""
        return await self.templates.render_string_async(source, *args, **kwargs)

    def url_for(self, endpoint: Any, **params: Any) -> str:
        """The URL path of a route, given its view or name, with ``params``
        percent-encoded into it (unused ones become the query string).
        Raises ``dyne.exceptions.NoRouteFound`` for an unknown endpoint."""
        return self.router.url_for(endpoint, **params)

    @property
    def routes(self) -> list[BaseRoute]:
        return list(self.router.routes)

    # -- hooks -----------------------------------------------------------------------

    def before_request(self, func: F | None = None, *, websocket: bool = False) -> Any:
        """Register a hook run before every request: ``(req, resp)``, or
        ``(ws)`` with ``websocket=True``. Setting a status or a body in it
        answers the request without running the view."""

        def register(hook: F) -> F:
            if websocket:
                self._before_ws.append(hook)
            else:
                self._before_http.append(hook_step(hook))
            return hook

        return register(func) if func is not None else register

    def after_request(self, func: F | None = None) -> Any:
        """Register a hook run after every HTTP request, error responses
        included: ``(req, resp)``, sync or async."""

        def register(hook: F) -> F:
            self._after_http.append(hook_step(hook))
            return hook

        return register(func) if func is not None else register

    def teardown_request(self, func: F | None = None) -> Any:
        """Register ``hook(req, resp, exc)``, run at the end of every HTTP request
        whatever happened: after error handling and after-request hooks, before
        the response is sent. ``exc`` is the exception raised while handling the
        request (an ``HTTPException`` from ``abort`` included, even when an error
        handler answered it), or ``None``. For releasing per-request resources:
        roll back or commit a transaction, close a session.

        An exception raised by the hook turns the response into an error
        response (when the request had not failed already; otherwise it is
        logged)."""

        def register(hook: F) -> F:
            if is_async_callable(hook):
                self._teardown.append(hook)
            else:
                async def run_in_thread(req: Request, resp: Response,
                                        exc: BaseException | None) -> None:
                    await run_sync(hook, req, resp, exc)

                self._teardown.append(run_in_thread)
            return hook

        return register(func) if func is not None else register

    async def _run_teardown(self, req: Request, resp: Response, error: BaseException | None
                            ) -> BaseException | None:
        """Run teardown hooks; return the first error they raised (if the request
        had not already failed), to be answered like a view's error."""
        raised: BaseException | None = None
        for hook in self._teardown:
            try:
                await hook(req, resp, error)
            except Exception as exc:
                if error is None and raised is None:
                    raised = exc
                else:
                    _logger().error("Teardown hook %r failed", hook, exc_info=exc)
        return raised

    def add_request_property(self, name: str, getter: Callable[[Request], Any]) -> None:
        """Make ``req.<name>`` return ``getter(req)``. For extensions: this is how
        ``req.db`` is provided."""
        if hasattr(Request, name):
            raise ValueError(f"Request already has an attribute {name!r}")
        self.request_properties[name] = getter

    # -- errors ---------------------------------------------------------------------

    def error_handler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Register ``async def handler(req, resp, exc)`` for a status code
        (``404``, ``500``...) or an exception class (and its subclasses).

        A handler for an exception class may raise ``HTTPException`` (or call
        ``abort``) to answer with that status instead, exactly as if the view
        had: the status handler for that code, or the default error body."""

        _check_error_key(key)

        def register(handler: F) -> F:
            self.add_error_handler(key, handler)
            return handler

        return register

    def add_error_handler(self, key: int | type[BaseException], handler: ErrorHandler) -> None:
        _check_error_key(key)
        if isinstance(key, int):
            self._status_handlers[key] = handler
        else:
            self._exception_handlers[key] = handler

    def _exception_handler_for(self, exc: BaseException) -> ErrorHandler | None:
        handlers = self._exception_handlers
        if handlers:
            for cls in type(exc).__mro__:
                handler = handlers.get(cls)
                if handler is not None:
                    return handler
        return None

    async def _handle_error(self, req: Request, resp: Response, exc: Exception) -> bool:
        """Turn ``exc`` into the response. ``False`` means: not handled, re-raise
        (only for unhandled errors in debug mode)."""
        if isinstance(exc, HTTPException):
            handler = self._status_handlers.get(exc.status_code) or self._exception_handler_for(exc)
            resp.clear()
            for name, value in exc.headers.items():
                resp.headers[name] = value
            resp.status_code = exc.status_code
            if handler is None:
                self._default_error_body(resp, exc.status_code, exc.detail)
                return True
            return await self._run_error_handler(handler, req, resp, exc)
        if isinstance(exc, ClientDisconnect):
            resp.clear()
            resp.status_code = 400
            return True
        handler = self._exception_handler_for(exc)
        if handler is not None:
            resp.clear()
            resp.status_code = 500
            return await self._run_error_handler(handler, req, resp, exc)
        if self.debug:
            return False
        _logger().error("Unhandled error in %s %s", req.scope.get("method"), req.scope.get("path"),
                     exc_info=exc)
        resp.clear()
        resp.status_code = 500
        handler = self._status_handlers.get(500)
        if handler is not None:
            return await self._run_error_handler(handler, req, resp, exc)
        resp.text = "500 Internal Server Error"
        return True

    async def _run_error_handler(self, handler: ErrorHandler, req: Request, resp: Response,
                                 exc: BaseException) -> bool:
        try:
            if is_async_callable(handler):
                await handler(req, resp, exc)
            else:
                await run_sync(handler, req, resp, exc)
        except HTTPException as translated:
            if isinstance(exc, HTTPException):  # a status handler may not re-enter itself
                return await self._failed_error_handler(handler, resp, translated)
            # An exception-class handler translated the error into an HTTP
            # status: answer it like any HTTPException (status handlers,
            # problem details), e.g. a database IntegrityError -> 409.
            return await self._handle_error(req, resp, translated)
        except Exception as handler_error:
            return await self._failed_error_handler(handler, resp, handler_error)
        return True

    async def _failed_error_handler(self, handler: ErrorHandler, resp: Response,
                                    handler_error: Exception) -> bool:
        if self.debug:
            raise handler_error
        _logger().error("Error handler %r failed", handler, exc_info=handler_error)
        resp.clear()
        resp.status_code = 500
        resp.text = "500 Internal Server Error"
        return True

    def _default_error_body(self, resp: Response, status: int, detail: Any) -> None:
        if status in (204, 304):
            return
        if self.problem_details:
            from .exceptions import status_phrase
            from .formats import json_dumps

            problem: dict[str, Any] = {"type": "about:blank", "title": status_phrase(status),
                                       "status": status}
            if detail != problem["title"]:
                problem["detail"] = detail
            resp.content = json_dumps(problem)
            resp.mimetype = "application/problem+json"
        elif isinstance(detail, (dict, list)):
            resp.media = detail
        else:
            resp.text = str(detail)

    # -- lifecycle -------------------------------------------------------------------

    def on_event(self, event: str) -> Callable[[F], F]:
        """``@app.on_event("startup")`` / ``("shutdown")``: sync or async, no arguments."""
        if event not in ("startup", "shutdown"):
            raise ValueError(f"Unknown event {event!r}: use 'startup' or 'shutdown'")

        def register(handler: F) -> F:
            self.add_event_handler(event, handler)
            return handler

        return register

    def add_event_handler(self, event: str, handler: Callable[[], Any]) -> None:
        if event == "startup":
            self._startup.append(handler)
        elif event == "shutdown":
            self._shutdown.append(handler)
        else:
            raise ValueError(f"Unknown event {event!r}: use 'startup' or 'shutdown'")

    @property
    def startup_handlers(self) -> list[Callable[[], Any]]:
        return self._startup

    @property
    def shutdown_handlers(self) -> list[Callable[[], Any]]:
        return self._shutdown

    @property
    def lifespan(self) -> Callable[[App], Any] | None:
        """The ``lifespan=`` context factory given to ``App``."""
        return self._lifespan

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        """Start-up and shutdown as one async context manager: the ``lifespan=``
        context is entered first, then startup events run; on exit, background
        tasks drain, shutdown events run, and the ``lifespan=`` context exits."""
        from .lifespan import lifespan_context

        return lifespan_context(self)

    # -- sessions --------------------------------------------------------------------

    @property
    def session_backend(self) -> SessionBackend:
        """The session store (a signed cookie unless another was given)."""
        if self._session_backend is None:
            from .sessions import CookieSessionBackend

            key = self.secret_key
            if not key:
                import secrets

                _logger().warning("No secret_key (or SECRET_KEY config) set: sessions are signed "
                               "with a random per-process key and will not survive a restart.")
                key = self.secret_key = secrets.token_urlsafe(32)
            self._session_backend = CookieSessionBackend(key)
        return self._session_backend

    @session_backend.setter
    def session_backend(self, backend: SessionBackend) -> None:
        self._session_backend = backend

    # -- middleware ------------------------------------------------------------------

    def add_middleware(self, middleware_class: Callable[..., Any], **options: Any) -> None:
        """Wrap the app in an ASGI middleware: ``middleware_class(app, **options)``.
        Starlette middleware classes and plain ASGI middleware both work. The
        last one added is the outermost."""
        if self._stack is not None:
            raise RuntimeError("Cannot add middleware after the application has started "
                               "serving requests")
        self._middleware.append((middleware_class, options))

    def builtin_middleware(self) -> list[tuple[Callable[..., Any], dict[str, Any]]]:
        """The middleware the ``App`` options ask for, outermost first: trusted
        hosts, HTTPS redirect (HSTS), CORS, GZip. They wrap the middleware added
        with ``add_middleware``; with none of the options set, the list is empty
        and nothing wraps the app."""
        from . import middleware

        stack: list[tuple[Callable[..., Any], dict[str, Any]]] = []
        hosts = self.allowed_hosts
        if hosts is not None and "*" not in hosts:
            stack.append((middleware.TrustedHostMiddleware,
                          {"allowed_hosts": hosts, "www_redirect": False}))
        if self.enable_hsts:
            stack.append((middleware.HSTSMiddleware, {}))
        if self.cors:
            stack.append((middleware.CORSMiddleware, dict(self.cors_params)))
        if self.gzip:
            stack.append((middleware.GZipMiddleware, {}))
        return stack

    def build_middleware_stack(self) -> Callable[..., Any]:
        """Compose the ASGI stack, outermost first: the debug error page (or, with
        user middleware, a plain 500), built-in middleware (``builtin_middleware``),
        user middleware (last added outermost), then the app. Built once."""
        self._install_static_files()
        app: Callable[..., Any] = self._dispatch
        for middleware_class, options in self._middleware:
            app = middleware_class(app, **options)
        for middleware_class, options in reversed(self.builtin_middleware()):
            app = middleware_class(app, **options)
        if self.debug:
            from starlette.middleware.errors import ServerErrorMiddleware

            app = ServerErrorMiddleware(app, debug=True)
        elif self._middleware:
            from starlette.middleware.errors import ServerErrorMiddleware
            from starlette.responses import PlainTextResponse

            async def plain_500(request: Any, exc: Exception) -> Any:
                return PlainTextResponse("500 Internal Server Error", status_code=500)

            app = ServerErrorMiddleware(app, handler=plain_500)
        return app

    # -- ASGI ------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        stack = self._stack
        if stack is None:
            stack = self._stack = self.build_middleware_stack()
        await stack(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self._mounts and kind != "lifespan":
            path = route_path(scope)
            for mount in self._mounts:
                if mount.matches(path):
                    await mount(scope, receive, send, self.max_body_size)
                    return
        if kind == "http":
            await self._handle_http(scope, receive, send)
        elif kind == "websocket":
            await self._handle_websocket(scope, receive, send)
        elif kind == "lifespan":
            from .lifespan import serve_lifespan

            await serve_lifespan(self, receive, send)

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = Request(scope, receive, self)
        resp = Response(req)
        error: BaseException | None = None
        try:
            await self._respond(req, resp, scope)
        except Exception as exc:
            error = exc
            if not await self._handle_error(req, resp, exc):
                if self._teardown:
                    await self._run_teardown(req, resp, exc)
                raise
        if self._after_http:
            try:
                for hook in self._after_http:
                    await hook(req, resp, _NO_KWARGS)
            except Exception as exc:
                error = error or exc
                if not await self._handle_error(req, resp, exc):
                    if self._teardown:
                        await self._run_teardown(req, resp, exc)
                    raise
        if self._teardown:
            failure = await self._run_teardown(req, resp, error)
            if failure is not None and not await self._handle_error(req, resp, failure):  # type: ignore[arg-type]
                raise failure
        try:
            status, headers, body = resp.render()
        except Exception as exc:
            # The body, a header or a cookie could not be encoded: answer with
            # an error response built without them.
            resp.discard_headers()
            if not await self._handle_error(req, resp, exc):
                raise
            try:
                status, headers, body = resp.render()
            except Exception:
                _logger().exception("Error response could not be rendered")
                status, body = 500, b"500 Internal Server Error"
                headers = [(b"content-type", b"text/plain; charset=utf-8"),
                           (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        elif body is not None:
            await send({"type": "http.response.body", "body": body})
        else:
            await resp.send_body(send, receive)
        if req._form is not None:
            await req.close()

    async def _respond(self, req: Request, resp: Response, scope: Scope) -> None:
        hooks = self._before_http
        if hooks:
            for hook in hooks:
                await hook(req, resp, _NO_KWARGS)
                if resp.is_set:
                    return
        path = scope["path"]
        raw_path = scope.get("raw_path")
        root = scope.get("root_path")
        if root:
            path = route_path(scope)
            if raw_path is not None:
                raw_root = root.encode("latin-1", "replace")
                raw_path = raw_path[len(raw_root):] if raw_path.startswith(raw_root) else None
        found = self.router.match(path, raw_path)
        if found is None:
            self._not_found(req, resp, scope, path)
            return
        route_set, params = found
        method = scope["method"]
        route = route_set.resolve(method)
        if route is None:
            allow = ", ".join(route_set.allowed())
            if method == "OPTIONS":
                resp.headers["Allow"] = allow
                resp.status_code = 200
                return
            raise HTTPException(405, headers={"Allow": allow})
        req.path_params = params
        handler = route.handler
        if handler is None:
            handler = route.handler = compile_route(route)
        await handler(req, resp, params)

    def _not_found(self, req: Request, resp: Response, scope: Scope, path: str) -> None:
        """Raise 404, or redirect when the path only lacks (or has an extra)
        trailing slash, or answer with the single-page app's ``index.html``."""
        alternative = path[:-1] if path.endswith("/") and path != "/" else path + "/"
        if self.router.match(alternative) is not None:
            query = scope.get("query_string", b"").decode("latin-1")
            location = scope.get("root_path", "") + alternative + (f"?{query}" if query else "")
            raise HTTPException(307, headers={"Location": location})
        if self._spa_prefixes:
            index = self._spa_index(scope["method"], path)
            if index is not None:
                resp.file(index)
                return
        raise HTTPException(404)

    async def _handle_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

        ws = WebSocket(scope, receive=receive, send=send)
        scope["path_params"] = {}
        try:
            if not await _run_websocket_hooks(self._before_ws, ws):
                return
            if scope.get("root_path"):
                found = self.router.match_websocket(route_path(scope))
            else:
                found = self.router.match_websocket(scope["path"], scope.get("raw_path"))
            if found is None:
                await ws.close(code=1000 if ws.application_state == WebSocketState.CONNECTED
                               else 1008)
                return
            route, params = found
            scope["path_params"] = params
            if route.groups and not await _run_websocket_hooks(route.before_hooks(), ws):
                return
            if is_async_callable(route.endpoint):
                await route.endpoint(ws, **params)
            else:
                await run_sync(route.endpoint, ws, **params)
        except WebSocketDisconnect:
            pass
        except Exception:
            _logger().exception("Unhandled error in websocket %s", scope.get("path"))
            if ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    await ws.close(code=1011)
                except Exception:
                    pass
            if self.debug:
                raise

    # -- conveniences ------------------------------------------------------------------

    @property
    def client(self) -> TestClient:
        """A test client for this app (httpx API, runs start-up events on first use)."""
        if self._client is None:
            from .testing import TestClient

            self._client = TestClient(self)
        return self._client

    @property
    def status_codes(self) -> Any:
        """The ``dyne.status`` module: ``app.status_codes.HTTP_404``, ``is_400(code)``..."""
        from . import status

        return status

    def run(self, host: str | None = None, port: int | None = None, **options: Any) -> None:
        """Serve the app with uvicorn. Binds ``127.0.0.1:5042`` by default; when
        the ``PORT`` environment variable is set, binds ``0.0.0.0`` on that port
        (the cloud-platform convention). Other options go to ``uvicorn.run``."""
        import uvicorn

        env_port = os.environ.get("PORT")
        if port is None and env_port:
            port = int(env_port)
            host = host or "0.0.0.0"
        options.setdefault("log_level", "debug" if self.debug else "info")
        uvicorn.run(self, host=host or "127.0.0.1", port=port or 5042, **options)

    def __repr__(self) -> str:
        return f"<dyne.App routes={len(self.router.routes)} debug={self.debug}>"
