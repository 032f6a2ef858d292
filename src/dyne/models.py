"""Compatibility module: ``from dyne.models import Request, Response``."""

from .datastructures import QueryDict
from .request import Request
from .response import Response

__all__ = ["QueryDict", "Request", "Response"]
