"""Property test: the jsonb backend's ``find_many`` returns what a plain
Python evaluation of the documented filter semantics returns, on random
documents, filters and sorts (real PostgreSQL)."""

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MISSING = object()
KEYS = ["a", "b", "c", "0"]

# Numbers stay within 2**53, where a JSON number and a Python number agree exactly.
numbers = st.one_of(st.integers(-(2**53), 2**53),
                    st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False))
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=4)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, st.sampled_from(["a", "b", "B", "é", ""]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)), max_leaves=6)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)
paths = st.lists(st.sampled_from(KEYS), min_size=1, max_size=3).map(".".join)


def field_conditions():
    comparable = st.one_of(numbers, texts)
    operator = st.one_of(
        st.builds(lambda v: {"$eq": v}, values),
        st.builds(lambda v: {"$ne": v}, values),
        st.builds(lambda o, v: {o: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), comparable),
        st.builds(lambda v: {"$in": v}, st.lists(values, max_size=3)),
        st.builds(lambda v: {"$nin": v}, st.lists(values, max_size=3)),
        st.builds(lambda v: {"$exists": v}, st.booleans()),
    )
    plain = values.filter(lambda v: not (isinstance(v, dict) and any(k.startswith("$") for k in v)))
    return st.one_of(plain, operator, st.lists(operator, min_size=2, max_size=2).map(
        lambda ops: {k: v for op in ops for k, v in op.items()}))


filters = st.recursive(
    st.dictionaries(paths, field_conditions(), max_size=2),
    lambda inner: st.one_of(st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
                            st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3))),
    max_leaves=4)


# -- the reference ------------------------------------------------------------------------

def get(document, path):
    node = document
    for segment in path.split("."):
        if isinstance(node, dict):
            node = node.get(segment, MISSING)
        elif isinstance(node, list) and segment.isdigit() and (segment == "0" or segment[0] != "0"):
            index = int(segment)
            node = node[index] if index < len(node) else MISSING
        else:
            return MISSING
    return node


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(a, b):
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def any_value(value, predicate):
    if value is MISSING:
        return False
    return predicate(value) or (isinstance(value, list) and any(predicate(e) for e in value))


def equals(value, operand):
    if operand is None and value is MISSING:
        return True
    return any_value(value, lambda v: same(v, operand))


def compare(value, operator, operand):
    ops = {"$gt": lambda x, y: x > y, "$gte": lambda x, y: x >= y,
           "$lt": lambda x, y: x < y, "$lte": lambda x, y: x <= y}[operator]
    if is_number(operand):
        return any_value(value, lambda v: is_number(v) and ops(v, operand))
    return any_value(value, lambda v: isinstance(v, str) and ops(v, operand))


def matches(document, filter):
    for key, condition in filter.items():
        if key == "$and":
            if not all(matches(document, f) for f in condition):
                return False
        elif key == "$or":
            if not any(matches(document, f) for f in condition):
                return False
        else:
            value = get(document, key)
            if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
                for operator, operand in condition.items():
                    if not operator_matches(value, operator, operand):
                        return False
            elif not equals(value, condition):
                return False
    return True


def operator_matches(value, operator, operand):
    if operator == "$eq":
        return equals(value, operand)
    if operator == "$ne":
        return not equals(value, operand)
    if operator == "$in":
        return any(equals(value, o) for o in operand)
    if operator == "$nin":
        return not any(equals(value, o) for o in operand)
    if operator == "$exists":
        return (value is not MISSING) == operand
    return compare(value, operator, operand)


def sort_key(value):
    if value is MISSING or value is None:
        return (1, 0, "")
    if is_number(value):
        return (2, value, "")
    if isinstance(value, str):
        return (3, 0, value)
    if isinstance(value, bool):
        return (6, int(value), "")
    raise AssertionError("only scalars are sorted here")


# -- the property -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loop():
    runner = asyncio.Runner()
    yield runner
    runner.close()


@pytest.fixture
def backend(loop, postgres_settings):
    from dyne.ext.nosql.backends import PostgresJsonBackend

    store = PostgresJsonBackend(postgres_settings["DATABASE_URI"], schema=postgres_settings["DATABASE"],
                                table_prefix=postgres_settings["TABLE_PREFIX"])
    loop.run(store.connect())
    yield store
    loop.run(store.drop_collection("docs"))
    loop.run(store.drop_collection("sorted"))
    loop.run(store.disconnect())


def reset(loop, backend, collection, docs):
    async def run():
        await backend.execute_raw(f'TRUNCATE {backend.schema_sql}."{backend.table_prefix}{collection}"')
        await backend.insert_many(collection, [{"_id": i, **d} for i, d in enumerate(docs)])

    loop.run(backend.count_documents(collection))  # creates the table
    loop.run(run())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(docs=st.lists(documents, max_size=8), queries=st.lists(filters, min_size=1, max_size=4))
def test_find_many_agrees_with_the_reference(loop, backend, docs, queries):
    reset(loop, backend, "docs", docs)
    stored = [{"_id": i, **d} for i, d in enumerate(docs)]
    for query in queries:
        expected = [d["_id"] for d in stored if matches(d, query)]
        found = loop.run(backend.find_many("docs", query))
        assert [d["_id"] for d in found] == expected, query
        assert all(same(d, stored[d["_id"]]) for d in found)


sortable = st.one_of(st.none(), st.booleans(), numbers, st.sampled_from(["a", "b", "B", "é", "", "ab"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(docs=st.lists(st.dictionaries(st.sampled_from(["n", "m"]), sortable, max_size=2), max_size=10),
       direction=st.sampled_from([1, -1]), skip=st.integers(0, 3), limit=st.integers(0, 4))
def test_sort_skip_limit_agree_with_the_reference(loop, backend, docs, direction, skip, limit):
    reset(loop, backend, "sorted", docs)
    stored = [{"_id": i, **d} for i, d in enumerate(docs)]
    ordered = sorted(stored, key=lambda d: (sort_key(d.get("n", MISSING)),), reverse=direction == -1)
    expected = [d["_id"] for d in ordered][skip:][: limit or None]
    found = loop.run(backend.find_many("sorted", {}, sort=[("n", direction)], skip=skip, limit=limit))
    assert [d["_id"] for d in found] == expected


def test_reference_sanity():
    assert matches({"a": [1, 2]}, {"a": 2})
    assert not matches({"a": True}, {"a": 1})
    assert matches({}, {"a": None})


# -- hostile queries: a request's JSON can only give a result or InvalidQuery -------------

json_keys = st.one_of(st.sampled_from(["a", "a.b", "$and", "$or", "$eq", "$gt", "$in", "$nin", "$exists",
                                       "$ne", "$lte", "$regex", "$where", "_id", "a..b", "a.-1", "0",
                                       "$sum", "$avg", "$min", "$max", "$count", "$group", "$match",
                                       "$project", "$sort", "$limit", "$skip", "$push"]),
                      st.text(max_size=5))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
              st.text(max_size=5), st.sampled_from(["$a", "$a.b", "$", "$$x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(json_keys, inner, max_size=3)),
    max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(filter=json_values, pipeline=json_values, sort=json_values, update=json_values)
def test_any_json_query_gives_a_result_or_invalid_query(loop, backend, filter, pipeline, sort, update):
    from dyne.ext.nosql import InvalidQuery

    loop.run(backend.insert_many("docs", [{"a": {"b": 1}}, {"a": [1, "x"]}, {}]))
    calls = [
        lambda: backend.find_many("docs", filter),
        lambda: backend.find_many("docs", {}, sort=sort),
        lambda: backend.aggregate("docs", pipeline if isinstance(pipeline, list) else [pipeline]),
        lambda: backend.update_one("docs", {}, update),
        lambda: backend.delete_one("docs", filter),
    ]
    for call in calls:
        try:
            loop.run(call())
        except InvalidQuery:
            pass


# -- aggregation: $match then $group, against the reference -------------------------------

group_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000),
                          st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                          st.sampled_from(["a", "b", "B", ""]))


def group_key(value):
    if value is MISSING or value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("number", value)
    return ("string", value)


def extreme(values, largest):
    present = [v for v in values if v is not MISSING and v is not None]
    if not present:
        return None
    rank = {"number": 2, "string": 3, "bool": 6}
    keyed = sorted(present, key=lambda v: (rank[group_key(v)[0]], v if not isinstance(v, bool) else int(v)))
    return keyed[-1] if largest else keyed[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(docs=st.lists(st.dictionaries(st.sampled_from(["k", "v"]), group_scalars, max_size=2), max_size=10),
       match=st.one_of(st.just({}), st.dictionaries(st.just("v"), field_conditions(), max_size=1)))
def test_group_agrees_with_the_reference(loop, backend, docs, match):
    reset(loop, backend, "docs", docs)
    stored = [{"_id": i, **d} for i, d in enumerate(docs)]
    result = loop.run(backend.aggregate("docs", [
        {"$match": match},
        {"$group": {"_id": "$k", "n": {"$sum": 1}, "total": {"$sum": "$v"}, "count": {"$count": {}},
                    "low": {"$min": "$v"}, "high": {"$max": "$v"}, "mean": {"$avg": "$v"}}},
    ]))
    groups: dict = {}
    for document in stored:
        if matches(document, match):
            groups.setdefault(group_key(document.get("k", MISSING)), []).append(document)
    assert len(result) == len(groups)
    for got, members in zip(result, groups.values(), strict=True):
        key = members[0].get("k")
        assert group_key(got["_id"]) == group_key(key)
        values = [m.get("v", MISSING) for m in members]
        numbers = [v for v in values if is_number(v)]
        assert got["n"] == got["count"] == len(members)
        assert got["total"] == pytest.approx(sum(numbers), rel=1e-9, abs=1e-6)
        assert got["mean"] == (pytest.approx(sum(numbers) / len(numbers), rel=1e-9, abs=1e-6)
                               if numbers else None)
        for name, largest in (("low", False), ("high", True)):
            expected = extreme(values, largest)
            assert group_key(got[name]) == group_key(expected)
