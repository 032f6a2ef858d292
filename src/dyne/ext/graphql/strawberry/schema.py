"""``dyne.ext.graphql.strawberry.schema``: Dyne 2.0.5's import path of the
Strawberry ``Schema`` (the same class as ``dyne.ext.graphql.strawberry.Schema``)."""

from graphql import ExecutionResult

from ..base import GraphQLSchema
from . import Schema

__all__ = ["ExecutionResult", "GraphQLSchema", "Schema"]
