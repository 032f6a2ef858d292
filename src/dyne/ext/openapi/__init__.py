"""OpenAPI documentation generated from the code::

    from dyne.ext.openapi import OpenAPI

    api = OpenAPI(app, title="Book Store", version="1.0")

serves the interactive documentation at ``/docs`` and the document at
``/schema.yml`` and ``/schema.json``, built from the routes and what
``@input``, ``@output``, ``@expect``, ``@webhook`` and ``@authenticate``
declare. ``@doc`` adds tags, summaries and the like. Importing this package
imports no schema library: pydantic, marshmallow and apispec are used only
when the application's schemas need them.
"""

from .builder import split_docstring
from .extension import OpenAPI, doc

__all__ = ["OpenAPI", "doc", "split_docstring"]
