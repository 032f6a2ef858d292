"""Redirects that stay on the site.

Browsers read ``/\\evil.example`` and ``//evil.example`` (and the same with
tabs or newlines inside, which they strip) as "another host". A redirect
built from the request path must therefore never start with two slashes or
contain a backslash or a control character: ``path_location`` percent-encodes
the path and collapses leading slashes. ``is_safe_url`` tells whether a URL
given by a client (a ``next`` parameter) is a path on this site.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

__all__ = ["is_safe_url", "is_same_origin", "path_location"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: What stays as is in a path; everything else (``\``, ``%``, spaces, controls) is encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def is_safe_url(url: object) -> bool:
    """Whether ``url`` is a relative URL on this site: a path beginning with a
    single ``/`` (no scheme, no host, no backslash, no control character)."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        return False
    if "\\" in url or _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def is_same_origin(url: str, scheme: str, netloc: str) -> bool:
    """Whether absolute ``url`` has exactly this scheme and host[:port]."""
    if _CONTROL.search(url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() == scheme.lower() and parts.netloc.lower() == netloc.lower()


def path_location(path: str, query: str = "") -> str:
    """A ``Location`` for a (decoded) request path that browsers can only
    resolve on this origin."""
    location = "/" + quote(path, safe=_PATH_SAFE).lstrip("/")
    return f"{location}?{query}" if query else location
