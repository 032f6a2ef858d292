"""The GraphQL section of the Dyne documentation (shared seeds 000/001), run
unchanged and checked against the responses it prints.

The examples are kept exactly as the documentation prints them (the seed's
reStructuredText code blocks, dedented); when the seed file is present
(``shared/seeds`` next to the repository) a test checks that they still
match it word for word. No example needed a fix.
"""

import itertools
import json
import re
import sys
import textwrap
import types

import pytest

from tests.conftest import ROOT, seed_document

STRAWBERRY_EXAMPLE = '''
import strawberry
import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.strawberry import Schema

app = dyne.App()

# Define a response type for mutations
@strawberry.type
class MessageResponse:
    ok: bool
    message: str

# Define a Mutation class
@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_message(self, name: str, message: str) -> MessageResponse:
        return MessageResponse(ok=True, message=f"Message from {name}: {message}")

# Define a Query class
@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "stranger") -> str:
        return f"Hello {name}"

# Create the schema
schema = Schema(query=Query, mutation=Mutation)

# Create GraphQL view and add it to the API
view = GraphQLView(app=app, schema=schema)
app.add_route("/graphql", view)
'''

GRAPHENE_EXAMPLE = '''
import graphene
import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.graphene import Schema

app = dyne.App()

# Define a Mutation for Graphene
class CreateMessage(graphene.Mutation):
    class Arguments:
        name = graphene.String(required=True)
        message = graphene.String(required=True)

    ok = graphene.Boolean()
    message = graphene.String()

    def mutate(self, info, name, message):
        return CreateMessage(ok=True, message=f"Message from {name}: {message}")

# Define a Mutation class
class Mutation(graphene.ObjectType):
    create_message = CreateMessage.Field()

# Define a Query class
class Query(graphene.ObjectType):
    hello = graphene.String(name=graphene.String(default_value="stranger"))

    def resolve_hello(self, info, name):
        return f"Hello {name}"

# Create the schema
schema = Schema(query=Query, mutation=Mutation)

# Create GraphQL view and add it to the API
view = GraphQLView(app=app, schema=schema)
app.add_route("/graphql", view)
'''

# "GraphQL Queries and Mutations": each operation with its "Expected Response".
EXAMPLE_QUERY_1 = '''
query {
  hello
}
'''

EXPECTED_RESPONSE_1 = '''
{
  "data": {
    "hello": "Hello stranger"
  }
}
'''

EXAMPLE_QUERY_2 = '''
query {
  hello(name: "Alice")
}
'''

EXPECTED_RESPONSE_2 = '''
{
  "data": {
    "hello": "Hello Alice"
  }
}
'''

EXAMPLE_MUTATION = '''
mutation {
  createMessage(name: "Alice", message: "GraphQL is awesome!") {
    ok
    message
  }
}
'''

EXPECTED_MUTATION_RESPONSE = '''
{
  "data": {
    "createMessage": {
      "ok": true,
      "message": "Message from Alice: GraphQL is awesome!"
    }
  }
}
'''

OPERATIONS = [
    (EXAMPLE_QUERY_1, EXPECTED_RESPONSE_1),
    (EXAMPLE_QUERY_2, EXPECTED_RESPONSE_2),
    (EXAMPLE_MUTATION, EXPECTED_MUTATION_RESPONSE),
]
EXAMPLES = {"strawberry": STRAWBERRY_EXAMPLE, "graphene": GRAPHENE_EXAMPLE}


def run_example(source: str) -> dict:
    """Execute an example as a module of its own, as if it were the user's
    ``app.py`` (Strawberry looks the classes' module up in ``sys.modules``)."""
    name = f"seed_graphql_example_{next(_modules)}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(textwrap.dedent(source), f"<seed example {name}>", "exec"), module.__dict__)
    return module.__dict__


_modules = itertools.count()


@pytest.fixture(params=sorted(EXAMPLES))
def example(request):
    namespace = run_example(EXAMPLES[request.param])
    yield namespace
    namespace["app"].client.close()
    sys.modules.pop(namespace["__name__"], None)


def test_example_builds_an_app_with_a_graphql_route(example):
    from dyne.ext.graphql import GraphQLView

    app = example["app"]
    assert isinstance(example["view"], GraphQLView)
    assert [route.path for route in app.routes if route.endpoint is example["view"]] == ["/graphql"]


@pytest.mark.parametrize(("operation", "expected"), OPERATIONS, ids=["query-1", "query-2", "mutation"])
def test_documented_operations_give_the_documented_responses_over_post(example, operation, expected):
    response = example["app"].client.post("/graphql", json={"query": operation})
    assert response.status_code == 200
    assert response.json() == json.loads(expected)


@pytest.mark.parametrize(("operation", "expected"), OPERATIONS[:2], ids=["query-1", "query-2"])
def test_documented_queries_work_over_get_too(example, operation, expected):
    client = example["app"].client
    assert client.get("/graphql", params={"query": operation}).json() == json.loads(expected)
    assert client.get("/graphql", params={"q": operation}).json() == json.loads(expected)


def test_documented_mutation_is_refused_over_get(example):
    response = example["app"].client.get("/graphql", params={"query": EXAMPLE_MUTATION})
    assert response.status_code == 405


def test_resolvers_can_use_request_and_response_as_documented(example):
    """"You can make use of Dyne's Request and Response objects in your GraphQL
    resolvers through info.context['request'] and info.context['response']"."""
    from dyne.ext.graphql import GraphQLView

    schema = example["schema"]
    app = example["app"]
    seen = {}

    class Recording(GraphQLView):
        def get_context(self, req, resp):
            context = super().get_context(req, resp)
            seen.update(context)
            return context

    app.add_route("/recorded", Recording(app=app, schema=schema))
    app.client.get("/recorded", params={"query": "{ hello }"}, headers={"X-Test": "1"})
    assert seen["request"].headers["x-test"] == "1"
    assert seen["request"].path == "/recorded"
    assert type(seen["response"]).__name__ == "Response"


def test_a_browser_gets_graphiql(example):
    response = example["app"].client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "GraphiQL" in response.text


def test_install_extras_named_by_the_documentation_exist():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    # "pip install dyne[strawberry]", "pip install dyne[graphene]" and the
    # quoted "dyne[graphql_strawberry]" / "dyne[graphql_graphene]" forms.
    assert any(dep.startswith("strawberry-graphql") for dep in extras["strawberry"])
    assert any(dep.startswith("graphene") for dep in extras["graphene"])
    assert extras["graphql_strawberry"] == ["dyne[strawberry]"]
    assert extras["graphql_graphene"] == ["dyne[graphene]"]


def test_pinned_examples_match_the_documentation_word_for_word():
    text = seed_document("001_1cdd2c39c5bda939.txt").read_text(encoding="utf-8")
    section = text[text.index("GraphQL\n-------"):text.index("Configuration\n--------------")]
    blocks = re.findall(r"\.\. code-block:: (\w+)\n\n((?:(?:    .*)?\n)+)", section)
    by_language: dict[str, list[str]] = {}
    for language, body in blocks:
        by_language.setdefault(language, []).append(textwrap.dedent(body).strip("\n"))
    assert by_language["python"] == [STRAWBERRY_EXAMPLE.strip("\n"), GRAPHENE_EXAMPLE.strip("\n")]
    assert by_language["graphql"] == [op.strip("\n") for op, _ in OPERATIONS]
    assert by_language["json"] == [expected.strip("\n") for _, expected in OPERATIONS]
    assert by_language["bash"] == ["pip install dyne[strawberry]", "pip install dyne[graphene]"]
