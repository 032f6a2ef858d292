"""``dyne.ext.io.base``: Dyne 2.0.5's import path of the IO building blocks.

``File`` is what a validated upload is, ``UploadFile`` what the form parser
gives (Starlette's), ``SchemaAdapter`` the interface a schema library plugs in
through (``BaseIO`` is its Dyne 2.0.5 name).
"""

from __future__ import annotations

from starlette.datastructures import UploadFile

from .core import SchemaAdapter
from .files import File

#: Dyne 2.0.5's name for the schema-library interface.
BaseIO = SchemaAdapter

__all__ = ["BaseIO", "File", "SchemaAdapter", "UploadFile"]
