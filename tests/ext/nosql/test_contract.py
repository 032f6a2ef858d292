"""The document-store contract: every backend (``store`` fixture) behaves alike."""

import pytest

from dyne.ext.nosql import DuplicateKeyError, InvalidQuery, UnsupportedOperator

PEOPLE = [
    {"_id": 1, "name": "Ada", "age": 36, "city": "London", "tags": ["math", "code"],
     "address": {"city": "London", "zip": "N1"}},
    {"_id": 2, "name": "Grace", "age": 85, "city": "New York", "tags": ["navy", "code"],
     "address": {"city": "Arlington"}},
    {"_id": 3, "name": "Linus", "age": 54, "city": "Portland", "tags": []},
    {"_id": 4, "name": "Margaret", "age": 88, "city": "Boston", "tags": ["apollo"], "retired": None},
    {"_id": 5, "name": "Alan", "age": 41.5, "city": "London", "tags": ["math"]},
]


async def people(store):
    await store.insert_many("people", PEOPLE)


def ids(documents):
    return [document["_id"] for document in documents]


async def test_insert_and_find_one_round_trip(store):
    result = await store.insert_one("notes", {"title": "hello", "n": 1.5, "ok": True, "none": None,
                                              "nested": {"list": [1, "two", {"three": 3}]}})
    assert result.inserted_id is not None
    found = await store.find_one("notes", {"_id": result.inserted_id})
    assert found == {"_id": result.inserted_id, "title": "hello", "n": 1.5, "ok": True, "none": None,
                     "nested": {"list": [1, "two", {"three": 3}]}}
    assert await store.find_one("notes", {"title": "absent"}) is None


async def test_the_callers_document_is_not_changed(store):
    document = {"title": "mine"}
    await store.insert_one("notes", document)
    assert document == {"title": "mine"}


async def test_duplicate_id_is_refused(store):
    await store.insert_one("notes", {"_id": "a", "v": 1})
    with pytest.raises(DuplicateKeyError):
        await store.insert_one("notes", {"_id": "a", "v": 2})
    assert (await store.find_one("notes", {"_id": "a"}))["v"] == 1


async def test_insert_many_returns_ids_in_order(store):
    result = await store.insert_many("notes", [{"_id": "x"}, {"_id": "y"}, {"v": 3}])
    assert result.inserted_ids[:2] == ["x", "y"]
    assert len(result.inserted_ids) == 3
    assert await store.count_documents("notes") == 3


@pytest.mark.parametrize(("filter", "expected"), [
    ({}, [1, 2, 3, 4, 5]),
    ({"city": "London"}, [1, 5]),
    ({"city": {"$eq": "London"}}, [1, 5]),
    ({"city": {"$ne": "London"}}, [2, 3, 4]),
    ({"age": {"$gt": 54}}, [2, 4]),
    ({"age": {"$gte": 54}}, [2, 3, 4]),
    ({"age": {"$lt": 41.5}}, [1]),
    ({"age": {"$lte": 41.5}}, [1, 5]),
    ({"age": {"$gt": 40, "$lt": 60}}, [3, 5]),
    ({"name": {"$gt": "G"}}, [2, 3, 4]),
    ({"city": {"$in": ["Boston", "Portland"]}}, [3, 4]),
    ({"city": {"$nin": ["Boston", "Portland"]}}, [1, 2, 5]),
    ({"retired": {"$exists": True}}, [4]),
    ({"retired": {"$exists": False}}, [1, 2, 3, 5]),
    ({"retired": None}, [1, 2, 3, 4, 5]),
    ({"address.city": "London"}, [1]),
    ({"address.zip": {"$exists": True}}, [1]),
    ({"tags": "code"}, [1, 2]),
    ({"tags": []}, [3]),
    ({"tags": ["apollo"]}, [4]),
    ({"tags.0": "math"}, [1, 5]),
    ({"$or": [{"city": "Boston"}, {"age": {"$lt": 40}}]}, [1, 4]),
    ({"$and": [{"city": "London"}, {"tags": "code"}]}, [1]),
    ({"city": "London", "age": {"$gt": 40}}, [5]),
    ({"age": {"$gt": "a"}}, []),  # strings only compare with strings
    ({"name": {"$lt": 100}}, []),  # numbers only with numbers
    ({"age": 36.0}, [1]),  # numbers compare by value
])
async def test_find_many_filters(store, filter, expected):
    await people(store)
    assert sorted(ids(await store.find_many("people", filter))) == expected


async def test_true_is_not_one(store):
    await store.insert_many("flags", [{"_id": 1, "v": True}, {"_id": 2, "v": 1}, {"_id": 3, "v": 1.0}])
    assert ids(await store.find_many("flags", {"v": True})) == [1]
    assert sorted(ids(await store.find_many("flags", {"v": 1}))) == [2, 3]


async def test_sort_skip_limit(store):
    await people(store)
    by_age = await store.find_many("people", {}, sort=[("age", -1)])
    assert ids(by_age) == [4, 2, 3, 5, 1]
    assert ids(await store.find_many("people", {}, sort=[("age", 1)], skip=1, limit=2)) == [5, 3]
    assert ids(await store.find_many("people", {}, sort=[("city", 1), ("name", -1)])) == [4, 5, 1, 2, 3]
    assert ids(await store.find_many("people", {}, sort=[("age", 1)], limit=0)) == [1, 5, 3, 2, 4]


async def test_sort_orders_types_as_mongodb(store):
    await store.insert_many("mixed", [{"_id": 1, "v": "b"}, {"_id": 2, "v": 3}, {"_id": 3},
                                      {"_id": 4, "v": True}, {"_id": 5, "v": {"a": 1}}, {"_id": 6, "v": None},
                                      {"_id": 7, "v": -1}])
    ordered = ids(await store.find_many("mixed", {}, sort=[("v", 1)]))
    assert ordered[:2] in ([3, 6], [6, 3])
    assert ordered[2:] == [7, 2, 1, 5, 4]


async def test_find_one_takes_sort(store):
    await people(store)
    oldest = await store.find_one("people", {}, sort=[("age", -1)])
    assert oldest["name"] == "Margaret"


async def test_update_one_operators(store):
    await people(store)
    result = await store.update_one("people", {"_id": 1}, {
        "$set": {"address.city": "Cambridge", "title": "Countess"},
        "$inc": {"age": 1},
        "$push": {"tags": "poetry"},
        "$unset": {"city": ""},
    })
    assert (result.matched_count, result.modified_count) == (1, 1)
    ada = await store.find_one("people", {"_id": 1})
    assert ada == {"_id": 1, "name": "Ada", "age": 37, "title": "Countess",
                   "tags": ["math", "code", "poetry"], "address": {"city": "Cambridge", "zip": "N1"}}


async def test_update_one_changes_only_the_first_match(store):
    await people(store)
    await store.update_one("people", {"city": "London"}, {"$set": {"seen": True}})
    assert ids(await store.find_many("people", {"seen": True})) == [1]


async def test_update_creates_missing_fields_and_push_each(store):
    await store.insert_one("notes", {"_id": "n"})
    await store.update_one("notes", {"_id": "n"}, {"$inc": {"views": 2}, "$set": {"a.b.c": 1},
                                                    "$push": {"log": {"$each": ["x", "y"]}}})
    assert await store.find_one("notes", {"_id": "n"}) == {"_id": "n", "views": 2, "a": {"b": {"c": 1}},
                                                           "log": ["x", "y"]}


async def test_update_without_a_match(store):
    result = await store.update_one("notes", {"_id": "none"}, {"$set": {"v": 1}})
    assert (result.matched_count, result.modified_count, result.upserted_id) == (0, 0, None)
    assert await store.count_documents("notes") == 0


async def test_upsert_builds_the_document_from_the_filter(store):
    result = await store.update_one("counters", {"_id": "home", "kind": "page"},
                                    {"$inc": {"hits": 1}}, upsert=True)
    assert result.upserted_id == "home"
    await store.update_one("counters", {"_id": "home", "kind": "page"}, {"$inc": {"hits": 1}}, upsert=True)
    assert await store.find_many("counters", {}) == [{"_id": "home", "kind": "page", "hits": 2}]


async def test_unchanged_update_is_matched_not_modified(store):
    await store.insert_one("notes", {"_id": 1, "v": 1})
    result = await store.update_one("notes", {"_id": 1}, {"$set": {"v": 1}})
    assert (result.matched_count, result.modified_count) == (1, 0)


async def test_delete_one(store):
    await people(store)
    result = await store.delete_one("people", {"city": "London"})
    assert result.deleted_count == 1
    assert sorted(ids(await store.find_many("people", {}))) == [2, 3, 4, 5]
    assert (await store.delete_one("people", {"city": "Nowhere"})).deleted_count == 0


async def test_aggregate_group_and_sort(store):
    await people(store)
    pipeline = [
        {"$match": {"age": {"$gte": 40}}},
        {"$group": {"_id": "$city", "count": {"$sum": 1}, "total": {"$sum": "$age"},
                    "average": {"$avg": "$age"}, "youngest": {"$min": "$age"},
                    "oldest": {"$max": "$age"}, "n": {"$count": {}}}},
        {"$sort": {"_id": 1}},
    ]
    assert await store.aggregate("people", pipeline) == [
        {"_id": "Boston", "count": 1, "total": 88, "average": 88, "youngest": 88, "oldest": 88, "n": 1},
        {"_id": "London", "count": 1, "total": 41.5, "average": 41.5, "youngest": 41.5, "oldest": 41.5,
         "n": 1},
        {"_id": "New York", "count": 1, "total": 85, "average": 85, "youngest": 85, "oldest": 85, "n": 1},
        {"_id": "Portland", "count": 1, "total": 54, "average": 54, "youngest": 54, "oldest": 54, "n": 1},
    ]


async def test_aggregate_group_everything_and_missing_values(store):
    await people(store)
    result = await store.aggregate("people", [
        {"$group": {"_id": None, "people": {"$sum": 1}, "ages": {"$sum": "$age"},
                    "mean": {"$avg": "$age"}, "zips": {"$max": "$address.zip"},
                    "nothing": {"$avg": "$missing"}}},
    ])
    assert len(result) == 1
    assert result[0]["_id"] is None
    assert result[0]["people"] == 5
    assert result[0]["ages"] == pytest.approx(304.5)
    assert result[0]["mean"] == pytest.approx(60.9)
    assert result[0]["zips"] == "N1"
    assert result[0]["nothing"] is None


async def test_aggregate_group_by_document_key(store):
    await people(store)
    result = await store.aggregate("people", [
        {"$match": {"city": "London"}},
        {"$group": {"_id": {"city": "$city"}, "names": {"$sum": 1}}},
    ])
    assert result == [{"_id": {"city": "London"}, "names": 2}]


async def test_aggregate_project_skip_limit_count(store):
    await people(store)
    projected = await store.aggregate("people", [
        {"$sort": {"age": -1}},
        {"$skip": 1},
        {"$limit": 2},
        {"$project": {"_id": 0, "name": 1, "town": "$address.city"}},
    ])
    assert projected == [{"name": "Grace", "town": "Arlington"}, {"name": "Linus"}]
    excluded = await store.aggregate("people", [{"$match": {"_id": 3}}, {"$project": {"tags": 0, "age": 0}}])
    assert excluded == [{"_id": 3, "name": "Linus", "city": "Portland"}]
    assert await store.aggregate("people", [{"$match": {"city": "London"}}, {"$count": "londoners"}]) == [
        {"londoners": 2}]
    assert await store.aggregate("people", [{"$match": {"city": "Paris"}}, {"$count": "n"}]) == []


async def test_find_many_projection(store):
    await people(store)
    found = await store.find_many("people", {"_id": 1}, projection={"name": 1})
    assert found == [{"_id": 1, "name": "Ada"}]


async def test_transactions_commit_and_roll_back(store):
    if not store.supports_transactions():
        pytest.skip("this server has no transactions (a standalone MongoDB)")

    async def insert_two(name, *, session):
        await store.insert_one("ledger", {"_id": f"{name}-1"}, session=session)
        await store.insert_one("ledger", {"_id": f"{name}-2"}, session=session)
        return name

    assert await store.with_transaction(insert_two, "kept") == "kept"

    async def fail_half_way(*, session):
        await store.insert_one("ledger", {"_id": "lost-1"}, session=session)
        assert await store.find_one("ledger", {"_id": "lost-1"}, session=session) is not None
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.with_transaction(fail_half_way)
    assert sorted(ids(await store.find_many("ledger", {}))) == ["kept-1", "kept-2"]


async def test_uncommitted_writes_are_invisible_outside(store):
    if not store.supports_transactions():
        pytest.skip("this server has no transactions (a standalone MongoDB)")
    session = await store.start_session()

    async def write(*, session):
        await store.insert_one("ledger", {"_id": "pending"}, session=session)
        assert await store.find_one("ledger", {"_id": "pending"}) is None
        raise KeyError("abort")

    with pytest.raises(KeyError):
        await store.with_transaction(write, session=session)
    assert await store.find_one("ledger", {"_id": "pending"}) is None


@pytest.mark.parametrize("filter", [
    {"name": {"$regex": "^A"}},
    {"tags": {"$size": 2}},
    {"$nor": [{"a": 1}]},
    {"age": {"$gt": [1]}},
    {"age": {"$mod": [2, 0]}},
])
async def test_unsupported_operators_are_refused(store, filter):
    if type(store).__name__ == "MongoBackend":
        pytest.skip("MongoDB implements these operators itself")
    with pytest.raises(UnsupportedOperator):
        await store.find_many("people", filter)


@pytest.mark.parametrize("pipeline", [
    [{"$unwind": "$tags"}],
    [{"$group": {"_id": "$city", "names": {"$push": "$name"}}}],
    [{"$project": {"x": "literal"}}],
    [{"$lookup": {"from": "other"}}],
])
async def test_unsupported_stages_are_refused(store, pipeline):
    if type(store).__name__ == "MongoBackend":
        pytest.skip("MongoDB implements these stages itself")
    with pytest.raises(UnsupportedOperator):
        await store.aggregate("people", pipeline)


@pytest.mark.parametrize(("collection", "filter"), [
    ('people"; DROP TABLE x; --', {}),
    ("", {}),
    ("people", {"a..b": 1}),
    ("people", {"a.-1": 1}),
    ("people", {"a.$where": 1}),
    ("people", {"age": {"$in": "not a list"}}),
    ("people", {"$or": []}),
    ("people", {"a": {"$eq": 1, "plain": 2}}),
    ("people", "not a filter"),
])
async def test_malformed_queries_are_refused(store, collection, filter):
    if type(store).__name__ == "MongoBackend":
        pytest.skip("MongoDB validates its own queries")
    with pytest.raises(InvalidQuery):
        await store.find_many(collection, filter)


async def test_hostile_values_stay_values(store):
    if type(store).__name__ == "MongoBackend":
        pytest.skip("checks the SQL backend's parameters")
    hostile = "x'); DROP TABLE people; --"
    await store.insert_one("people", {"_id": hostile, hostile: hostile})
    assert await store.find_many("people", {hostile: hostile}) == [{"_id": hostile, hostile: hostile}]
    assert await store.count_documents("people") == 1


async def test_values_a_document_cannot_hold_are_refused(store):
    if type(store).__name__ == "MongoBackend":
        pytest.skip("MongoDB stores BSON types")
    for bad in ({"v": float("nan")}, {"v": object()}, {1: "int key"}, {"v": "nul\x00"}):
        with pytest.raises(InvalidQuery):
            await store.insert_one("notes", bad)
    with pytest.raises(InvalidQuery):
        await store.update_one("notes", {}, {"$rename": {"a": "b"}})
    with pytest.raises(InvalidQuery):
        await store.update_one("notes", {}, {"plain": 1})
