"""Responder-style alias of ``dyne.status``."""

from .status import *  # noqa: F403
from .status import is_100, is_200, is_300, is_400, is_500  # noqa: F401
