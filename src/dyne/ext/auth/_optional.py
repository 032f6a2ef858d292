"""Importing the optional libraries the helpers need, with a useful error."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, package: str, feature: str) -> ModuleType:
    """Import ``module``, or raise ``ImportError`` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{feature} needs {package}: pip install \"dyne[auth]\"") from exc
