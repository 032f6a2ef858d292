"""``dyne.App``: the application.

The app is a thin composition of the pieces, each in its own module:
configuration (``config``), registration (``scaffold``: routes, hooks,
groups), the router (``routing``), per-route pipelines (``endpoints``),
requests and responses, the error-handler policy (``error_handlers``), static
files (``staticfiles``), lifecycle events (``lifespan``), mounts, background
tasks and the middleware stack. It is an ASGI 3 application::

    import dyne

    app = dyne.App()

    @app.route("/hello/{who}")
    async def hello(req, resp, *, who):
        resp.media = {"hello": who}

One request goes: middleware stack (built on first use) -> ``_handle_http`` ->
app-wide before-hooks -> ``Router.match`` -> the route's compiled pipeline
(route hooks, extension steps, the view, after steps) -> error handling ->
after-request hooks -> teardown hooks -> ``Response.render`` ->
``Response.send_rendered``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .background import BackgroundQueue
from .compat import AppCompat
from .concurrency import is_async_callable, run_sync
from .config import Config
from .datastructures import State
from .endpoints import (
    RouteOption,
    RouteOptions,
    check_view_signature,
    compile_route,
    get_endpoint_spec,
    hook_step,
    websocket_guards,
)
from .error_handlers import ErrorHandler, ErrorHandlers, check_error_key
from .exceptions import HTTPException
from .groups import RouteGroup
from .injection import CLEANUP_KEY, Depends, attach_class_view_plans, attach_route_plan, run_cleanup
from .middleware import (
    check_allowed_hosts,
    cors_options,
)
from .mounts import Mount, route_path
from .registration import AppRegistration
from .request import Request
from .response import Response
from .routing import (
    BaseRoute,
    Convertor,
    Route,
    Router,
    WebSocketRoute,
)
from .scaffold import Hook, Scaffold, route_hooks
from .staticfiles import StaticSite

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from logging import Logger
    from pathlib import Path

    from loguru import Logger as LoguruLogger

    from .background import TaskHandle
    from .events import EventBus
    from .logging import AppLogging
    from .sessions import SessionBackend
    from .templates import Templates
    from .testing import TestClient
    from .types import Receive, Scope, Send

__all__ = ["App"]



def _logger() -> Logger:
    import logging  # on first use: importing it costs more than the rest of the core

    return logging.getLogger("dyne")


F = TypeVar("F", bound=Callable[..., Any])
#: ``hook(req, resp, exc)``: a teardown hook.
TeardownHook = Callable[[Request, Response, "BaseException | None"], Any]

#: Default ``max_body_size``: request bodies larger than this are refused with 413.
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
_NO_KWARGS: dict[str, Any] = {}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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


class App(Scaffold, AppCompat, AppRegistration):
    """A dyne application.

    :param debug: show tracebacks instead of hiding them, and re-raise unhandled
        errors. Defaults to the ``DEBUG`` config value (``False`` when unset).
    :param secret_key: signs the session cookie. Defaults to the ``SECRET_KEY``
        config value; without one, a random key is made per process (sessions
        then do not survive a restart or span workers) and a warning is logged.
    :param secret_key_fallbacks: older keys still accepted for what they signed
        (key rotation; see ``dyne.keys``). Defaults to ``SECRET_KEY_FALLBACKS``.
    :param env_file: a dotenv file to load instead of ``./.env``.
    :param env_prefix: prefix for environment lookups (``DYNE_`` -> ``DYNE_DEBUG``).
    :param encoding: encoding of the env file.
    :param lifespan: ``lifespan(app)`` returning an async context manager entered
        at start-up and exited at shutdown (an async generator function works
        too). A mapping it yields is set on ``app.state``.
    :param max_body_size: largest request body accepted, in bytes (413 beyond);
        ``None`` for no limit.
    :param media_formats: the body formats ``req.media()`` decodes by
        ``Content-Type`` (``"json"``, ``"yaml"``, ``"msgpack"``, ``"form"``,
        ``"files"``; all by default); others get a 415. A route narrows it
        with ``media_formats=``.
    :param media_limits: per-format body limits, ``{"yaml": MediaLimit(...)}``
        or ``{"json": {"max_size": ...}}``, merged into
        ``dyne.bodies.DEFAULT_MEDIA_LIMITS`` (see ``docs/security.md``).
    :param problem_details: render HTTP errors as RFC 9457
        ``application/problem+json`` instead of plain text.
    :param json_encoders: ``{type: function}`` for objects orjson does not
        encode itself (``{Money: str}``), looked up along the object's class
        hierarchy; used wherever the app writes JSON (``resp.media``,
        ``@output``, errors, Server-Sent Events, ``ws.send_json``) and for
        YAML and MessagePack bodies. See ``dyne.encoders``.
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
    :param security_headers: headers sent with every response (error pages and
        static files included): ``True`` for the defaults
        (``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
        strict-origin-when-cross-origin``, ``X-Frame-Options: SAMEORIGIN``),
        ``False`` for none, or a dict merged into them (``None`` removes one;
        add a ``Content-Security-Policy`` here).
    :param csrf: CSRF protection for requests authenticated by the session
        (or remember-me) cookie: ``True`` (the default), ``False``, or a dict
        of ``dyne.csrf.CSRFProtection`` options (``trusted_origins``,
        ``require_token``...). See ``docs/security.md``.
    :param gzip: compress responses of 500 bytes or more for clients that accept gzip.
    :param brotli: compress them with Brotli for clients that accept ``br``
        (preferred over gzip; needs ``dyne[brotli]``).
    :param static_dir: directory served under ``static_route`` (when it exists);
        ``None`` serves no static files.
    :param static_route: URL prefix of the static files; ``None``: ``/`` and
        the name of ``static_dir`` (``/static``).
    :param templates_dir: where ``app.template`` looks for Jinja2 templates.
    :param environ: a mapping looked up instead of ``os.environ`` by ``app.config``.
    :param auto_escape: accepted for Dyne 2.0.5 code; HTML templates are always
        escaped.
    :param auto_etag: give successful ``GET`` responses with an in-memory body
        a weak ``ETag`` (a hash of the body), so clients revalidate with
        ``If-None-Match`` and get ``304``.
    :param static_cache_control: ``Cache-Control`` value sent with static files
        (``"public, max-age=3600"``); ``None`` sends none.
    :param redirect_slashes: redirect (307) a path that only lacks, or has an
        extra, trailing slash to the route that exists; ``False`` answers 404.
    :param config: a ``dyne.settings.BaseConfig`` subclass (or instance): typed
        settings, validated now, that also give the arguments above they name
        (``DEBUG``, ``SECRET_KEY``, ``STATIC_DIR``...; an argument given here
        wins) and list what to register (``EXTENSIONS``, ``MIDDLEWARE``,
        ``CLI_CONTROLLERS``...). See ``docs/pyjolt-style-apps.md``.
    """

    def __init__(
        self,
        *,
        debug: bool | None = None,
        secret_key: str | None = None,
        secret_key_fallbacks: Iterable[str] | None = None,
        env_file: str | os.PathLike[str] | None = None,
        env_prefix: str = "",
        encoding: str = "utf-8",
        lifespan: Callable[[App], Any] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        media_formats: Iterable[str] | None = None,
        media_limits: Mapping[str, Any] | None = None,
        problem_details: bool = False,
        json_encoders: Mapping[type, Callable[[Any], Any]] | None = None,
        session_backend: SessionBackend | None = None,
        cors: bool = False,
        cors_params: Mapping[str, Any] | None = None,
        enable_hsts: bool = False,
        allowed_hosts: Iterable[str] | None = None,
        gzip: bool = False,
        brotli: bool = False,
        security_headers: bool | Mapping[str, str | None] = True,
        csrf: bool | Mapping[str, Any] = True,
        static_dir: str | os.PathLike[str] | None = "static",
        static_route: str | None = "/static",
        templates_dir: str | os.PathLike[str] = "templates",
        environ: Mapping[str, str] | None = None,
        auto_escape: bool = True,
        auto_etag: bool = False,
        static_cache_control: str | None = None,
        redirect_slashes: bool = True,
        config: Any = None,
    ) -> None:
        from pathlib import Path

        super().__init__()
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
        self.brotli = brotli
        from .middleware.security import security_header_list

        #: The encoded security headers (``security_headers=``), sent with every response.
        self.security_headers = security_header_list(security_headers)
        #: Those that ``_handle_http`` and mounts add themselves (none when the
        #: stack has middleware, whose outermost layer adds them).
        self._inline_headers = self.security_headers
        #: Static files and the single-page-app fallback.
        self.static = StaticSite(static_dir, static_route, static_cache_control)
        self.auto_etag = auto_etag
        self.redirect_slashes = redirect_slashes
        self.templates_dir = Path(templates_dir).absolute()
        self._templates: Templates | None = None
        self._mounts: list[Mount] = []
        self._debug = debug
        self._secret_key = secret_key
        self._secret_key_fallbacks: list[str] | None = None
        self.secret_key_fallbacks = secret_key_fallbacks
        self.max_body_size = max_body_size
        from . import bodies

        self.media_formats = bodies.check_media_formats(media_formats)
        self.media_limits = bodies.media_limits(media_limits)
        self.problem_details = problem_details
        from .formats import Encoders

        #: The body encoders (JSON, YAML, MessagePack) with ``json_encoders``.
        self.encoders = Encoders(json_encoders)
        self.router = Router()
        self.router.app = self
        #: Route keyword options (``request_model=``...) this app accepts.
        self.route_options = RouteOptions()
        #: The error handlers and the policy that applies them.
        self.errors = ErrorHandlers(self)
        self.state = State()
        self.background = BackgroundQueue()
        self._events: EventBus | None = None
        #: ``Depends`` providers replaced in this app (tests): provider -> replacement.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: Extensions register themselves here by name (``app.extensions["db"]``).
        self.extensions: dict[str, Any] = {}
        #: Extra ``req.<name>`` attributes: name -> ``getter(req)``.
        self.request_properties: dict[str, Callable[[Request], Any]] = {}
        #: The class of this app's requests: ``Request``, or a subclass with
        #: a property per request property (``_refresh_request_type``).
        self._request_type: type[Request] = Request
        self._session_backend = session_backend
        #: ``hook(req, resp, exc)`` run at the end of every HTTP request.
        self.teardown_hooks: list[TeardownHook] = []
        # The hooks as pipeline steps (what a request runs).
        self._before_steps: list[Callable[..., Any]] = []
        self._after_steps: list[Callable[..., Any]] = []
        self._teardown_steps: list[Callable[..., Any]] = []
        #: ``hook(req, resp, route)`` run once a route matched, before its handler.
        self._route_hooks: list[Callable[..., Any]] = []
        from .csrf import CSRFProtection, csrf_options

        csrf_kwargs = csrf_options(csrf)
        #: The CSRF checks (``None`` when ``csrf=False``).
        self.csrf = None if csrf_kwargs is None else CSRFProtection(self, **csrf_kwargs)
        if self.csrf is not None:
            self.request_properties["csrf_token"] = self.csrf.token
            self._refresh_request_type()
        self._startup: list[Callable[[], Any]] = []
        self._shutdown: list[Callable[[], Any]] = []
        self._lifespan = lifespan
        self._middleware: list[tuple[Callable[..., Any], dict[str, Any]]] = []
        self._middleware_classes = []
        self._middleware_chain = None
        self._stack: Callable[..., Any] | None = None
        self._client: TestClient | None = None
        self._logging: AppLogging | None = None
        if config is not None:
            from .settings import configure_app

            configure_app(self, config, given={
                "debug": debug, "secret_key": secret_key, "static_dir": static_dir,
                "static_route": static_route, "templates_dir": templates_dir, "cors": cors,
                "cors_params": cors_params, "redirect_slashes": redirect_slashes})

    @property
    def logger(self) -> LoguruLogger:
        """The app's logger: loguru's, bound to the app's name (``APP_NAME``).
        Its sinks come from ``DEFAULT_LOGGER`` and ``LOGGERS``; see
        ``dyne.logging``. Loguru is imported on first use."""
        return self.logging.logger

    @property
    def logging(self) -> AppLogging:
        """The app's sinks and standard-library routing (``dyne.logging.AppLogging``)."""
        if self._logging is None:
            from .logging import AppLogging

            self._logging = AppLogging(self)
        return self._logging

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

    @property
    def secret_key_fallbacks(self) -> list[str]:
        """Older keys still accepted when verifying what was signed with them
        (``SECRET_KEY_FALLBACKS``), newest first; see ``dyne.keys``."""
        from .keys import key_list

        if self._secret_key_fallbacks is not None:
            return list(self._secret_key_fallbacks)
        return key_list(self.config.get("SECRET_KEY_FALLBACKS", default=None))

    @secret_key_fallbacks.setter
    def secret_key_fallbacks(self, value: Iterable[str] | str | None) -> None:
        from .keys import key_list

        self._secret_key_fallbacks = None if value is None else key_list(value)

    @property
    def static_dir(self) -> Path | None:
        """The directory served under ``static_route`` (``None``: no static files)."""
        return self.static.directory

    @static_dir.setter
    def static_dir(self, value: str | os.PathLike[str] | None) -> None:
        from pathlib import Path

        self.static.directory = None if value is None else Path(value).absolute()

    @property
    def static_route(self) -> str:
        """The URL prefix of the static files."""
        return self.static.route

    @property
    def setup_finished(self) -> bool:
        """Always ``False``: the app's hooks apply from the next request on
        (a route reads them on every request, not when it compiles)."""
        return False

    def add_hook(self, kind: str, hook: Hook) -> None:
        super().add_hook(kind, hook)
        if kind == "before":
            self._before_steps.append(hook_step(hook))
        elif kind == "after":
            self._after_steps.append(hook_step(hook))

    # -- routing -------------------------------------------------------------------

    def add_route(self, path: str, endpoint: Callable[..., Any] | None = None, *,
                  methods: Iterable[str] | str | None = None, websocket: bool = False,
                  name: str | None = None, before_request: Hook | Iterable[Hook] | None = None,
                  static: bool = False, include_in_schema: bool = True, before: Any = None,
                  **options: Any) -> BaseRoute:
        """Register ``endpoint`` (a function, a class-based view or a view object)
        at ``path``; see ``route`` for the options. Returns the route.

        ``static=True`` (without an endpoint) serves ``index.html`` from
        ``static_dir`` at ``path`` and for every GET under ``path`` that no
        route answers: the single-page-app fallback. ``include_in_schema=False``
        leaves the route out of the OpenAPI document."""
        hooks = route_hooks(before_request, before, "add_route")
        if static:
            if endpoint is not None:
                raise TypeError("add_route(path, static=True) serves static_dir/index.html; "
                                "give it no endpoint")
            index_route = self.add_route(path, self.static.index_view(), methods=["GET"],
                                         name=name or "static_index", include_in_schema=False)
            self.static.add_spa_prefix(path)
            return index_route
        if endpoint is None:
            raise TypeError(f"add_route() needs a view for {path!r}")
        if not callable(endpoint) and not any(a.startswith("on_") for a in dir(type(endpoint))):
            raise TypeError(f"add_route() needs a view (a function, a class or an object with "
                            f"on_<method> handlers) for {path!r}, got {endpoint!r}")
        schema = None if include_in_schema else False
        route: BaseRoute
        if websocket:
            from .websockets import route_limits

            limits = route_limits(options)  # idle_timeout=, max_message_size=
            if methods is not None or options or hooks:
                raise TypeError("websocket routes take no methods=, before_request= or route "
                                "options other than idle_timeout= and max_message_size=")
            route = WebSocketRoute(path, endpoint, name=name, include_in_schema=schema,
                                   convertors=self.router.convertors)
            route.limits = limits
            # Pipelines are for HTTP: refusing beats silently skipping a step
            # such as @input on a websocket (@authenticate has a websocket guard).
            websocket_guards([get_endpoint_spec(endpoint, False)], path)
        else:
            route = Route(path, endpoint, methods=methods, name=name, before=hooks,
                          include_in_schema=schema, convertors=self.router.convertors)
            self._check_route(route)
            if options:
                self.route_options.apply(route, options)
            if not (route.is_class or route.is_view_object):
                attach_route_plan(route)
            else:
                attach_class_view_plans(route)
        route.app = self
        return self.router.add(route)

    def _check_route(self, route: Route) -> None:
        if route.is_class or route.is_view_object:
            for attr in dir(route.endpoint):
                if attr.startswith("on_") and callable(getattr(route.endpoint, attr)):
                    check_view_signature(getattr(route.endpoint, attr), route.param_names,
                                         route.path, skip_self=route.is_class)
        else:
            check_view_signature(route.endpoint, route.param_names, route.path)

    def register_route_option(self, name: str, handler: RouteOption) -> None:
        """Accept ``@app.route(..., name=value)`` on this app: ``handler(route,
        value)`` is called when such a route is registered."""
        self.route_options.register(name, handler)

    def register_convertor(self, name: str, convertor: Convertor) -> None:
        """Make ``{param:name}`` available in this app's paths (routes added
        afterwards): ``app.register_convertor("slug", SlugConvertor())``."""
        self.router.register_convertor(name, convertor)

    # -- groups and mounts ---------------------------------------------------------

    def group(self, prefix: str, *, name: str | None = None,
              dependencies: Iterable[Depends] = ()) -> RouteGroup:
        """A ``RouteGroup`` whose routes are registered on this app under ``prefix``:
        ``v1 = app.group("/v1")``, then ``@v1.route("/users")``. Its hooks run
        only for its routes. ``name`` prefixes its route names (``"v1.users"``);
        ``dependencies=[Depends(provider), ...]`` run before each of its routes."""
        group = RouteGroup(prefix, name=name, dependencies=dependencies)
        self.include_router(group)
        return group

    def include_router(self, group: RouteGroup, *, prefix: str = "") -> None:
        """Register the routes of a standalone ``RouteGroup`` under ``prefix``
        (added to the group's own prefix). Routes added to the group later are
        registered too."""
        if not isinstance(group, RouteGroup):
            raise TypeError(f"include_router() takes a dyne.RouteGroup, got {group!r}")
        group.attach(self, prefix)

    def mount(self, path: str, app: Any, *, name: str | None = None,
              wsgi: bool | None = None) -> Mount:
        """Serve another application under ``path``: any ASGI app (Starlette,
        FastAPI, another dyne app) or WSGI app (Flask, Django), detected by
        its signature (``wsgi=`` forces one). Requests to ``path`` and below go
        to it with ``root_path`` extended by ``path``; mounts take precedence
        over routes under their prefix."""
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
        if any(m.prefix == self.static.route for m in self._mounts):
            return
        server = self.static.server()
        if server is not None:
            self.mount(self.static.route, server, name="static")

    # -- templates -------------------------------------------------------------------

    @property
    def templates(self) -> Templates:
        """The app's ``dyne.templates.Templates`` (Jinja2, from ``templates_dir``),
        with ``url_for`` available in every template."""
        if self._templates is None:
            from .flash import get_flashed_messages
            from .templates import Templates

            context: dict[str, Any] = {"url_for": self.url_for,
                                       "get_flashed_messages": get_flashed_messages}
            if self.csrf is not None:
                context["csrf_token"] = self.csrf.token
                context["csrf_input"] = self.csrf.input_tag
            self._templates = Templates(directory=self.templates_dir, context=context)
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

    def add_route_hook(self, hook: Callable[..., Any]) -> None:
        """Run ``async def hook(req, resp, route)`` for every HTTP request that
        matched a route, before the route's own hooks, steps and view (never
        for 404s, 405s or redirects). Setting a status or a body in it answers
        the request. For extensions that need to know the route (its options
        are in ``route.spec.meta``)."""
        self._route_hooks.append(hook)

    @overload
    def teardown_request(self, func: F) -> F: ...

    @overload
    def teardown_request(self, func: None = None) -> Callable[[F], F]: ...

    def teardown_request(self, func: F | None = None) -> F | Callable[[F], F]:
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
            self.teardown_hooks.append(hook)
            self._teardown_steps.append(_teardown_step(hook))
            return hook

        return register(func) if func is not None else register

    def add_request_property(self, name: str, getter: Callable[[Request], Any]) -> None:
        """Make ``req.<name>`` return ``getter(req)``. For extensions: this is how
        ``req.db`` is provided."""
        if hasattr(Request, name):
            raise ValueError(f"Request already has an attribute {name!r}")
        self.request_properties[name] = getter
        self._refresh_request_type()

    def _refresh_request_type(self) -> None:
        """Give this app's requests a class whose request properties are real
        attributes: ``req.<name>`` then finds its property at once instead of
        failing the normal lookup first and falling back to
        ``Request.__getattr__`` (several times the cost). The getter is still
        read from ``request_properties`` at each access, so replacing or
        removing an entry there behaves as before; a name added to the dict
        directly is served by ``__getattr__`` as before."""
        self._request_type = _request_type(tuple(sorted(self.request_properties)))

    # -- errors ---------------------------------------------------------------------

    def error_handler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Register ``async def handler(req, resp, exc)`` for a status code
        (``404``, ``500``...) or an exception class (and its subclasses).

        A handler for an exception class may raise ``HTTPException`` (or call
        ``abort``) to answer with that status instead, exactly as if the view
        had: the status handler for that code, or the default error body."""

        check_error_key(key)

        def register(handler: F) -> F:
            self.errors.add(key, handler)
            return handler

        return register

    def add_error_handler(self, key: int | type[BaseException], handler: ErrorHandler) -> None:
        """``error_handler`` without the decorator."""
        self.errors.add(key, handler)

    # -- controllers (dyne.controllers) ----------------------------------------------

    def add_controller(self, controller: type[Any] | str) -> list[BaseRoute]:
        """Register a ``dyne.controllers.Controller`` subclass (or its import
        string, ``"package.module:Class"``): one route per decorated method,
        named ``"Class.method"`` for ``url_for``. Returns the routes."""
        from .controllers import register_controller

        return register_controller(self, controller)

    def add_exception_handler(self, handler: type[Any] | str) -> Any:
        """Register a ``dyne.controllers.ExceptionHandler`` subclass (or its
        import string): each ``@handles(...)`` method handles those exceptions.
        Returns the handler instance."""
        from .controllers import register_exception_handler

        return register_exception_handler(self, handler)

    # -- events ----------------------------------------------------------------------

    @property
    def events(self) -> EventBus:
        """The app's event bus (``dyne.events.EventBus``): ``emit`` and ``listener``."""
        if self._events is None:
            from .events import EventBus

            self._events = EventBus(self.background)
        return self._events

    def listener(self, event: str) -> Callable[[F], F]:
        """``@app.listener("user.created")``: call the function (sync or async)
        with what ``app.emit("user.created", ...)`` is given. See ``dyne.events``."""
        return self.events.listener(event)

    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> TaskHandle | None:
        """Call ``event``'s listeners with ``*args, **kwargs``: once the response
        has been sent when called during a request, at once (in the background)
        otherwise. Errors in listeners are logged on ``dyne.events``."""
        return self.events.emit(event, *args, **kwargs)

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
            self._session_backend = CookieSessionBackend(key, fallbacks=self.secret_key_fallbacks)
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
        from . import middleware  # Starlette's classes, on first use

        stack: list[tuple[Callable[..., Any], dict[str, Any]]] = []
        hosts = self.allowed_hosts
        if hosts is not None and "*" not in hosts:
            stack.append((middleware.TrustedHostMiddleware,
                          {"allowed_hosts": hosts, "www_redirect": False}))
        if self.enable_hsts:
            stack.append((middleware.HSTSMiddleware, {}))
        route_cors = self._route_cors()
        if route_cors is not None:
            stack.append(route_cors)
        elif self.cors:
            stack.append((middleware.CORSMiddleware, dict(self.cors_params)))
        if self.brotli:
            from .middleware.compression import CompressionMiddleware

            stack.append((CompressionMiddleware, {"gzip": self.gzip}))
        elif self.gzip:
            stack.append((middleware.GZipMiddleware, {}))
        return stack

    def _route_cors(self) -> tuple[Callable[..., Any], dict[str, Any]] | None:
        """The per-route CORS layer, when a route declares ``@cors``/``@no_cors``."""
        from .route_cors import RouteCORSMiddleware, declares_route_cors

        if not declares_route_cors(self.router.routes):
            return None
        return (RouteCORSMiddleware, {"router": self.router,
                                      "default": dict(self.cors_params) if self.cors else None,
                                      "defaults": dict(self.cors_params)})

    def build_middleware_stack(self) -> Callable[..., Any]:
        """Compose the ASGI stack, outermost first: the debug error page (or, with
        user middleware, a plain 500), built-in middleware (``builtin_middleware``),
        user middleware (last added outermost), then the app. Built once."""
        self._install_static_files()
        self._build_middleware_chain()
        app: Callable[..., Any] = self._dispatch
        for middleware_class, options in self._middleware:
            app = middleware_class(app, **options)
        for middleware_class, options in reversed(self.builtin_middleware()):
            app = middleware_class(app, **options)
        if self.debug:
            from .debug import DebugErrorMiddleware

            app = DebugErrorMiddleware(app)
        elif self._middleware:
            from starlette.middleware.errors import ServerErrorMiddleware
            from starlette.responses import PlainTextResponse

            async def plain_500(request: Any, exc: Exception) -> Any:
                return PlainTextResponse("500 Internal Server Error", status_code=500)

            app = ServerErrorMiddleware(app, handler=plain_500)
        if app != self._dispatch and self.security_headers:
            # Other layers answer some requests themselves: add the headers
            # outermost, once, for all of them.
            from .middleware.security import SecurityHeadersMiddleware

            app = SecurityHeadersMiddleware(app, self.security_headers)
            self._inline_headers = []
        else:
            self._inline_headers = self.security_headers
        self._warn_about_settings()
        return app

    def _warn_about_settings(self) -> None:
        """Log, once at start-up, settings that are unsafe together."""
        hosts = self.allowed_hosts
        if self.enable_hsts and (hosts is None or "*" in hosts):
            _logger().warning(
                "enable_hsts is on without allowed_hosts: the HTTPS redirect copies the "
                "request's Host header into its Location, so a client can make it point at "
                "any host. Set allowed_hosts=['your.domain'] (see docs/security.md).")

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
                    if self._inline_headers and kind == "http":
                        from .middleware.security import sending_headers

                        send = sending_headers(send, self._inline_headers)
                    await mount(scope, receive, send, self.max_body_size)
                    return
        if kind == "http":
            try:
                events = self._events
                if events is not None and events.listeners:
                    await events.handle_http(self._handle_http, scope, receive, send)
                else:
                    await self._handle_http(scope, receive, send)
            finally:
                if CLEANUP_KEY in scope:  # generator providers of Depends()
                    await run_cleanup(scope)
        elif kind == "websocket":
            await self._handle_websocket(scope, receive, send)
        elif kind == "lifespan":
            from .lifespan import serve_lifespan

            await serve_lifespan(self, receive, send)

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = self._request_type(scope, receive, self)
        resp = Response(req)
        error: Exception | None = None
        unhandled: Exception | None = None
        try:
            chain = self._middleware_chain
            if chain is None:
                await self._respond(req, resp, scope)
            else:
                resp = await chain(req, resp)
        except Exception as exc:
            error = exc
            if not await self.errors.handle(req, resp, exc):
                unhandled = exc
        if unhandled is None and self._after_steps:
            try:
                for hook in self._after_steps:
                    await hook(req, resp, _NO_KWARGS)
            except Exception as exc:
                error = error or exc
                if not await self.errors.handle(req, resp, exc):
                    unhandled = exc
        if self._teardown_steps:
            # The one place teardown runs, whatever happened above.
            failure = await self._run_teardown(req, resp, error)
            if (failure is not None and unhandled is None
                    and not await self.errors.handle(req, resp, failure)):
                unhandled = failure
        if unhandled is not None:
            if resp._after is not None:
                self.background.run_after(resp._after)
            raise unhandled
        try:
            rendered = resp.render()
        except Exception as exc:
            # The body, a header or a cookie could not be encoded: answer with
            # an error response built without them.
            resp.discard_headers()
            if not await self.errors.handle(req, resp, exc):
                raise
            try:
                rendered = resp.render()
            except Exception:
                _logger().exception("Error response could not be rendered")
                rendered = Response.render_server_error()
        extra = self._inline_headers
        if extra:
            if resp._headers:
                from .middleware.security import add_missing

                add_missing(rendered[1], extra)
            else:
                rendered[1].extend(extra)
        try:
            await resp.send_rendered(rendered, send, receive, head=scope["method"] == "HEAD")
        finally:
            if resp._after is not None:  # resp.background(...): now the response is sent
                self.background.run_after(resp._after)
        if req._form is not None:
            await req.close()

    async def _run_teardown(self, req: Request, resp: Response, error: BaseException | None
                            ) -> Exception | None:
        """Run teardown hooks; return the first error they raised (if the request
        had not already failed), to be answered like a view's error."""
        raised: Exception | None = None
        for hook in self._teardown_steps:
            try:
                await hook(req, resp, error)
            except Exception as exc:
                if error is None and raised is None:
                    raised = exc
                else:
                    _logger().error("Teardown hook %r failed", hook, exc_info=exc)
        return raised

    async def _respond(self, req: Request, resp: Response, scope: Scope) -> None:
        hooks = self._before_steps
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
        scope["dyne.route"] = route  # for the debug page
        scope["path_params"] = params
        if method not in _SAFE_METHODS and self.csrf is not None:
            # Only a request carrying a cookie can be a cross-site forgery.
            for key, _ in scope["headers"]:
                if key == b"cookie":
                    await self.csrf.check(req, route)
                    break
        if self._route_hooks:
            for hook in self._route_hooks:
                await hook(req, resp, route)
                if resp.is_set:
                    return
        handler = route.handler
        if handler is None:
            handler = route.handler = compile_route(route)
        await handler(req, resp, params)

    def _not_found(self, req: Request, resp: Response, scope: Scope, path: str) -> None:
        """Raise 404, or redirect when the path only lacks (or has an extra)
        trailing slash, or answer with the single-page app's ``index.html``."""
        alternative = path[:-1] if path.endswith("/") and path != "/" else path + "/"
        if self.redirect_slashes and self.router.match(alternative) is not None:
            from .redirects import path_location

            query = scope.get("query_string", b"").decode("latin-1")
            location = path_location(scope.get("root_path", "") + alternative, query)
            raise HTTPException(307, headers={"Location": location})
        index = self.static.spa_index(scope["method"], path)
        if index is not None:
            resp.file(index)
            return
        raise HTTPException(404)

    async def _handle_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.websockets import WebSocketDisconnect, WebSocketState

        from .websockets import WebSocketGuard, websocket_class

        config = self.config
        guard = None
        idle = config.get("WEBSOCKET_IDLE_TIMEOUT")
        size = config.get("WEBSOCKET_MAX_MESSAGE_SIZE")
        if idle is not None or size is not None or self.router.websocket_limits:
            from .websockets import check_limit

            guard = WebSocketGuard(receive, send, check_limit("idle_timeout", idle),
                                   check_limit("max_message_size", size))  # type: ignore[arg-type]
            receive, send = guard.receive, guard.send
        ws = websocket_class()(scope, receive=receive, send=send)
        ws.json_dumps = self.encoders.json
        scope["path_params"] = {}
        try:
            if not await _run_websocket_hooks(self.websocket_hooks, ws):
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
            if guard is not None and route.limits:
                guard.configure(route.limits)
            hooks = route.hooks
            if hooks is None:
                hooks = route.hooks = route.before_hooks()
            if hooks and not await _run_websocket_hooks(hooks, ws):
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
        finally:
            if guard is not None:
                await guard.finish()

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
        (the cloud-platform convention).

        dyne's server limits apply (``dyne.server.ServerLimits``, see
        ``docs/security.md``); change them with ``graceful_timeout=``,
        ``keep_alive_timeout=``, ``header_timeout=``, ``max_header_size=``,
        ``limit_concurrency=``, ``backlog=``. Several workers need the app's
        import path: use ``dyne run --workers N``. Other options go to
        ``uvicorn.run`` (and win over the limits)."""
        import uvicorn

        from .server import server_limits, uvicorn_options

        env_port = os.environ.get("PORT")
        if port is None and env_port:
            port = int(env_port)
            host = host or "0.0.0.0"
        limits, options = server_limits(**options)
        if limits.workers > 1:
            raise ValueError("app.run() serves one process; for several workers run "
                             "`dyne run --workers N` (uvicorn needs the app's import path)")
        options = {**uvicorn_options(limits), **options}
        options.setdefault("log_level", "debug" if self.debug else "info")
        from .cli import APP_RUN_PORT, DEFAULT_HOST

        uvicorn.run(self, host=host or DEFAULT_HOST, port=APP_RUN_PORT if port is None else port,
                    **options)

    def __repr__(self) -> str:
        return f"<dyne.App routes={len(self.router.routes)} debug={self.debug}>"


@functools.lru_cache(maxsize=64)
def _request_type(names: tuple[str, ...]) -> type[Request]:
    """A ``Request`` subclass with a property for each of ``names`` (see
    ``App._refresh_request_type``); named ``Request`` like its base, and
    shared by the apps with the same request property names."""

    def accessor(name: str) -> property:
        def get(req: Request) -> Any:
            app = req.app
            getter = app.request_properties.get(name) if app is not None else None
            if getter is None:  # removed from the dict: Request.__getattr__ answers
                raise AttributeError(f"'Request' object has no attribute {name!r}")
            return getter(req)

        get.__name__ = name
        return property(get)

    namespace: dict[str, Any] = {"__slots__": (), "__module__": Request.__module__,
                                 "__qualname__": Request.__qualname__, "__doc__": Request.__doc__}
    namespace.update((name, accessor(name)) for name in names)
    return type(Request.__name__, (Request,), namespace)


def _teardown_step(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook(req, resp, exc)``, sync or async, as a coroutine function."""
    if is_async_callable(hook):
        return hook

    async def run_in_thread(req: Request, resp: Response, exc: BaseException | None) -> None:
        await run_sync(hook, req, resp, exc)

    return run_in_thread
