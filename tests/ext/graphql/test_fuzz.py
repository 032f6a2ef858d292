"""Property tests: whatever a client sends to a GraphQL endpoint, it gets a
4xx or a well-formed GraphQL response, never a 500, and the app keeps
working. Both backends."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import SCHEMAS, serve

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Pieces of GraphQL, so that random documents reach the parser's, the
# validator's and the executor's paths rather than failing on the first byte.
PIECES = ["{", "}", "(", ")", "[", "]", ":", "!", "=", "$v", "$who", "...", "@include(if: true)",
          "@skip(if: $v)", "query", "mutation", "subscription", "fragment", "on", "Query", "Mutation",
          "hello", "asyncHello", "boom", "strictBoom", "counter", "increment", "userAgent",
          "createMessage", "name:", "message:", '"Alice"', '"""block"""', "1", "-2.5e3", "true",
          "null", "__typename", "__schema", "types", "__type(name: \"Query\")", "fields", "ok",
          "a:", "F", "Q", "String", "String!", "Int", "[Int]", "#", "\n", ",", "\\u0000", "é"]
documents = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
    st.text(max_size=200),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
accepts = st.sampled_from([None, "*/*", "application/json", "application/graphql-response+json",
                           "text/html", "application/xml", "text/html;q=0.5, */*;q=0.1", ";;,q=x",
                           "application/graphql-response+json;q=0"])
content_types = st.sampled_from([None, "application/json", "application/json; charset=latin-1",
                                 "application/json; charset=bogus", "application/graphql",
                                 "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data", "application/vnd.api+json", ""])


@pytest.fixture(scope="module", params=sorted(SCHEMAS))
def served(request):
    served = serve(request.param, max_query_length=5_000, max_tokens=500, max_depth=20)
    yield served
    served.client.close()


def check(response, served) -> None:
    assert response.status_code < 500, response.text
    if response.status_code in (200, 400, 405, 406, 413, 415) and "html" not in response.headers.get(
            "content-type", ""):
        assert response.headers["content-type"].split(";")[0] in (
            "application/json", "application/graphql-response+json")
        payload = response.json()
        assert set(payload) <= {"data", "errors", "extensions"}
        assert "data" in payload or payload["errors"]
        for error in payload.get("errors", []):
            assert isinstance(error["message"], str) and error["message"]


@FUZZ
@given(query=documents, variables=json_values, operation=json_values, accept=accepts)
def test_random_json_requests(served, query, variables, operation, accept):
    headers = {"Accept": accept} if accept else {}
    body = {"query": query, "variables": variables, "operationName": operation}
    response = served.client.post("/graphql", json=body, headers=headers)
    check(response, served)


@FUZZ
@given(body=json_values)
def test_random_json_bodies(served, body):
    check(served.client.post("/graphql", json=body), served)


@FUZZ
@given(body=st.binary(max_size=300) | documents.map(str.encode), content_type=content_types,
       accept=accepts)
def test_random_bytes_bodies(served, body, content_type, accept):
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    check(served.client.post("/graphql", content=body, headers=headers), served)


@FUZZ
@given(query=documents, variables=st.text(max_size=40) | json_values.map(json.dumps),
       operation=st.text(max_size=10), accept=accepts, use_q=st.booleans())
def test_random_get_requests_never_mutate(served, query, variables, operation, accept, use_q):
    before = served.counter[0]
    headers = {"Accept": accept} if accept else {}
    params = {"q" if use_q else "query": query, "variables": variables, "operationName": operation}
    check(served.client.get("/graphql", params=params, headers=headers), served)
    assert served.counter[0] == before


def test_still_answering_after_the_fuzz(served):
    assert served.post("{ hello }").json() == {"data": {"hello": "Hello stranger"}}
