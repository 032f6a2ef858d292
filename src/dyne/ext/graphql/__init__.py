"""GraphQL for dyne, with Strawberry or Graphene (one backend per app).

::

    from dyne.ext.graphql import GraphQLView
    from dyne.ext.graphql.strawberry import Schema   # or: dyne.ext.graphql.graphene

    app.add_route("/graphql", GraphQLView(app=app, schema=Schema(query=Query)))

Importing this package loads neither backend nor graphql-core: each backend
module imports its library, and names the ``pip install "dyne[...]"`` that
provides it when it is missing.
"""

from .base import BackendSchema, GraphQLRequest, GraphQLResult
from .view import GraphQLView

__all__ = ["BackendSchema", "GraphQLRequest", "GraphQLResult", "GraphQLView"]
