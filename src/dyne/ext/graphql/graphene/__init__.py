"""Graphene as dyne's GraphQL backend.

::

    import graphene
    from dyne.ext.graphql import GraphQLView
    from dyne.ext.graphql.graphene import Schema

    class Query(graphene.ObjectType):
        hello = graphene.String(name=graphene.String(default_value="stranger"))

        def resolve_hello(self, info, name):
            return f"Hello {name}"

    app.add_route("/graphql", GraphQLView(app=app, schema=Schema(query=Query)))

``Schema`` *is* a ``graphene.Schema`` (same arguments, same methods). Requests
run on graphql-core's asynchronous executor: ``async def`` resolvers and
``mutate`` methods are awaited, plain ones are called directly. Parsed and
validated documents are kept in a small cache keyed by the query text, so a
query the app has seen recently is only executed.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from inspect import isawaitable
from typing import Any

try:
    import graphene
    from graphql import (
        DocumentNode,
        GraphQLError,
        OperationType,
        assert_valid_schema,
        execute,
        get_operation_ast,
        parse,
        specified_rules,
        validate,
    )
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'dyne.ext.graphql.graphene needs Graphene: pip install "dyne[graphql_graphene]"'
    ) from exc

from ..base import BackendSchema, Executor, GraphQLRequest, GraphQLResult, MutationNotAllowed, request_error

__all__ = ["GrapheneExecutor", "Schema"]

logger = logging.getLogger("dyne.ext.graphql")

#: How many distinct queries keep their parsed, validated document.
DOCUMENT_CACHE_SIZE = 256
_TOO_DEEP = "Query is nested too deeply."


class Schema(BackendSchema, graphene.Schema):
    """A ``graphene.Schema`` that dyne's ``GraphQLView`` accepts.

    Takes exactly the arguments of ``graphene.Schema``:
    ``Schema(query=Query, mutation=Mutation, types=[...], auto_camelcase=True)``.
    """

    graphql_backend = "graphene"
    install_extra = "graphql_graphene"

    def create_executor(self) -> Executor:
        return GrapheneExecutor(self)


class GrapheneExecutor:
    """Runs requests on ``schema.graphql_schema`` with graphql-core."""

    def __init__(self, schema: graphene.Schema) -> None:
        self.schema = schema.graphql_schema
        # An invalid schema is reported now, at registration, not on the first request.
        assert_valid_schema(self.schema)
        self.rules = tuple(specified_rules)
        self._prepare = lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(self._parse_and_validate)

    def _parse_and_validate(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        try:
            document = parse(query)
        except GraphQLError as error:
            return None, [error]
        except RecursionError:
            return None, [GraphQLError(_TOO_DEEP)]
        try:
            errors = validate(self.schema, document, self.rules)
        except RecursionError:
            return None, [GraphQLError(_TOO_DEEP)]
        return (None, errors) if errors else (document, [])

    async def execute(self, request: GraphQLRequest, *, context: Any, root_value: Any,
                      allow_mutations: bool) -> GraphQLResult:
        document, errors = self._prepare(request.query)
        if document is None:
            return GraphQLResult(errors=[error.formatted for error in errors], executed=False)
        operation = get_operation_ast(document, request.operation_name)
        if operation is not None:
            if operation.operation is OperationType.MUTATION and not allow_mutations:
                raise MutationNotAllowed
            if operation.operation is OperationType.SUBSCRIPTION:
                return request_error("Subscriptions are not supported over HTTP.")
        try:
            result = execute(self.schema, document, root_value=root_value, context_value=context,
                             variable_values=request.variables,
                             operation_name=request.operation_name)
            if isawaitable(result):
                result = await result
        except RecursionError:
            return request_error(_TOO_DEEP)
        errors = result.errors or []
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                logger.error("Error in a GraphQL resolver at %s", ".".join(map(str, error.path or ())),
                             exc_info=original)
        return GraphQLResult(
            data=result.data,
            errors=[error.formatted for error in errors],
            extensions=result.extensions or None,
            # Field errors carry a path; request errors (unknown operation,
            # variables that do not coerce) do not, and leave no data.
            executed=result.data is not None or any(error.path for error in errors),
        )
