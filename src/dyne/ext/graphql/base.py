"""What ``GraphQLView`` needs from a backend, without importing any backend.

A backend (``dyne.ext.graphql.strawberry``, ``dyne.ext.graphql.graphene``)
provides a ``Schema`` class deriving from both ``BackendSchema`` and the
library's own schema class. ``GraphQLView`` asks it once, at registration, for
an ``Executor``; per request the executor parses, validates and executes one
``GraphQLRequest`` and returns a ``GraphQLResult``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

__all__ = [
    "BackendSchema",
    "Executor",
    "GraphQLRequest",
    "GraphQLResult",
    "GraphQLSchema",
    "MutationNotAllowed",
    "request_error",
]


@dataclass(slots=True)
class GraphQLRequest:
    """The GraphQL-over-HTTP request parameters, already checked for shape."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass(slots=True)
class GraphQLResult:
    """What executing (or failing to execute) a request produced.

    ``executed`` is ``False`` for *request errors*: the document did not parse
    or validate, the operation could not be determined, or the variables did
    not coerce. Such a response has no ``data`` entry (and, with
    ``application/graphql-response+json``, a 400 status). ``errors`` are
    already formatted as the GraphQL spec's error objects.
    """

    data: Any = None
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] | None = None
    executed: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The GraphQL response body: ``errors`` (when any), ``data`` (when the
        operation ran) and ``extensions`` (when any)."""
        body: dict[str, Any] = {}
        if self.errors:
            body["errors"] = self.errors
        if self.executed:
            body["data"] = self.data
        if self.extensions:
            body["extensions"] = self.extensions
        return body


def request_error(message: str) -> GraphQLResult:
    """A result for a request that was refused before execution."""
    return GraphQLResult(errors=[{"message": message}], executed=False)


class MutationNotAllowed(Exception):
    """Raised by an executor when a GET request asks for a mutation: the view
    answers 405 (GraphQL over HTTP forbids mutations over GET)."""


class Executor(Protocol):
    """Runs requests against one schema; built once, when the view is created."""

    async def execute(self, request: GraphQLRequest, *, context: Any, root_value: Any,
                      allow_mutations: bool) -> GraphQLResult:
        """Parse, validate and execute ``request``.

        Raises ``MutationNotAllowed`` when the selected operation is a
        mutation and ``allow_mutations`` is false. GraphQL errors (syntax,
        validation, resolvers) are returned in the result, never raised.
        """
        ...


class BackendSchema:
    """Mixin of the dyne schema classes (``dyne.ext.graphql.strawberry.Schema``,
    ``dyne.ext.graphql.graphene.Schema``).

    It marks a schema as built through dyne, names its backend (one backend
    per app) and creates the executor the view uses.
    """

    #: ``"strawberry"`` or ``"graphene"``.
    graphql_backend: ClassVar[str] = ""
    #: The extra that installs this backend, for error messages.
    install_extra: ClassVar[str] = ""

    def create_executor(self) -> Executor:
        raise NotImplementedError


#: Dyne 2.0.5's name for the base of the dyne schema classes.
GraphQLSchema = BackendSchema


def __getattr__(name: str) -> Any:
    # ``ExecutionResult`` (graphql-core's), imported on first use: this module
    # must not import the GraphQL libraries.
    if name == "ExecutionResult":
        from graphql import ExecutionResult

        return ExecutionResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
