"""Secret-key rotation: the key that signs, and older keys still accepted.

``SECRET_KEY`` signs everything dyne signs (session cookies, server-side
session ids, remember-me and signed cookies, ``LoginManager`` JWTs, Digest
nonces). To rotate it without logging everyone out, put the new key in
``SECRET_KEY`` and the old one in ``SECRET_KEY_FALLBACKS`` (Django's name):
values signed with a fallback are still accepted, new ones are signed with
``SECRET_KEY``. Remove the fallback once what it signed has expired.

``SECRET_KEY_FALLBACKS`` in the environment or a ``.env`` file is a list
separated by commas or whitespace; ``App(secret_key_fallbacks=[...])`` takes
a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["key_list", "oldest_first"]

_SEPARATORS = re.compile(r"[\s,]+")


def key_list(value: Any, what: str = "SECRET_KEY_FALLBACKS") -> list[str]:
    """``value`` as a list of keys: ``None`` is none, a string is split on
    commas and whitespace, any other iterable gives its (non-empty) items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [key for key in _SEPARATORS.split(value) if key]
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} takes a list of keys (or a comma-separated string), got {value!r}")
    keys = list(value)
    for key in keys:
        if not isinstance(key, (str, bytes)) or not key:
            raise TypeError(f"{what}: every key is a non-empty string, got {key!r}")
    return keys


def oldest_first(secret_key: Any, fallbacks: Iterable[Any] = ()) -> list[Any]:
    """The keys in itsdangerous' order (it signs with the last): the
    fallbacks, oldest first as listed last, then the signing key."""
    return [*reversed(list(fallbacks)), secret_key]
