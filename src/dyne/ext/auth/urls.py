"""Which URLs are safe to redirect to after a login or a logout.

Only same-site relative URLs are: a path beginning with a single ``/``. That
refuses absolute URLs (``https://evil.example``), scheme-relative ones
(``//evil.example``), the backslash forms browsers read as slashes
(``/\\evil.example``), other schemes (``javascript:``...) and anything with
control characters, which browsers strip before parsing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["is_safe_url"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_safe_url(url: object) -> bool:
    """Whether ``url`` is a relative URL on this site, safe for ``next`` or
    ``redirect_url``."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        return False
    if "\\" in url or _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc
