"""dyne.ext.graphql.graphene: Graphene schemas on graphql-core's async executor."""

import asyncio
import logging

import graphene
import pytest

import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.graphene import Schema

GRJ = "application/graphql-response+json"


class Query(graphene.ObjectType):
    hello = graphene.String(name=graphene.String(default_value="stranger"))
    from_root = graphene.String()
    broken = graphene.String()

    def resolve_hello(self, info, name):
        return f"Hello {name}"

    def resolve_from_root(root, info):
        return root["greeting"]

    def resolve_broken(self, info):
        raise KeyError("missing-thing")


class SlowAdd(graphene.Mutation):
    class Arguments:
        a = graphene.Int(required=True)
        b = graphene.Int(required=True)

    total = graphene.Int()

    async def mutate(self, info, a, b):
        await asyncio.sleep(0.01)
        return SlowAdd(total=a + b)


class Mutation(graphene.ObjectType):
    slow_add = SlowAdd.Field()


class Subscription(graphene.ObjectType):
    ticks = graphene.Int()

    async def subscribe_ticks(root, info):
        yield 1


def endpoint(schema: Schema, **options) -> tuple[dyne.App, GraphQLView]:
    app = dyne.App()
    view = GraphQLView(app=app, schema=schema, **options)
    app.add_route("/graphql", view)
    return app, view


def test_schema_is_a_graphene_schema():
    schema = Schema(query=Query)
    assert isinstance(schema, graphene.Schema)
    assert schema.graphql_backend == "graphene"
    assert "fromRoot: String" in str(schema)
    assert schema.execute("{ hello }").data == {"hello": "Hello stranger"}


def test_async_mutate_is_awaited():
    app, _ = endpoint(Schema(query=Query, mutation=Mutation))
    response = app.client.post("/graphql", json={"query": "mutation { slowAdd(a: 2, b: 3) { total } }"})
    assert response.json() == {"data": {"slowAdd": {"total": 5}}}


def test_root_value_reaches_resolvers():
    app, _ = endpoint(Schema(query=Query), root_value={"greeting": "from the root"})
    assert app.client.get("/graphql?query={fromRoot}").json() == {"data": {"fromRoot": "from the root"}}


def test_resolver_errors_are_logged_with_their_traceback(caplog):
    app, _ = endpoint(Schema(query=Query))
    with caplog.at_level(logging.ERROR, logger="dyne.ext.graphql"):
        response = app.client.post("/graphql", json={"query": "{ hello broken }"})
    assert response.json()["data"] == {"hello": "Hello stranger", "broken": None}
    assert response.json()["errors"][0]["message"] == "'missing-thing'"
    (record,) = [r for r in caplog.records if r.name == "dyne.ext.graphql"]
    assert "broken" in record.getMessage()
    assert record.exc_info[0] is KeyError


def test_validation_errors_are_not_logged_as_server_errors(caplog):
    app, _ = endpoint(Schema(query=Query))
    with caplog.at_level(logging.ERROR, logger="dyne.ext.graphql"):
        app.client.post("/graphql", json={"query": "{ nope }"})
    assert not [r for r in caplog.records if r.name == "dyne.ext.graphql"]


def test_parsed_documents_are_cached_by_query_text():
    app, view = endpoint(Schema(query=Query))
    cache = view.executor._prepare
    for _ in range(3):
        assert app.client.get("/graphql?query={hello}").json() == {"data": {"hello": "Hello stranger"}}
    app.client.post("/graphql", json={"query": "{ nope }"})
    app.client.post("/graphql", json={"query": "{ nope }"})
    info = cache.cache_info()
    assert (info.misses, info.hits) == (2, 3)


def test_an_invalid_schema_fails_at_registration():
    class Empty(graphene.ObjectType):
        pass

    app = dyne.App()
    with pytest.raises(TypeError, match="Empty must define one or more fields"):
        GraphQLView(app=app, schema=Schema(query=Empty))
    assert "graphql" not in app.extensions


def test_subscriptions_are_refused_over_http():
    app, _ = endpoint(Schema(query=Query, subscription=Subscription))
    response = app.client.post("/graphql", json={"query": "subscription { ticks }"},
                               headers={"Accept": GRJ})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Subscriptions are not supported over HTTP."}]}
