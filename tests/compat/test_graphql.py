"""GraphQL status codes as in the published Dyne 2.0.5 (tried against 2.0.5):
a document that does not parse or validate is a 400."""

import pytest
import strawberry

import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.strawberry import Schema


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "stranger") -> str:
        return f"Hello {name}"


@pytest.fixture
def client():
    app = dyne.App()
    app.add_route("/graphql", GraphQLView(app=app, schema=Schema(query=Query)))
    return app.client


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize("query, message", [
    ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
    ("{ hello ", "Syntax Error"),
])
def test_invalid_documents_are_400(client, accept, query, message):
    response = client.post("/graphql", json={"query": query}, headers={"Accept": accept})
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


def test_valid_queries_are_200(client):
    response = client.post("/graphql", json={"query": "{ hello }"})
    assert (response.status_code, response.json()) == (200, {"data": {"hello": "Hello stranger"}})
    assert client.get("/graphql", params={"query": "{ nope }"},
                      headers={"Accept": "application/json"}).status_code == 400
