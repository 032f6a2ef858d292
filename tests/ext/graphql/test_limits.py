"""Query size limits: checked before parsing, reported as GraphQL errors."""

from __future__ import annotations

import pytest

from dyne.ext.graphql.limits import QueryLimits, check_query

from .conftest import serve

GRJ = "application/graphql-response+json"


def nested(depth: int) -> str:
    return "{" + "a {" * (depth - 1) + " b" + "}" * depth


@pytest.mark.parametrize(("query", "limits", "problem"), [
    ("{ hello }", QueryLimits(), None),
    ("{ hello }", QueryLimits(max_length=5), "Query is too long: 9 characters (the limit is 5)."),
    ("{ a b c }", QueryLimits(max_tokens=4), "Query has too many tokens (the limit is 4)."),
    ("{ a b }", QueryLimits(max_tokens=4), None),
    (nested(3), QueryLimits(max_depth=3), None),
    (nested(4), QueryLimits(max_depth=3), "Query is nested too deeply (the limit is 3 levels)."),
    ("{ a(x: [[[1]]]) }", QueryLimits(max_depth=3), "Query is nested too deeply (the limit is 3 levels)."),
    (nested(500), QueryLimits(max_length=None, max_tokens=None, max_depth=None), None),
])
def test_check_query(query, limits, problem):
    assert check_query(query, limits) == problem


def test_brackets_and_words_in_strings_and_comments_do_not_count():
    limits = QueryLimits(max_tokens=6, max_depth=1)
    # 6 tokens: { a ( x : "..." ) } would be 8; keep it to { a "..." } shapes.
    assert check_query('{ a # {{{{ ((( [[[ many words here\n }', limits) is None
    assert check_query('{ "{{{{ ((( [[[ many words" }', limits) is None
    assert check_query('{ """ {{{ \\""" [[[ """ }', limits) is None
    assert check_query("{ ... on Query }", QueryLimits(max_tokens=5)) is None


def test_unterminated_strings_do_not_break_the_scan():
    assert check_query('{ "never closed ((((', QueryLimits(max_depth=1)) is None
    assert check_query('{ """ never closed ((((', QueryLimits(max_depth=1)) is None


def test_pathological_input_is_scanned_quickly():
    import time

    query = '"""' + '\\"""' * 20_000 + '"' * 3
    started = time.perf_counter()
    check_query(query, QueryLimits(max_length=None))
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_over_limit_queries_are_graphql_request_errors(backend):
    served = serve(backend, max_query_length=2_000, max_tokens=200, max_depth=10)
    cases = {
        "{ hello " + " " * 2_000 + "}": "Query is too long",
        "{ " + "hello " * 300 + "}": "Query has too many tokens",
        nested(11): "Query is nested too deeply",
    }
    for query, message in cases.items():
        legacy = served.post(query)
        assert legacy.status_code == 400
        assert message in legacy.json()["errors"][0]["message"]
        assert "data" not in legacy.json()
        modern = served.post(query, headers={"Accept": GRJ})
        assert modern.status_code == 400
        get = served.get(query)
        assert get.status_code == 400 and message in get.json()["errors"][0]["message"]
    assert served.post("{ hello }").json() == {"data": {"hello": "Hello stranger"}}


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_default_limits_stop_huge_and_deep_documents(backend):
    served = serve(backend)
    huge = served.post("{ " + "a " * 16_000 + "}")
    assert "too many tokens" in huge.json()["errors"][0]["message"]
    deep = served.post(nested(1_000))
    assert "nested too deeply" in deep.json()["errors"][0]["message"]
    long = served.post("# " + "x" * 100_001 + "\n{ hello }")
    assert "too long" in long.json()["errors"][0]["message"]


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_limits_can_be_disabled(backend):
    served = serve(backend, max_query_length=None, max_tokens=None, max_depth=None)
    query = "{ " + " ".join(f"a{i}: hello" for i in range(6_000)) + " }"  # 18,002 tokens
    data = served.post(query).json()["data"]
    assert len(data) == 6_000 and data["a5999"] == "Hello stranger"


@pytest.mark.parametrize("backend", ["strawberry", "graphene"])
def test_deep_fragment_chains_never_give_a_500(backend):
    """Each fragment stays under the nesting limit, but spreads chain them
    into a document deeper than Python's recursion limit."""
    served = serve(backend)
    count = 1_500
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(count))
    query = f"{{ ...F0 }} {fragments} fragment F{count} on Query {{ hello }}"
    response = served.post(query, headers={"Accept": GRJ})
    assert response.status_code == 400
    assert response.json()["errors"]
    assert "data" not in response.json()
    assert served.post("{ hello }").json() == {"data": {"hello": "Hello stranger"}}
