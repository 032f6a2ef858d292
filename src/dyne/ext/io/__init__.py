"""Declarative request validation, response serialization and file uploads.

Pick the decorators of your schema library::

    from dyne.ext.io.pydantic import input, output, expect, webhook
    from dyne.ext.io.marshmallow import input, output, expect, webhook

Both are thin adapters over one core (``dyne.ext.io.core``); this package
imports neither library. ``File`` is what a validated upload is;
``ValidatedData`` is the dict ``@input`` injects (keys readable as attributes).
"""

from .core import SerializationError, ValidatedData
from .files import File

__all__ = ["File", "SerializationError", "ValidatedData"]
