"""``secure_filename``: a safe version of a client's filename (Dyne 2.0.5's
import path; the rules are those of ``dyne.ext.io.files``)."""

from __future__ import annotations

import re

from ..files import sanitize_filename

__all__ = ["INVALID_CHARS", "secure_filename"]

#: Characters a safe filename does not hold.
INVALID_CHARS = re.compile(r"[^A-Za-z0-9 ._-]")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def secure_filename(filename: str, *, allow_unicode: bool = False) -> str:
    """A safe ASCII filename made from ``filename`` (path parts dropped,
    accents removed, other characters replaced; see
    ``dyne.ext.io.files.sanitize_filename``). Raises ``ValueError`` for a
    name with nothing to keep (empty, ``.``, ``..``) or with control
    characters. ``allow_unicode`` is accepted for Dyne 2.0.5 code; the result
    is always ASCII."""
    if not filename or not filename.strip():
        raise ValueError("Filename cannot be empty.")
    if _CONTROL.search(filename):
        raise ValueError("Filename contains control characters.")
    if not filename.replace("\\", "/").rsplit("/", 1)[-1].strip(" ."):
        raise ValueError("Invalid filename.")
    return sanitize_filename(filename)
