"""Conditional requests (RFC 9110 section 13): validators and preconditions.

One helper answers ``If-Match``, ``If-Unmodified-Since``, ``If-None-Match``
and ``If-Modified-Since`` for every response that carries an ``ETag`` or a
``Last-Modified`` header: views that set ``resp.etag`` /
``resp.last_modified``, files sent with ``resp.file``, automatic ETags
(``App(auto_etag=True)``) and ``dyne.ext.cache``'s stored responses.

Ranges (``Range``/``If-Range``) on files are served by Starlette's
``FileResponse``, the same code that serves static files.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["etag_matches", "evaluate_preconditions", "parse_http_date", "quote_etag", "weak_etag"]

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def quote_etag(value: str, weak: bool = False) -> str:
    """``abc`` -> ``"abc"`` (``W/"abc"`` when ``weak``); an already quoted tag is kept."""
    value = str(value)
    if value.startswith(('"', 'W/"')):
        return value
    if '"' in value or "\r" in value or "\n" in value:
        raise ValueError(f"An entity tag cannot contain quotes or line breaks: {value!r}")
    return f'W/"{value}"' if weak else f'"{value}"'


def weak_etag(body: bytes) -> str:
    """A weak entity tag for a body: a short hash of its bytes."""
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def etag_matches(header: str, etag: str, *, weak: bool = True) -> bool:
    """Whether ``etag`` is in the list of an ``If-None-Match`` (weak comparison)
    or ``If-Match`` / ``If-Range`` (``weak=False``: strong comparison, where a
    weak tag never matches) header. ``*`` matches any tag."""
    if weak:
        tag = etag.removeprefix("W/")
        return any(c == "*" or c.removeprefix("W/") == tag for c in _tags(header))
    if etag.startswith("W/"):
        return any(c == "*" for c in _tags(header))
    return any(c == "*" or c == etag for c in _tags(header))


def parse_http_date(value: str | bytes | None) -> datetime | None:
    """An HTTP date as an aware ``datetime``; ``None`` when absent or invalid."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def evaluate_preconditions(method: str, headers: object, etag: str | None,
                           last_modified: str | datetime | None) -> int | None:
    """The status that answers a request's preconditions, in RFC 9110 order
    (section 13.2.2), for a response that would otherwise succeed: ``412``
    (``If-Match`` / ``If-Unmodified-Since`` failed, or ``If-None-Match``
    matched on an unsafe method), ``304`` (``If-None-Match`` matched, or
    without it ``If-Modified-Since`` found no change, on ``GET``/``HEAD``), or
    ``None`` to send the response.

    ``headers`` is anything with ``raw_header(name: bytes)`` (a ``Request``)."""
    raw = headers.raw_header  # type: ignore[attr-defined]
    if etag is None and last_modified is None:
        if_match = raw(b"if-match")
        if if_match is not None and if_match.strip() != b"*":
            return 412
        return None
    if isinstance(last_modified, str):
        modified: datetime | None = parse_http_date(last_modified)
    else:
        modified = last_modified
    if modified is not None:
        modified = modified.replace(microsecond=0)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)

    if_match = raw(b"if-match")
    if if_match is not None:
        if etag is None or not etag_matches(if_match.decode("latin-1"), etag, weak=False):
            return 412
    else:
        since = parse_http_date(raw(b"if-unmodified-since"))
        if since is not None and modified is not None and modified > since:
            return 412
    if_none_match = raw(b"if-none-match")
    if if_none_match is not None:
        matched = etag is not None and etag_matches(if_none_match.decode("latin-1"), etag)
        if not matched and if_none_match.strip() == b"*":
            matched = True  # the resource exists
        if matched:
            return 304 if method in _SAFE_METHODS else 412
        return None
    if method in _SAFE_METHODS and modified is not None:
        since = parse_http_date(raw(b"if-modified-since"))
        if since is not None and modified <= since:
            return 304
    return None
