"""Typed API clients generated from an OpenAPI document.

``generate(document, "python")`` (or ``"typescript"``) returns the source of
a client with no dependency on dyne: the Python one uses httpx, the
TypeScript one ``fetch``. Models come from ``components.schemas``; every
operation is a method; error statuses raise ``ApiError`` with the status and
the decoded body. The output depends only on the document, so regenerating
an unchanged API gives the same file. ``dyne client`` runs it from the
command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import ClientModel, read_document
from .python import render_python
from .typescript import render_typescript

__all__ = ["LANGUAGES", "ClientModel", "generate", "read_document"]

#: Language -> the usual file suffix of its client.
LANGUAGES = {"python": ".py", "typescript": ".ts"}


def generate(document: Mapping[str, Any], lang: str) -> str:
    """The source of a ``lang`` client (``"python"`` or ``"typescript"``) for
    the OpenAPI 3.0/3.1 ``document`` (a dict)."""
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown client language {lang!r}; use one of {', '.join(LANGUAGES)}")
    model = read_document(document)
    return render_python(model) if lang == "python" else render_typescript(model)
