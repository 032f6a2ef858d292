"""``GraphQLView``: GraphQL over HTTP for a dyne app.

::

    view = GraphQLView(app=app, schema=schema)
    app.add_route("/graphql", view)

The view follows the GraphQL-over-HTTP specification: GET with ``query`` (or
``q``), ``variables``, ``operationName`` and ``extensions`` in the URL (queries
only: a mutation over GET is a 405), POST with a JSON body or an
``application/graphql`` body, and responses in ``application/json`` or, when
the client asks for it, ``application/graphql-response+json``. A browser
(``Accept: text/html``) gets GraphiQL instead.

Everything that can be prepared is prepared when the view is created: the
schema's executor, the backend check, the GraphiQL asset route. A request
only reads its parameters, checks their size, and has the backend parse,
validate and execute them.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import orjson

from dyne.app import App
from dyne.exceptions import HTTPException
from dyne.extensions import Extension
from dyne.formats import json_dumps, parse_accept

from .base import BackendSchema, GraphQLRequest, GraphQLResult, MutationNotAllowed, request_error
from .limits import QueryLimits, check_query

if TYPE_CHECKING:
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["GraphQLExtension", "GraphQLView"]

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
HTML = "text/html"
#: Methods the endpoint answers, for ``Allow`` headers.
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


class BadRequest(Exception):
    """A request that is not a well-formed GraphQL-over-HTTP request."""

    def __init__(self, message: str, status_code: int = 400, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.headers = headers or {}


class GraphQLExtension(Extension):
    """What ``app.extensions["graphql"]`` holds: the app's GraphQL backend
    (one per app) and its views. The first ``GraphQLView`` of an app creates
    and binds it."""

    name = "graphql"

    def __init__(self, backend: str, app: App | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.views: list[GraphQLView] = []
        self.assets_route: Any = None
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"<GraphQLExtension backend={self.backend!r} views={len(self.views)}>"


def _raw_schema_error(schema: Any) -> TypeError:
    """A TypeError that says which dyne Schema class to use instead."""
    modules = {cls.__module__.split(".")[0] for cls in type(schema).__mro__}
    if "strawberry" in modules:
        return TypeError(
            "GraphQLView needs a schema built with dyne's wrapper, got a raw strawberry.Schema. "
            "Use `from dyne.ext.graphql.strawberry import Schema` and `Schema(query=Query, ...)`.")
    if "graphene" in modules:
        return TypeError(
            "GraphQLView needs a schema built with dyne's wrapper, got a raw graphene.Schema. "
            "Use `from dyne.ext.graphql.graphene import Schema` and `Schema(query=Query, ...)`.")
    return TypeError(
        f"GraphQLView needs a dyne GraphQL schema, got {type(schema).__name__}. Build it with "
        "`dyne.ext.graphql.strawberry.Schema` or `dyne.ext.graphql.graphene.Schema`.")


def _check_backend(app: App, backend: str) -> None:
    """One GraphQL backend per app: refuse a second one."""
    extension = app.extensions.get("graphql")
    if extension is None:
        return
    if not isinstance(extension, GraphQLExtension):
        raise RuntimeError(f"app.extensions['graphql'] is already taken by {extension!r}")
    if extension.backend != backend:
        raise RuntimeError(
            f"This app already serves a {extension.backend.capitalize()} GraphQL schema; "
            f"mixing GraphQL backends in one app is not supported (got a "
            f"{backend.capitalize()} schema). Use one backend per app.")


class GraphQLView:
    """A GraphQL endpoint. Create it with the app and a dyne schema, then add it
    to a route: ``app.add_route("/graphql", GraphQLView(app=app, schema=schema))``.

    :param app: the ``dyne.App`` the view belongs to. An app serves one GraphQL
        backend: a schema of the other backend raises ``RuntimeError``.
    :param schema: a ``dyne.ext.graphql.strawberry.Schema`` or
        ``dyne.ext.graphql.graphene.Schema`` (a raw Strawberry or Graphene
        schema raises ``TypeError``).
    :param graphiql: show GraphiQL to browsers (``Accept: text/html``). Its
        files are served by the app under ``/_dyne/graphiql/``.
    :param root_value: the root value resolvers receive as their parent.
    :param max_query_length: longest query accepted, in characters.
    :param max_tokens: most lexical tokens a query may have.
    :param max_depth: deepest nesting of ``{}``, ``()`` and ``[]`` in a query.
        ``None`` disables a limit; a query over a limit gets a GraphQL error
        and is never parsed.

    Resolvers find the request and response in ``info.context["request"]`` and
    ``info.context["response"]``; override ``get_context`` to add more.

    Its route is left out of the OpenAPI document (``include_in_schema``).
    """

    #: Read by ``add_route``: GraphQL is described by its own schema, not OpenAPI.
    include_in_schema = False

    def __init__(self, app: App, schema: BackendSchema, *, graphiql: bool = True,
                 root_value: Any = None, max_query_length: int | None = 100_000,
                 max_tokens: int | None = 15_000, max_depth: int | None = 64) -> None:
        if not isinstance(app, App):
            raise TypeError(f"GraphQLView(app=...) needs a dyne.App, got {type(app).__name__}")
        if not isinstance(schema, BackendSchema):
            raise _raw_schema_error(schema)
        for name, limit in (("max_query_length", max_query_length), ("max_tokens", max_tokens),
                            ("max_depth", max_depth)):
            if limit is not None and (not isinstance(limit, int) or limit < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {limit!r}")
        self.app = app
        self.schema = schema
        self.graphiql = graphiql
        self.root_value = root_value
        self.limits = QueryLimits(max_query_length, max_tokens, max_depth)
        _check_backend(app, schema.graphql_backend)
        self.executor = schema.create_executor()
        self._register(app, schema.graphql_backend)

    def _register(self, app: App, backend: str) -> None:
        extension = app.extensions.get("graphql")
        if extension is None:
            extension = GraphQLExtension(backend, app)
        if self.graphiql and extension.assets_route is None:
            from .graphiql import add_assets_route

            extension.assets_route = add_assets_route(app)
        extension.views.append(self)

    # -- hooks for subclasses --------------------------------------------------------

    def get_context(self, req: Request, resp: Response) -> Any:
        """The ``info.context`` resolvers receive (may be a coroutine function
        in a subclass). By default ``{"request": req, "response": resp}``.
        ``abort(status)`` here refuses the request with that status and a
        GraphQL error body."""
        return {"request": req, "response": resp}

    def get_root_value(self, req: Request) -> Any:
        """The root value for this request (by default the ``root_value=`` given)."""
        return self.root_value

    # -- HTTP methods ----------------------------------------------------------------

    async def on_get(self, req: Request, resp: Response, **path_params: Any) -> None:
        media = self._negotiate(req, html=self.graphiql)
        if media == HTML:
            from .graphiql import graphiql_page

            resp.html = graphiql_page(req)
            resp.headers["Cache-Control"] = "no-cache"
            return
        try:
            if media is None:
                raise self._not_acceptable()
            request = self._params_from_url(req)
        except BadRequest as error:
            self._send_error(resp, media or JSON, error)
            return
        await self._run(req, resp, request, media, allow_mutations=False)

    async def on_post(self, req: Request, resp: Response, **path_params: Any) -> None:
        media = self._negotiate(req, html=False)
        try:
            if media is None:
                raise self._not_acceptable()
            request = await self._params_from_body(req)
        except BadRequest as error:
            self._send_error(resp, media or JSON, error)
            return
        await self._run(req, resp, request, media, allow_mutations=True)

    async def on_options(self, req: Request, resp: Response, **path_params: Any) -> None:
        resp.status_code = 204
        resp.headers["Allow"] = ALLOWED_METHODS

    # -- the request -------------------------------------------------------------------

    @staticmethod
    def _negotiate(req: Request, html: bool) -> str | None:
        """The response media type the client prefers: GraphiQL's ``text/html``
        (only when named, and only when ``html``), ``application/graphql-response+json``
        or ``application/json`` (also for ``*/*`` and ``application/*``). A
        request without ``Accept`` gets ``application/graphql-response+json``,
        as the specification says for requests since 2025. ``None``: nothing
        acceptable (406)."""
        accept = req.raw_header(b"accept")
        if not accept:
            return GRAPHQL_RESPONSE_JSON
        for media, quality in parse_accept(accept.decode("latin-1")):
            if quality <= 0:
                continue
            if media == GRAPHQL_RESPONSE_JSON:
                return GRAPHQL_RESPONSE_JSON
            if media in (JSON, "application/*", "*/*"):
                return JSON
            if media == HTML and html:
                return HTML
        return None

    @staticmethod
    def _not_acceptable() -> BadRequest:
        return BadRequest(f"Not acceptable: this endpoint answers with {GRAPHQL_RESPONSE_JSON} or "
                          f"{JSON}.", 406)

    @staticmethod
    def _params_from_url(req: Request, query: str | None = None) -> GraphQLRequest:
        """The request's parameters from the URL; ``query`` when it came in the body."""
        params = req.params
        if query is None:
            query = params.get("query") or params.get("q")
            if not query:
                raise BadRequest("Missing the GraphQL query: send it in the `query` (or `q`) URL "
                                 "parameter, or POST it as JSON.")
        return GraphQLRequest(
            query=query,
            variables=_json_object_param(params.get("variables"), "variables"),
            operation_name=params.get("operationName") or None,
            extensions=_json_object_param(params.get("extensions"), "extensions"),
        )

    async def _params_from_body(self, req: Request) -> GraphQLRequest:
        mimetype = req.mimetype
        if mimetype == "application/graphql":
            query = (await _read_text(req)).strip()
            if not query:
                raise BadRequest("The application/graphql request body is empty: it must be the "
                                 "GraphQL query.")
            return self._params_from_url(req, query)
        if mimetype != JSON and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
            what = f"Content-Type {mimetype}" if mimetype else "no Content-Type"
            raise BadRequest(f"Unsupported request: {what}. POST the GraphQL request as "
                             f"{JSON} (or the query alone as application/graphql).", 415)
        return _params_from_json(await _read_json(req))

    # -- execution and the response ------------------------------------------------------

    async def _run(self, req: Request, resp: Response, request: GraphQLRequest, media: str,
                   allow_mutations: bool) -> None:
        problem = check_query(request.query, self.limits)
        if problem is not None:
            result = request_error(problem)
        else:
            try:
                context = self.get_context(req, resp)
                if inspect.isawaitable(context):
                    context = await context
            except HTTPException as exc:
                # abort(401) in get_context refuses the whole request, GraphQL-style.
                self._send_error(resp, media, BadRequest(str(exc.detail), exc.status_code, exc.headers))
                return
            try:
                result = await self.executor.execute(
                    request, context=context, root_value=self.get_root_value(req),
                    allow_mutations=allow_mutations)
            except MutationNotAllowed:
                self._send_error(resp, media, BadRequest(
                    "Mutations are not allowed over GET: send them with POST.", 405,
                    {"Allow": "POST"}))
                return
        # A resolver may have set a status code on info.context["response"]: keep it.
        status = resp.status_code if resp.is_set else self._status_for(result, media)
        self._send(resp, media, status, result)

    @staticmethod
    def _status_for(result: GraphQLResult, media: str) -> int:
        """GraphQL over HTTP: ``application/json`` answers 200 to any
        well-formed request; ``application/graphql-response+json`` answers 400
        when the request failed before execution (no ``data``)."""
        if media == GRAPHQL_RESPONSE_JSON and not result.executed:
            return 400
        return 200

    @staticmethod
    def _send(resp: Response, media: str, status: int, result: GraphQLResult) -> None:
        resp.content = json_dumps(result.to_dict())
        resp.status_code = status
        resp.headers["Content-Type"] = f"{media}; charset=utf-8"

    def _send_error(self, resp: Response, media: str, error: BadRequest) -> None:
        self._send(resp, media, error.status_code, request_error(error.message))
        for name, value in error.headers.items():
            resp.headers[name] = value

    def __repr__(self) -> str:
        return f"<GraphQLView backend={self.schema.graphql_backend!r}>"


# -- reading parameters --------------------------------------------------------------------

async def _read_body(req: Request) -> bytes:
    try:
        return await req.content
    except HTTPException as exc:  # 413: larger than the app's max_body_size
        raise BadRequest(str(exc.detail), exc.status_code) from None


async def _read_text(req: Request) -> str:
    body = await _read_body(req)
    try:
        return body.decode(req.encoding)
    except LookupError:
        raise BadRequest(f"Unknown charset {req.encoding!r} in the Content-Type header.",
                         415) from None
    except UnicodeDecodeError:
        raise BadRequest(f"The request body is not valid {req.encoding}.") from None


async def _read_json(req: Request) -> Any:
    body: bytes | str
    if req.encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        body = await _read_body(req)
    else:
        body = await _read_text(req)
    if not body:
        raise BadRequest("The request body is empty: it must be a JSON object with a `query`.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None


def _params_from_json(data: Any) -> GraphQLRequest:
    if isinstance(data, list):
        raise BadRequest("Batched requests (a JSON array) are not supported: send one "
                         "operation per request.")
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object with a `query`.")
    query = data.get("query")
    if query is None:
        raise BadRequest("Missing the GraphQL query: the JSON body has no `query`.")
    if not isinstance(query, str):
        raise BadRequest(f"`query` must be a string, got {_json_type(query)}.")
    if not query.strip():
        raise BadRequest("`query` is empty.")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest(f"`operationName` must be a string or null, got {_json_type(operation_name)}.")
    return GraphQLRequest(
        query=query,
        variables=_object_or_none(data.get("variables"), "variables"),
        operation_name=operation_name or None,
        extensions=_object_or_none(data.get("extensions"), "extensions"),
    )


def _json_object_param(raw: str | None, name: str) -> dict[str, Any] | None:
    """A URL parameter holding a JSON object (``variables``, ``extensions``)."""
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"`{name}` must be a JSON-encoded object: {exc}") from None
    return _object_or_none(value, name)


def _object_or_none(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise BadRequest(f"`{name}` must be a JSON object or null, got {_json_type(value)}.")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
