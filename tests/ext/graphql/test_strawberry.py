"""dyne.ext.graphql.strawberry: a thin wrapper that keeps Strawberry's behaviour."""

import asyncio
import logging
import typing

import pytest
import strawberry
from strawberry.extensions import MaskErrors, SchemaExtension

import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.strawberry import Schema

GRJ = "application/graphql-response+json"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "stranger") -> str:
        return f"Hello {name}"

    @strawberry.field
    def secret(self) -> str | None:
        raise RuntimeError("database password is hunter2")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> typing.AsyncGenerator[int, None]:
        for tick in range(3):
            yield tick
            await asyncio.sleep(0)


def endpoint(schema: Schema) -> dyne.App:
    app = dyne.App()
    app.add_route("/graphql", GraphQLView(app=app, schema=schema))
    return app


def test_schema_is_a_strawberry_schema():
    schema = Schema(query=Query)
    assert isinstance(schema, strawberry.Schema)
    assert schema.graphql_backend == "strawberry"
    assert "hello(name: String! = \"stranger\"): String!" in schema.as_str()
    assert schema.execute_sync("{ hello }").data == {"hello": "Hello stranger"}


def test_strawberry_extensions_run_and_report_results():
    seen = []

    class Timing(SchemaExtension):
        def on_operation(self):
            seen.append(self.execution_context.operation_extensions)
            yield

        def get_results(self):
            return {"timing": "fast"}

    app = endpoint(Schema(query=Query, extensions=[Timing]))
    response = app.client.post("/graphql", json={"query": "{ hello }", "extensions": {"trace": True}})
    assert response.json() == {"data": {"hello": "Hello stranger"}, "extensions": {"timing": "fast"}}
    assert seen == [{"trace": True}]


def test_mask_errors_extension_hides_internal_messages(caplog):
    app = endpoint(Schema(query=Query, extensions=[MaskErrors]))
    with caplog.at_level(logging.ERROR, logger="strawberry.execution"):
        response = app.client.post("/graphql", json={"query": "{ hello secret }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"hello": "Hello stranger", "secret": None}
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in response.text
    # Strawberry's own process_errors logged the original error.
    assert "hunter2" in caplog.text


def test_subscriptions_are_refused_over_http():
    app = endpoint(Schema(query=Query, subscription=Subscription))
    for accept, status in (("application/json", 400), (GRJ, 400)):
        response = app.client.post("/graphql", json={"query": "subscription { ticks }"},
                                   headers={"Accept": accept})
        assert response.status_code == status
        assert response.json() == {"errors": [{"message": "Subscriptions are not supported over HTTP."}]}


def test_unknown_operation_name_and_no_operation():
    app = endpoint(Schema(query=Query))
    response = app.client.post("/graphql", json={"query": "query A { hello }", "operationName": "B"})
    assert response.json() == {"errors": [{"message": "Unknown operation named 'B'."}]}
    response = app.client.post("/graphql", json={"query": "fragment F on Query { hello }"})
    assert "exactly one operation" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("query", ["{ hello }", "query { hello }"])
def test_get_and_post_agree(query):
    app = endpoint(Schema(query=Query))
    assert app.client.get("/graphql", params={"query": query}).json() == app.client.post(
        "/graphql", json={"query": query}).json() == {"data": {"hello": "Hello stranger"}}
