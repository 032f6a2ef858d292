"""dyne, written as its documentation shows (``(req, resp)`` views).

The POST endpoint uses ``@input(Item)``/``@output(Item)`` from
``dyne.ext.io`` when this dyne has it; otherwise (a checkout from before the
IO extension) the view validates with pydantic itself. ``POST_STYLE`` says
which one ran, and the report records it.
"""

from __future__ import annotations

from pydantic import ValidationError

import dyne

from ._common import HELLO, ROUTE_COUNT, Item

app = dyne.App()


@app.get("/")
async def hello(req, resp):
    resp.media = HELLO


@app.get("/users/{user_id:int}")
async def user(req, resp, *, user_id):
    resp.media = {"id": user_id}


@app.get("/search")
async def search(req, resp):
    params = req.params
    try:
        resp.media = {"q": params["q"], "limit": int(params.get("limit", "10")),
                      "offset": int(params.get("offset", "0"))}
    except (KeyError, ValueError):
        resp.status_code = 400
        resp.media = {"detail": "Bad query"}


try:
    from dyne.ext.io.pydantic import input, output
except ImportError:  # dyne without the IO extension
    POST_STYLE = "pydantic in the view"

    @app.post("/items")
    async def create_item(req, resp):
        try:
            item = Item.model_validate_json(await req.content)
        except ValidationError as exc:
            resp.status_code = 422
            resp.media = exc.errors(include_url=False, include_context=False)
            return
        resp.content = item.model_dump_json().encode()
        resp.mimetype = "application/json"
else:
    POST_STYLE = "@input/@output"

    @app.post("/items")
    @input(Item)
    @output(Item)
    async def create_item(req, resp, *, data):
        resp.obj = data


# The signature style (scenarios "query_sig" and "post_sig"): parameters and
# the body read from the view's signature, the return annotation serialized.
if hasattr(dyne, "Query"):
    @app.get("/signature/search")
    async def search_signature(req, resp, *, q: str, limit: int = 10, offset: int = 0):
        return {"q": q, "limit": limit, "offset": offset}

    @app.post("/signature/items")
    async def create_item_signature(req, resp, *, item: Item) -> Item:
        return item


many = dyne.App()


def _add_many_route(n: int) -> None:
    async def endpoint(req, resp, *, item_id):
        resp.media = {"route": n, "item_id": item_id}

    many.add_route(f"/api/r{n}/items/{{item_id:int}}", endpoint, methods=["GET"], name=f"route_{n}")


for _n in range(ROUTE_COUNT):
    _add_many_route(_n)


# -- observability on (scenarios "logged", "metered", "traced", "observed") ----------------
# Built only when asked for (module __getattr__), so the plain apps above are
# measured in a process where the extensions were never imported.

def _observed_app(*, logged: bool = False, metered: bool = False, traced: bool = False):
    import os

    observed = dyne.App()
    if logged:
        from dyne.ext.observability import RequestContext

        # JSON lines, formatted for real, written nowhere: the framework's cost.
        observed.config["DEFAULT_LOGGER"] = {"SINK": os.devnull, "FORMAT": "json"}
        RequestContext(observed)
    if metered:
        from dyne.ext.observability import Metrics

        Metrics(observed)
    if traced:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        from dyne.ext.observability import Tracing

        class Discard(SpanExporter):
            def export(self, spans):
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Discard()))
        Tracing(observed, tracer_provider=provider)

    @observed.get("/")
    async def observed_hello(req, resp):
        resp.media = HELLO

    return observed



# -- caching: the same "report" uncached, cached in memory, cached on Redis -----------------
# (target "cache", built on first use like the observed apps)

def _cache_app():
    from dyne.ext.cache import Cache

    from ._common import build_report

    cached = dyne.App()
    cached.config["REDIS_CACHE_BACKEND"] = "redis"
    cached.config["REDIS_CACHE_KEY_PREFIX"] = "dyne-bench:cache:"
    memory_cache = Cache(cached)
    redis_cache = Cache(cached, variable_prefix="REDIS_")

    @cached.get("/report")
    async def report(req, resp):
        resp.media = build_report()

    @cached.get("/report/memory")
    @memory_cache.cache(duration=3600)
    async def report_memory(req, resp):
        resp.media = build_report()

    @cached.get("/report/redis")
    @redis_cache.cache(duration=3600)
    async def report_redis(req, resp):
        resp.media = build_report()

    return cached


_OBSERVED = {"logged": {"logged": True}, "metered": {"metered": True}, "traced": {"traced": True},
             "observed": {"logged": True, "metered": True, "traced": True}}


def __getattr__(name):
    if name == "cache":
        built = globals()[name] = _cache_app()
        return built
    if name == "controlled":
        from .dyne_controllers import controlled

        built = globals()[name] = controlled
        return built
    options = _OBSERVED.get(name)
    if options is None:
        raise AttributeError(name)
    built = globals()[name] = _observed_app(**options)
    return built
