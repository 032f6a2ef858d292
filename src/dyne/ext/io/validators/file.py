"""``validate_filename``: the filename check of ``FileField`` as a function
(Dyne 2.0.5's import path)."""

from __future__ import annotations

from typing import Any

from ..files import check_filename
from ..utils.filename import secure_filename

__all__ = ["secure_filename", "validate_filename"]


def validate_filename(file: Any, *, sanitize: bool = False) -> None:
    """Check ``file.filename`` (any object with a ``filename``); raise
    ``ValueError`` with the reason when it is unsafe. With ``sanitize``, an
    unsafe name is replaced by a safe one instead (a name with nothing to keep
    is still refused). The rules: ``dyne.ext.io.files.filename_problem``."""
    problem = check_filename(file, sanitize)
    if problem is not None:
        raise ValueError(problem)
