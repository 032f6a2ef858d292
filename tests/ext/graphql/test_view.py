"""GraphQL over HTTP, as a client sees it, with each backend (see conftest)."""

from __future__ import annotations

import json

import pytest

import dyne
from dyne.ext.graphql import GraphQLView

from .conftest import serve

GRJ = "application/graphql-response+json"
JSON = "application/json"
TWO_OPERATIONS = "query First { hello } query Second { hello(name: \"Second\") }"


def errors_of(response) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


# -- GET -------------------------------------------------------------------------------------

def test_get_query_parameter(gql):
    response = gql.get("{ hello }")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"data": {"hello": "Hello stranger"}}


def test_get_q_parameter_is_an_alias(gql):
    assert gql.client.get("/graphql", params={"q": '{ hello(name: "Q") }'}).json() == {
        "data": {"hello": "Hello Q"}}


def test_get_variables_and_operation_name_from_the_url(gql):
    response = gql.get("query Greet($who: String!) { hello(name: $who) }",
                       variables=json.dumps({"who": "Ada"}))
    assert response.json() == {"data": {"hello": "Hello Ada"}}
    response = gql.get(TWO_OPERATIONS, operationName="Second")
    assert response.json() == {"data": {"hello": "Hello Second"}}
    # An empty operationName is the same as none.
    assert gql.get("{ hello }", operationName="").json() == {"data": {"hello": "Hello stranger"}}


def test_get_without_a_query_is_a_bad_request(gql):
    for response in (gql.get(), gql.get(""), gql.client.get("/graphql?q=")):
        assert response.status_code == 400
        assert "query" in errors_of(response)[0]
        assert "data" not in response.json()


@pytest.mark.parametrize("variables", ["{not json", "[1, 2]", '"text"', "7"])
def test_get_variables_must_be_a_json_object(gql, variables):
    response = gql.get("{ hello }", variables=variables)
    assert response.status_code == 400
    assert "`variables` must be" in errors_of(response)[0]


def test_mutation_over_get_is_refused_and_not_executed(gql):
    for accept in (JSON, GRJ):
        response = gql.get("mutation { increment }", headers={"Accept": accept})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.headers["content-type"].startswith(accept)
        assert errors_of(response) == ["Mutations are not allowed over GET: send them with POST."]
    # operationName decides which operation of the document would run.
    document = "query Read { counter } mutation Write { increment }"
    assert gql.get(document, operationName="Write").status_code == 405
    assert gql.get(document, operationName="Read").json() == {"data": {"counter": 0}}
    assert gql.counter == [0]


def test_head_answers_like_get_without_a_body(gql):
    response = gql.client.head("/graphql", params={"query": "{ hello }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    assert response.content == b""


# -- POST ------------------------------------------------------------------------------------

def test_post_json_query_variables_and_operation_name(gql):
    response = gql.post("query Greet($who: String!) { hello(name: $who) }", variables={"who": "Bo"})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "Hello Bo"}}
    assert gql.post(TWO_OPERATIONS, operationName="First").json() == {
        "data": {"hello": "Hello stranger"}}


def test_post_mutation(gql):
    response = gql.post('mutation { createMessage(name: "Alice", message: "hi") { ok message } }')
    assert response.json() == {"data": {"createMessage": {"ok": True, "message": "Message from Alice: hi"}}}
    assert gql.post("mutation { increment }").json() == {"data": {"increment": 1}}
    assert gql.counter == [1]


def test_post_application_graphql_body_with_variables_in_the_url(gql):
    response = gql.client.post(
        "/graphql?variables=" + json.dumps({"who": "Cy"}),
        content="query ($who: String!) { hello(name: $who) }",
        headers={"Content-Type": "application/graphql"})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "Hello Cy"}}
    empty = gql.client.post("/graphql", content="  ", headers={"Content-Type": "application/graphql"})
    assert empty.status_code == 400
    assert "empty" in errors_of(empty)[0]


def test_post_body_charset(gql):
    body = json.dumps({"query": '{ hello(name: "Zoë") }'}, ensure_ascii=False)
    for charset in ("utf-8", "latin-1"):
        response = gql.client.post("/graphql", content=body.encode(charset),
                                   headers={"Content-Type": f"application/json; charset={charset}"})
        assert response.json() == {"data": {"hello": "Hello Zoë"}}
    bad = gql.client.post("/graphql", content=body.encode("utf-8"),
                          headers={"Content-Type": "application/json; charset=no-such-codec"})
    assert bad.status_code == 415
    assert "charset" in errors_of(bad)[0]
    broken = gql.client.post("/graphql", content=b'{"query": "\xff"}',
                             headers={"Content-Type": "application/graphql"})
    assert broken.status_code == 400


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "The request body is not valid JSON"),
    (b"", "The request body is empty"),
    (b'[{"query": "{ hello }"}]', "Batched requests"),
    (b'"{ hello }"', "must be a JSON object"),
    (b'{"qeury": "{ hello }"}', "no `query`"),
    (b'{"query": {"obj": "ect"}}', "`query` must be a string, got an object"),
    (b'{"query": 0}', "`query` must be a string, got a number"),
    (b'{"query": false}', "`query` must be a string, got a boolean"),
    (b'{"query": ["array"]}', "`query` must be a string, got an array"),
    (b'{"query": "  "}', "`query` is empty"),
    (b'{"query": "{ hello }", "operationName": 0}', "`operationName` must be a string or null"),
    (b'{"query": "{ hello }", "operationName": ["array"]}', "`operationName` must be"),
    (b'{"query": "{ hello }", "variables": "string"}', "`variables` must be a JSON object or null"),
    (b'{"query": "{ hello }", "variables": [7]}', "`variables` must be a JSON object or null, got an array"),
    (b'{"query": "{ hello }", "variables": false}', "`variables` must be"),
    (b'{"query": "{ hello }", "extensions": 0}', "`extensions` must be a JSON object or null"),
])
def test_malformed_post_bodies_are_400_with_a_graphql_error(gql, body, message):
    for accept in (JSON, GRJ):
        response = gql.client.post("/graphql", content=body,
                                   headers={"Content-Type": "application/json", "Accept": accept})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(accept)
        payload = response.json()
        assert "data" not in payload
        assert message in payload["errors"][0]["message"]


def test_null_and_map_parameters_are_accepted(gql):
    for extra in ({"variables": None}, {"operationName": None}, {"extensions": None},
                  {"extensions": {"some": "value"}}):
        response = gql.post("{ __typename }", **extra)
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_unsupported_request_content_types_are_415(gql, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = gql.client.post("/graphql", content=b"query=mutation+%7B+increment+%7D",
                               headers=headers)
    assert response.status_code == 415
    assert "application/json" in errors_of(response)[0]
    # A form post (which browsers send cross-site without a preflight) never runs a mutation.
    assert gql.counter == [0]


def test_body_over_the_app_limit_is_413_with_a_graphql_error(gql):
    gql.app.max_body_size = 100
    response = gql.post("{ hello }", variables={"padding": "x" * 200})
    assert response.status_code == 413
    assert "limit" in errors_of(response)[0]


# -- responses: media types and status codes ---------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    ("application/json", JSON),
    (GRJ, GRJ),
    (f"{GRJ}, application/json", GRJ),
    (f"application/json, {GRJ}", JSON),
    (f"application/json;q=0.5, {GRJ}", GRJ),
    ("*/*", JSON),
    ("application/*", JSON),
    ("text/html;q=0.9, application/json", JSON),
    (f"{GRJ}; charset=utf-8", GRJ),
])
def test_response_media_type_follows_accept(gql, accept, expected):
    response = gql.post("{ hello }", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    assert response.json() == {"data": {"hello": "Hello stranger"}}


def test_no_accept_header_means_graphql_response_json(gql):
    # httpx always sends Accept, so remove it from this request.
    request = gql.client.build_request("POST", "/graphql", json={"query": "{ nope }"})
    del request.headers["accept"]
    response = gql.client.send(request)
    assert response.headers["content-type"] == f"{GRJ}; charset=utf-8"
    assert response.status_code == 400


def test_unacceptable_accept_is_406(gql):
    for method in ("get", "post"):
        response = gql.client.request(method, "/graphql", params={"query": "{ hello }"},
                                      json={"query": "{ hello }"},
                                      headers={"Accept": "application/xml, text/html;q=0"})
        assert response.status_code == 406
        assert "application/json" in errors_of(response)[0]


REQUEST_ERRORS = {
    "syntax": ("{ hello", {}, "Syntax Error"),
    "validation": ("{ nope }", {}, "Cannot query field 'nope' on type 'Query'."),
    "unknown operation": ("query A { hello }", {"operationName": "Missing"}, "Missing"),
    "lone anonymous operation": ("{ hello } query B { hello }", {}, "anonymous operation"),
    "no operation": ("fragment F on Query { hello }", {}, ""),
    "variable type": ("query ($who: String!) { hello(name: $who) }", {"variables": {"who": 3}},
                      "$who"),
    "missing variable": ("query ($who: String!) { hello(name: $who) }", {}, "$who"),
}


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
def test_request_errors_have_no_data(gql, case):
    """Errors before execution: 400 with either media type (as Dyne 2.0.5
    answered application/json; the spec requires it for
    application/graphql-response+json); never a 500."""
    query, extra, message = REQUEST_ERRORS[case]
    legacy = gql.post(query, **extra)
    assert legacy.status_code == 400
    assert "data" not in legacy.json()
    assert message in errors_of(legacy)[0]
    modern = gql.post(query, headers={"Accept": GRJ}, **extra)
    assert modern.status_code == 400
    assert modern.json() == legacy.json()


def test_several_operations_without_operation_name(gql):
    """graphql-core (Graphene) follows the GraphQL spec's GetOperation and
    refuses; Strawberry runs the document's first operation, as it does in
    all its integrations (documented as a backend difference)."""
    response = gql.post(TWO_OPERATIONS, headers={"Accept": GRJ})
    if gql.backend == "graphene":
        assert response.status_code == 400
        assert errors_of(response) == ["Must provide operation name if query contains multiple "
                                       "operations."]
    else:
        assert response.status_code == 200
        assert response.json() == {"data": {"hello": "Hello stranger"}}


def test_field_errors_give_partial_data_and_200(gql):
    for accept in (JSON, GRJ):
        response = gql.post("{ hello boom }", headers={"Accept": accept})
        assert response.status_code == 200
        payload = response.json()
        assert payload["data"] == {"hello": "Hello stranger", "boom": None}
        assert payload["errors"] == [{"message": "kaboom", "locations": [{"line": 1, "column": 9}],
                                      "path": ["boom"]}]


def test_non_null_field_error_gives_null_data_and_200(gql):
    response = gql.post("{ hello strictBoom }", headers={"Accept": GRJ})
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] is None
    assert errors_of(response) == ["strict kaboom"]
    assert payload["errors"][0]["path"] == ["strictBoom"]


def test_other_methods_are_405_and_options_lists_the_methods(gql):
    response = gql.client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}
    options = gql.client.options("/graphql")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_the_endpoint_keeps_working_after_bad_requests(gql):
    for body in (b"{", b"[]", b'{"query": "{"}', b'{"query": "mutation { nope }"}'):
        gql.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    gql.get("mutation { increment }")
    assert gql.post("mutation { increment }").json() == {"data": {"increment": 1}}
    assert gql.get("{ hello counter }").json() == {"data": {"hello": "Hello stranger", "counter": 1}}


# -- resolvers: async, context, request and response -------------------------------------------

def test_async_resolvers_are_awaited(gql):
    assert gql.post('{ asyncHello(name: "Async") }').json() == {"data": {"asyncHello": "Hello Async"}}
    assert gql.post("mutation { a: increment b: increment }").json() == {"data": {"a": 1, "b": 2}}


def test_sync_resolvers_run_on_the_event_loop(gql):
    """Documented: execution stays on the loop; sync resolvers are called there."""
    data = gql.post("{ syncThread asyncThread }").json()["data"]
    assert data["syncThread"] == data["asyncThread"]


def test_resolvers_see_the_request(gql):
    response = gql.post("{ userAgent }", headers={"User-Agent": "resolver-test/1.0"})
    assert response.json() == {"data": {"userAgent": "resolver-test/1.0"}}


def test_resolvers_can_set_cookies_headers_and_status(gql):
    response = gql.post('mutation { remember(flavour: "mint") }')
    assert response.json() == {"data": {"remember": "mint"}}
    assert response.headers["x-flavour"] == "mint"
    assert response.cookies["flavour"] == "mint"
    teapot = gql.post("mutation { teapot }")
    assert teapot.status_code == 418
    assert teapot.json() == {"data": {"teapot": True}}


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_get_context_can_be_extended_and_async(backend):
    class TenantView(GraphQLView):
        async def get_context(self, req, resp):
            context = super().get_context(req, resp)
            context["request"] = type("FakeRequest", (), {"headers": {"user-agent": req.params["t"]}})
            return context

    served = serve(backend)
    app = dyne.App()
    app.add_route("/graphql", TenantView(app=app, schema=served.view.schema))
    response = app.client.post("/graphql?t=acme", json={"query": "{ userAgent }"})
    assert response.json() == {"data": {"userAgent": "acme"}}


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_view_on_a_path_with_parameters(backend):
    served = serve(backend)
    app = dyne.App()
    app.add_route("/tenants/{tenant}/graphql", GraphQLView(app=app, schema=served.view.schema))
    response = app.client.get("/tenants/acme/graphql", params={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "Hello stranger"}}


def test_deeply_nested_json_is_a_400_not_a_crash(gql):
    body = '{"query": "{ hello }", "variables": {"v": ' + "[" * 5_000 + "]" * 5_000 + "}}"
    response = gql.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in errors_of(response)[0]
    variables = json.dumps({"who": "x" * 10})
    deep_url = gql.get("query ($who: String!) { hello(name: $who) }", variables=variables)
    assert deep_url.json() == {"data": {"hello": "Hello xxxxxxxxxx"}}


def test_an_empty_query_parameter_falls_back_to_q(gql):
    response = gql.client.get("/graphql?query=&q=%7B%20hello%20%7D")
    assert response.json() == {"data": {"hello": "Hello stranger"}}


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_abort_in_get_context_refuses_the_request_graphql_style(backend):
    class PrivateView(GraphQLView):
        def get_context(self, req, resp):
            if req.headers.get("Authorization") != "Bearer good":
                dyne.abort(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})
            return super().get_context(req, resp)

    served = serve(backend)
    app = dyne.App()
    app.add_route("/graphql", PrivateView(app=app, schema=served.view.schema))
    for accept in (JSON, GRJ):
        refused = app.client.post("/graphql", json={"query": "mutation { increment }"},
                                  headers={"Accept": accept})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.headers["content-type"].startswith(accept)
        assert refused.json() == {"errors": [{"message": "Sign in first."}]}
    assert served.counter == [0]
    allowed = app.client.post("/graphql", json={"query": "mutation { increment }"},
                              headers={"Authorization": "Bearer good"})
    assert allowed.json() == {"data": {"increment": 1}}


@pytest.mark.server
@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_async_resolvers_of_concurrent_requests_overlap_under_uvicorn(backend):
    """Awaiting resolvers do not hold the loop: ten requests that each sleep
    0.4 s in a resolver finish together, not one after another."""
    import asyncio
    import time

    import httpx

    from tests.conftest import serve_in_thread

    served = serve(backend)

    async def burst(url):
        async with httpx.AsyncClient(base_url=url) as client:
            return await asyncio.gather(*[
                client.post("/graphql", json={"query": "{ nap(seconds: 0.4) }"}) for _ in range(10)])

    with serve_in_thread(served.app) as url:
        started = time.monotonic()
        responses = asyncio.run(burst(url))
        elapsed = time.monotonic() - started
    assert [r.json() for r in responses] == [{"data": {"nap": 0.4}}] * 10
    assert elapsed < 2.5
