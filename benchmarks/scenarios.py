"""The benchmark scenarios: what is requested and what every app must answer.

Pure standard library: used by the runner (over HTTP, with wrk) and by the
test suite (in process), so that a framework's app that answers wrongly is
caught before it is measured.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HELLO = {"message": "Hello, world!"}
ITEM = {"name": "Widget", "price": 9.99, "quantity": 3, "tags": ["tools", "sale"]}
ITEM_BODY = json.dumps(ITEM, separators=(",", ":")).encode()
#: Fails validation (``quantity`` is not an integer): every app must answer 4xx.
BAD_ITEM_BODY = b'{"name": "Widget", "price": 9.99, "quantity": "three"}'


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: str
    expected: Any
    method: str = "GET"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: ``"app"`` (the scenario app) or ``"many"`` (the 500-route app).
    target: str = "app"
    #: Extra requests checked (not measured): (method, path, body, headers, allowed statuses).
    negative: tuple[tuple[str, str, bytes, dict[str, str], tuple[int, ...]], ...] = ()
    #: The frameworks that run this scenario (``None``: every one).
    frameworks: tuple[str, ...] | None = None
    #: Compare with this scenario of the same framework instead of raw ASGI
    #: (the cost of a feature: dyne with access logging vs plain dyne).
    baseline: str | None = None
    #: The apps' module: ``benchmarks/apps/<framework>_<module>.py``.
    module: str = "app"
    #: The answer's media type.
    content_type: str = "application/json"
    #: Checks an answer that is not one fixed value (random rows, HTML): returns
    #: what is wrong with the body, or ``None``. Overrides ``expected``.
    validate: Callable[[bytes], str | None] | None = None
    #: wrk's concurrent connections for this scenario (``None``: the run's
    #: ``--connections``, 64 by default); an explicit ``--connections`` wins.
    connections: int | None = None

    def applies_to(self, framework: str) -> bool:
        return self.frameworks is None or framework in self.frameworks


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("hello", "hello-world JSON", "/", HELLO),
    Scenario("path", "typed path parameter", "/users/42", {"id": 42},
             negative=(("GET", "/users/abc", b"", {}, (404, 400, 422)),)),
    Scenario("query", "query string", "/search?q=python&limit=10&offset=20",
             {"q": "python", "limit": 10, "offset": 20}),
    Scenario("post", "validated JSON POST", "/items", ITEM, method="POST", body=ITEM_BODY,
             headers={"Content-Type": "application/json"},
             negative=(("POST", "/items", BAD_ITEM_BODY, {"Content-Type": "application/json"},
                        (400, 422)),)),
    Scenario("first", "500 routes: first", "/api/r0/items/7", {"route": 0, "item_id": 7},
             target="many"),
    Scenario("last", "500 routes: last", "/api/r499/items/7", {"route": 499, "item_id": 7},
             target="many"),
    # dyne's observability extensions, each on alone and then all together, on
    # the hello-world route; compared with dyne's plain "hello" (where they
    # are off, and no middleware exists). Logs and spans go to /dev/null and a
    # discarding exporter: the framework's cost, not the disk's.
    Scenario("logged", "hello + request id + access log (vs dyne hello)", "/", HELLO,
             target="logged", frameworks=("dyne",), baseline="hello"),
    Scenario("metered", "hello + Prometheus metrics (vs dyne hello)", "/", HELLO,
             target="metered", frameworks=("dyne",), baseline="hello"),
    Scenario("traced", "hello + OpenTelemetry span (vs dyne hello)", "/", HELLO,
             target="traced", frameworks=("dyne",), baseline="hello"),
    Scenario("observed", "hello + all three (vs dyne hello)", "/", HELLO,
             target="observed", frameworks=("dyne",), baseline="hello"),
)

#: What the "report" endpoints answer: a list built with some work per request
#: (a stand-in for a database query), the same whether cached or not.
REPORT = {"items": [{"id": i, "label": f"item-{i}", "score": (i * 7919) % 1000} for i in range(100)],
          "total": sum((i * 7919) % 1000 for i in range(100))}

#: dyne only: the same endpoint uncached, cached in memory, and cached on Redis
#: (hits: the entry is computed once, by the correctness check).
CACHE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("report", "report, uncached", "/report", REPORT, target="cache", frameworks=("dyne",)),
    Scenario("cached", "report, memory cache hit (vs dyne report)", "/report/memory", REPORT,
             target="cache", frameworks=("dyne",), baseline="report"),
    Scenario("redis", "report, Redis cache hit (vs dyne report)", "/report/redis", REPORT,
             target="cache", frameworks=("dyne",), baseline="report"),
)
#: dyne only: a controller (dyne.controllers, PyJolt's form) answering like the
#: function views, compared with dyne's own hello, path and post.
CONTROLLER_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("controller-hello", "controller: hello (vs dyne hello)", "/", HELLO,
             target="controlled", frameworks=("dyne",), baseline="hello"),
    Scenario("controller-path", "controller: typed path parameter (vs dyne path)", "/users/42",
             {"id": 42}, target="controlled", frameworks=("dyne",), baseline="path",
             negative=(("GET", "/users/abc", b"", {}, (404,)),)),
    Scenario("controller-post", "controller: @consumes JSON POST (vs dyne post)", "/items", ITEM,
             method="POST", body=ITEM_BODY, headers={"Content-Type": "application/json"},
             target="controlled", frameworks=("dyne",), baseline="post",
             negative=(("POST", "/items", BAD_ITEM_BODY, {"Content-Type": "application/json"}, (422,)),)),
)

#: dyne only: the query and POST scenarios written in the signature style
#: (``limit: int = 10``, ``item: Item`` parameters, ``-> Item``), compared with
#: dyne's own query (read by hand) and POST (``@input``/``@output``) views.
SIGNATURE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("query_sig", "query string, signature parameters (vs dyne query)",
             "/signature/search?q=python&limit=10&offset=20",
             {"q": "python", "limit": 10, "offset": 20}, frameworks=("dyne",), baseline="query",
             negative=(("GET", "/signature/search?q=python&limit=ten", b"", {}, (400,)),)),
    Scenario("post_sig", "validated JSON POST, signature style (vs dyne post)", "/signature/items",
             ITEM, method="POST", body=ITEM_BODY, headers={"Content-Type": "application/json"},
             frameworks=("dyne",), baseline="post",
             negative=(("POST", "/signature/items", BAD_ITEM_BODY,
                        {"Content-Type": "application/json"}, (400,)),)),
)
SCENARIOS = SCENARIOS + CACHE_SCENARIOS + CONTROLLER_SCENARIOS + SIGNATURE_SCENARIOS


# -- TechEmpower Framework Benchmarks test types ----------------------------------------
#
# On the real PostgreSQL, seeded by benchmarks/tfb_db.py as the TFB rules say. Two
# flavours: "driver" (every framework with asyncpg directly, raw ASGI + asyncpg the
# ceiling) and "batteries" (each framework's documented database path: dyne's
# Alchemical extension, FastAPI with SQLAlchemy async sessions, Litestar's SQLAlchemy
# plugin; raw ASGI + asyncpg stays the ceiling).

#: The 12 fortunes of the TFB ``fortune`` table, by id.
FORTUNES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
)
ADDITIONAL_FORTUNE = "Additional fortune added at request time."
TFB_FRAMEWORKS_BATTERIES = ("raw", "dyne", "fastapi", "litestar")


def _world_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != {"id", "randomNumber"}:
        return f"not a world object: {value!r}"
    for key in ("id", "randomNumber"):
        number = value[key]
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10000:
            return f"{key} {number!r} is not an integer in 1..10000"
    return None


def _json(body: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(body), None
    except ValueError:
        return None, f"body is not JSON: {body[:200]!r}"


def validate_world(body: bytes) -> str | None:
    data, problem = _json(body)
    return problem or _world_problem(data)


def validate_worlds(count: int) -> Callable[[bytes], str | None]:
    def validate(body: bytes) -> str | None:
        data, problem = _json(body)
        if problem:
            return problem
        if not isinstance(data, list) or len(data) != count:
            return f"expected a list of {count} worlds, got {str(data)[:200]}"
        for world in data:
            problem = _world_problem(world)
            if problem:
                return problem
        return None
    return validate


def fortunes_rows() -> list[tuple[int, str]]:
    rows = [*enumerate(FORTUNES, start=1), (0, ADDITIONAL_FORTUNE)]
    return sorted(rows, key=lambda row: row[1])


def validate_fortunes(body: bytes) -> str | None:
    """The table's rows, in order, escaped (whitespace between tags ignored)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "fortunes page is not UTF-8"
    compact = re.sub(r">\s+<", "><", text)
    found = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", compact)
    if any(char in message for _, message in found for char in '<>"'):
        return "a fortune's message is not HTML-escaped"
    if [(int(i), html.unescape(message)) for i, message in found] != fortunes_rows():
        return f"fortune rows {found[:3]}... differ from the expected {fortunes_rows()[:3]}..."
    return None


def validate_plaintext(body: bytes) -> str | None:
    return None if body == b"Hello, World!" else f"body {body[:100]!r}, expected b'Hello, World!'"


def _tfb(name: str, title: str, path: str, target: str, **options: Any) -> Scenario:
    return Scenario(name, title, path, None, target=target, module="tfb", **options)


TFB_SCENARIOS: tuple[Scenario, ...] = (
    _tfb("plaintext", "plaintext", "/plaintext", "driver", content_type="text/plain",
         validate=validate_plaintext),
    Scenario("json", "JSON serialization", "/json", {"message": "Hello, World!"},
             target="driver", module="tfb"),
    _tfb("db", "single query (driver)", "/db", "driver", validate=validate_world),
    _tfb("queries", "20 queries (driver)", "/queries?queries=20", "driver",
         validate=validate_worlds(20),
         negative=(("GET", "/queries?queries=foo", b"", {}, (200,)),)),
    _tfb("fortunes", "fortunes (driver)", "/fortunes", "driver", content_type="text/html",
         validate=validate_fortunes),
    _tfb("updates", "20 updates (driver)", "/updates?queries=20", "driver",
         validate=validate_worlds(20)),
    _tfb("db-orm", "single query (batteries)", "/db", "batteries", validate=validate_world,
         frameworks=TFB_FRAMEWORKS_BATTERIES),
    _tfb("queries-orm", "20 queries (batteries)", "/queries?queries=20", "batteries",
         validate=validate_worlds(20), frameworks=TFB_FRAMEWORKS_BATTERIES),
    _tfb("fortunes-orm", "fortunes (batteries)", "/fortunes", "batteries",
         content_type="text/html", validate=validate_fortunes,
         frameworks=TFB_FRAMEWORKS_BATTERIES),
    _tfb("updates-orm", "20 updates (batteries)", "/updates?queries=20", "batteries",
         validate=validate_worlds(20), frameworks=TFB_FRAMEWORKS_BATTERIES),
)


# -- Seed 003's own benchmark: list users from SQLite at concurrency 200 ---------------
#
# Patera's README measures ``GET /api/v1/users`` (a simple query on a SQLite
# database fetching all users, 139 bytes of JSON) with ``ab -k -c 200``. Here with
# wrk at 200 connections, on a SQLite file the runner creates and seeds
# (benchmarks/users_db.py). Two flavours, as in the TechEmpower suite: "driver"
# (every framework with aiosqlite directly, raw ASGI + aiosqlite the ceiling) and
# "batteries" (each framework's documented database path: dyne's Alchemical
# extension, FastAPI with SQLAlchemy async sessions, Litestar's SQLAlchemy plugin,
# Patera's SqlDatabase extension, all on ``sqlite+aiosqlite``; raw ASGI + aiosqlite
# stays the ceiling). Patera itself runs this suite only.

#: The seeded users, in id order: what ``GET /api/v1/users`` must answer (145 bytes
#: as compact JSON, close to the 139 of Patera's example).
USERS = (
    {"id": 1, "name": "ada", "email": "ada@example.com"},
    {"id": 2, "name": "bob", "email": "bob@example.com"},
    {"id": 3, "name": "eve", "email": "eve@example.com"},
)
USERS_CONNECTIONS = 200
USERS_FRAMEWORKS_BATTERIES = ("raw", "dyne", "fastapi", "litestar", "patera")

USERS_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("users", "list users from SQLite (aiosqlite)", "/api/v1/users", list(USERS),
             target="driver", module="users", connections=USERS_CONNECTIONS),
    Scenario("users-orm", "list users from SQLite (ORM)", "/api/v1/users", list(USERS),
             target="batteries", module="users", connections=USERS_CONNECTIONS,
             frameworks=USERS_FRAMEWORKS_BATTERIES),
)

#: ``python3 -m benchmarks --suite NAME``.
SUITES: dict[str, tuple[Scenario, ...]] = {"default": SCENARIOS, "tfb": TFB_SCENARIOS,
                                           "users": USERS_SCENARIOS}
ALL_SCENARIOS = SCENARIOS + TFB_SCENARIOS + USERS_SCENARIOS
BY_NAME = {scenario.name: scenario for scenario in ALL_SCENARIOS}


def check_response(scenario: Scenario, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """``None`` when the answer is right, else what is wrong with it.
    ``headers`` has lower-case names."""
    if status != 200:
        return f"status {status}, expected 200 (body {body[:200]!r})"
    content_type = headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != scenario.content_type:
        return f"content-type {content_type!r}, expected {scenario.content_type}"
    length = headers.get("content-length")
    if length is not None and int(length) != len(body):
        return f"content-length {length} but {len(body)} bytes"
    if scenario.validate is not None:
        return scenario.validate(body)
    try:
        data = json.loads(body)
    except ValueError:
        return f"body is not JSON: {body[:200]!r}"
    if data != scenario.expected:
        return f"body {data!r}, expected {scenario.expected!r}"
    return None


def check_negative(allowed: tuple[int, ...], status: int) -> str | None:
    if status not in allowed:
        return f"status {status}, expected one of {allowed}"
    return None
