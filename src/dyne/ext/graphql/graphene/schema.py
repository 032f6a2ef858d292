"""``dyne.ext.graphql.graphene.schema``: Dyne 2.0.5's import path of the
Graphene ``Schema`` (the same class as ``dyne.ext.graphql.graphene.Schema``)."""

from graphql import ExecutionResult

from ..base import GraphQLSchema
from . import Schema

__all__ = ["ExecutionResult", "GraphQLSchema", "Schema"]
