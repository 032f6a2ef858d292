"""Parsing the ``Authorization`` header, defensively.

Every function here returns ``None`` for input it cannot read, whatever the
input: a client that sends garbage gets a 401, never a 500. Header values
reach us as ASGI bytes; they are decoded as Latin-1 (which cannot fail) and
credentials inside them as UTF-8 (RFC 7617, RFC 7616).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MAX_AUTHORIZATION_LENGTH",
    "authorization",
    "header_value",
    "parse_auth_params",
    "parse_basic",
    "query_value",
    "quote",
    "split_scheme",
    "to_utf8",
]

#: Longer ``Authorization`` values are refused unread (large JWTs stay far below).
MAX_AUTHORIZATION_LENGTH = 8192

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# One auth-param: name = token | quoted-string, then a comma or the end. Values
# without quotes are read leniently (any run without space, comma or quote),
# since some clients do not quote ``uri`` or ``algorithm``.
_PARAM = re.compile(
    r"[ \t]*(" + _TOKEN + r")[ \t]*=[ \t]*"
    r"(?:\"((?:[^\"\\]|\\.)*)\"|([^\s,\"]+))"
    r"[ \t]*(?:,|\Z)",
    re.DOTALL,
)
_SEPARATORS = re.compile(r"[ \t,]*")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first raw value of header ``name`` (lower-case bytes)."""
    for key, value in headers:
        if key == name:
            return value
    return None


def authorization(scope: Mapping[str, Any], name: bytes = b"authorization",
                  limit: int = MAX_AUTHORIZATION_LENGTH) -> str | None:
    """The header as text; ``None`` when absent. A value longer than ``limit``
    comes back as ``""``: present, but not worth reading."""
    raw = header_value(scope.get("headers", ()), name)
    if raw is None:
        return None
    if len(raw) > limit:
        return ""
    return raw.decode("latin-1")


def split_scheme(value: str) -> tuple[str, str]:
    """``"Basic dXNlcjpwdw=="`` -> ``("basic", "dXNlcjpwdw==")``: the scheme
    lower-cased, and the rest with surrounding whitespace removed."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    return scheme.lower(), rest.strip()


def to_utf8(text: str) -> str | None:
    """Re-read a Latin-1 decoded header value as UTF-8 (``None`` if it is not)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def parse_basic(credentials: str) -> tuple[str, str] | None:
    """The ``(username, password)`` of Basic credentials (base64 of
    ``user:password``, UTF-8), or ``None`` if they are malformed: not base64,
    no colon, not UTF-8, or containing control characters (RFC 7617)."""
    if not credentials:
        return None
    try:
        encoded = credentials.encode("ascii")
        # Some clients drop the padding; put it back rather than refuse them.
        raw = base64.b64decode(encoded + b"=" * (-len(encoded) % 4), validate=True)
        text = raw.decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    username, colon, password = text.partition(":")
    if not colon or _CONTROL.search(text):
        return None
    return username, password


def parse_auth_params(text: str) -> dict[str, str] | None:
    """``name=value, name="quoted value"`` (RFC 9110 auth-params) as a dict with
    lower-case names. ``None`` for anything malformed, including a repeated
    name (which could smuggle a second value past a check)."""
    params: dict[str, str] = {}
    position = 0
    end = len(text)
    while True:
        separators = _SEPARATORS.match(text, position)
        position = separators.end() if separators else position
        if position >= end:
            return params
        match = _PARAM.match(text, position)
        if match is None:
            return None
        name = match.group(1).lower()
        if name in params:
            return None
        quoted = match.group(2)
        params[name] = _UNESCAPE.sub(r"\1", quoted) if quoted is not None else match.group(3)
        position = match.end()


def quote(value: str) -> str:
    """A quoted-string for a challenge parameter."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def query_value(query_string: bytes, name: bytes, limit: int = MAX_AUTHORIZATION_LENGTH) -> str | None:
    """The first value of parameter ``name`` in a raw query string,
    percent-decoded as UTF-8; ``None`` when absent, ``""`` when longer than
    ``limit`` or unreadable. Only the parameter asked for is decoded."""
    from urllib.parse import unquote_to_bytes

    for pair in query_string.split(b"&"):
        key, _, value = pair.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) != name:
            continue
        if len(value) > 3 * limit:
            return ""
        try:
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return "" if len(text) > limit or _CONTROL.search(text) else text
    return None
