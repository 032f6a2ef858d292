"""One schema, written for each backend: tests that are about HTTP run
against both (the ``gql`` fixture is parametrized by backend).

No ``from __future__ import annotations`` here: Strawberry reads the
annotations of the classes defined inside the fixtures.
"""

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

import dyne


@dataclass
class Served:
    """An app serving the test schema at /graphql, and what its resolvers did."""

    backend: str
    app: dyne.App
    view: Any
    counter: list[int] = field(default_factory=lambda: [0])

    @property
    def client(self):
        return self.app.client

    def post(self, query: str, **body: Any):
        headers = body.pop("headers", None)
        return self.client.post("/graphql", json={"query": query, **body}, headers=headers)

    def get(self, query: str | None = None, headers: dict | None = None, **params: Any):
        if query is not None:
            params["query"] = query
        return self.client.get("/graphql", params=params, headers=headers)


def strawberry_schema(counter: list[int]):
    import strawberry

    from dyne.ext.graphql.strawberry import Schema

    @strawberry.type
    class MessageResponse:
        ok: bool
        message: str

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self, name: str = "stranger") -> str:
            return f"Hello {name}"

        @strawberry.field
        async def async_hello(self, name: str = "stranger") -> str:
            await asyncio.sleep(0)
            return f"Hello {name}"

        @strawberry.field
        def user_agent(self, info: strawberry.Info) -> str:
            return info.context["request"].headers["user-agent"]

        @strawberry.field
        def boom(self) -> str | None:
            raise ValueError("kaboom")

        @strawberry.field
        def strict_boom(self) -> str:
            raise ValueError("strict kaboom")

        @strawberry.field
        def counter(self) -> int:
            return counter[0]

        @strawberry.field
        async def nap(self, seconds: float) -> float:
            await asyncio.sleep(seconds)
            return seconds

        @strawberry.field
        def sync_thread(self) -> str:
            return str(threading.get_ident())

        @strawberry.field
        async def async_thread(self) -> str:
            return str(threading.get_ident())

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def create_message(self, name: str, message: str) -> MessageResponse:
            return MessageResponse(ok=True, message=f"Message from {name}: {message}")

        @strawberry.mutation
        async def increment(self) -> int:
            await asyncio.sleep(0)
            counter[0] += 1
            return counter[0]

        @strawberry.mutation
        def remember(self, info: strawberry.Info, flavour: str) -> str:
            response = info.context["response"]
            response.set_cookie("flavour", flavour)
            response.headers["X-Flavour"] = flavour
            return flavour

        @strawberry.mutation
        def teapot(self, info: strawberry.Info) -> bool:
            info.context["response"].status_code = 418
            return True

    return Schema(query=Query, mutation=Mutation)


def graphene_schema(counter: list[int]):
    import graphene

    from dyne.ext.graphql.graphene import Schema

    class CreateMessage(graphene.Mutation):
        class Arguments:
            name = graphene.String(required=True)
            message = graphene.String(required=True)

        ok = graphene.Boolean(required=True)
        message = graphene.String(required=True)

        def mutate(self, info, name, message):
            return CreateMessage(ok=True, message=f"Message from {name}: {message}")

    class Query(graphene.ObjectType):
        hello = graphene.String(required=True, name=graphene.String(default_value="stranger"))
        async_hello = graphene.String(required=True, name=graphene.String(default_value="stranger"))
        user_agent = graphene.String(required=True)
        boom = graphene.String()
        strict_boom = graphene.String(required=True)
        counter = graphene.Int(required=True)
        sync_thread = graphene.String(required=True)
        async_thread = graphene.String(required=True)
        nap = graphene.Float(required=True, seconds=graphene.Float(required=True))

        def resolve_hello(self, info, name):
            return f"Hello {name}"

        async def resolve_async_hello(self, info, name):
            await asyncio.sleep(0)
            return f"Hello {name}"

        def resolve_user_agent(self, info):
            return info.context["request"].headers["user-agent"]

        def resolve_boom(self, info):
            raise ValueError("kaboom")

        def resolve_strict_boom(self, info):
            raise ValueError("strict kaboom")

        def resolve_counter(self, info):
            return counter[0]

        def resolve_sync_thread(self, info):
            return str(threading.get_ident())

        async def resolve_async_thread(self, info):
            return str(threading.get_ident())

        async def resolve_nap(self, info, seconds):
            await asyncio.sleep(seconds)
            return seconds

    class Mutation(graphene.ObjectType):
        create_message = CreateMessage.Field()
        increment = graphene.Int(required=True)
        remember = graphene.String(required=True, flavour=graphene.String(required=True))
        teapot = graphene.Boolean(required=True)

        async def resolve_increment(self, info):
            await asyncio.sleep(0)
            counter[0] += 1
            return counter[0]

        def resolve_remember(self, info, flavour):
            response = info.context["response"]
            response.set_cookie("flavour", flavour)
            response.headers["X-Flavour"] = flavour
            return flavour

        def resolve_teapot(self, info):
            info.context["response"].status_code = 418
            return True

    return Schema(query=Query, mutation=Mutation)


SCHEMAS = {"strawberry": strawberry_schema, "graphene": graphene_schema}


def serve(backend: str, **view_options: Any) -> Served:
    from dyne.ext.graphql import GraphQLView

    counter = [0]
    app = dyne.App()
    view = GraphQLView(app=app, schema=SCHEMAS[backend](counter), **view_options)
    app.add_route("/graphql", view)
    return Served(backend, app, view, counter)


@pytest.fixture(params=sorted(SCHEMAS))
def gql(request) -> Served:
    served = serve(request.param)
    yield served
    served.client.close()
