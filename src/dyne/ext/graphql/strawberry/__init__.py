"""Strawberry as dyne's GraphQL backend.

::

    import strawberry
    from dyne.ext.graphql import GraphQLView
    from dyne.ext.graphql.strawberry import Schema

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self, name: str = "stranger") -> str:
            return f"Hello {name}"

    app.add_route("/graphql", GraphQLView(app=app, schema=Schema(query=Query)))

``Schema`` *is* a ``strawberry.Schema`` (same arguments, same methods:
``execute``, ``execute_sync``, ``as_str``...); it only marks the schema as
Strawberry's for dyne. Execution goes through ``strawberry.Schema.execute``,
so Strawberry's schema extensions, permissions, ``process_errors`` logging
and error masking apply as usual.
"""

from __future__ import annotations

import inspect
from typing import Any

try:
    import strawberry
    from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
    from strawberry.types.graphql import OperationType
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'dyne.ext.graphql.strawberry needs Strawberry: pip install "dyne[graphql_strawberry]"'
    ) from exc

from ..base import BackendSchema, Executor, GraphQLRequest, GraphQLResult, MutationNotAllowed, request_error

__all__ = ["Schema", "StrawberryExecutor"]

_QUERIES = frozenset({OperationType.QUERY})
_QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class Schema(BackendSchema, strawberry.Schema):
    """A ``strawberry.Schema`` that dyne's ``GraphQLView`` accepts.

    Takes exactly the arguments of ``strawberry.Schema``:
    ``Schema(query=Query, mutation=Mutation, extensions=[...], config=...)``.
    """

    graphql_backend = "strawberry"
    install_extra = "graphql_strawberry"

    def create_executor(self) -> Executor:
        return StrawberryExecutor(self)


class StrawberryExecutor:
    """Runs requests through ``strawberry.Schema.execute``."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema
        # Request ``extensions`` reach Strawberry's extensions where the
        # installed Strawberry accepts them.
        self._passes_extensions = "operation_extensions" in inspect.signature(schema.execute).parameters

    async def execute(self, request: GraphQLRequest, *, context: Any, root_value: Any,
                      allow_mutations: bool) -> GraphQLResult:
        options: dict[str, Any] = {}
        if self._passes_extensions and request.extensions is not None:
            options["operation_extensions"] = request.extensions
        try:
            result = await self.schema.execute(
                request.query,
                variable_values=request.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request.operation_name,
                allowed_operation_types=_QUERIES_AND_MUTATIONS if allow_mutations else _QUERIES,
                **options,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                raise MutationNotAllowed from None
            return request_error("Subscriptions are not supported over HTTP.")
        except CannotGetOperationTypeError:
            return request_error(_operation_error(request))
        errors = list(result.errors or ())
        return GraphQLResult(
            data=result.data,
            errors=[error.formatted for error in errors],
            extensions=result.extensions or None,
            # Field errors carry a path; request errors (syntax, validation,
            # variables) do not, and leave no data.
            executed=result.data is not None or any(error.path for error in errors),
        )


def _operation_error(request: GraphQLRequest) -> str:
    if request.operation_name:
        return f"Unknown operation named '{request.operation_name}'."
    return ("Could not determine the operation to execute: the document must contain exactly one "
            "operation, or operationName must name one of them.")
