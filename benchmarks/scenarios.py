"""The benchmark scenarios: what is requested and what every app must answer.

Pure standard library: used by the runner (over HTTP, with wrk) and by the
test suite (in process), so that a framework's app that answers wrongly is
caught before it is measured.
"""

from __future__ import annotations

import json
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

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def check_response(scenario: Scenario, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """``None`` when the answer is right, else what is wrong with it.
    ``headers`` has lower-case names."""
    if status != 200:
        return f"status {status}, expected 200 (body {body[:200]!r})"
    content_type = headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return f"content-type {content_type!r}, expected application/json"
    length = headers.get("content-length")
    if length is not None and int(length) != len(body):
        return f"content-length {length} but {len(body)} bytes"
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
