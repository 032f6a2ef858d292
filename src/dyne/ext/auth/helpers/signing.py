"""Signed values (itsdangerous): data a client may hold and show back, but not
change.

    from dyne.ext.auth.helpers import Signer

    signer = Signer(app.secret_key, salt="email-confirmation")
    token = signer.sign({"user": 42})
    signer.unsign(token, max_age=3600)   # {"user": 42}, or None if tampered or too old

Different ``salt`` values keep tokens made for one purpose from being
accepted for another.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Signer", "create_signed_value", "decode_signed_value"]


class Signer:
    """Signs JSON-serializable values with a secret key and a timestamp.

    ``fallbacks`` are older keys (newest first) whose signatures are still
    accepted, for key rotation (``Signer(app.secret_key,
    fallbacks=app.secret_key_fallbacks)``); new values are signed with
    ``secret_key``."""

    def __init__(self, secret_key: str | bytes, *, salt: str = "dyne.auth.signed-value",
                 max_age: float | None = None, fallbacks: Iterable[str | bytes] = ()) -> None:
        from itsdangerous import URLSafeTimedSerializer

        from dyne.keys import key_list, oldest_first

        if not secret_key:
            raise ValueError("Signer needs a secret key")
        self.max_age = max_age
        keys = oldest_first(secret_key, key_list(list(fallbacks), "fallbacks="))
        self._serializer = URLSafeTimedSerializer(keys, salt=salt)

    def sign(self, value: Any) -> str:
        """``value`` serialized, timestamped and signed (URL- and cookie-safe)."""
        return str(self._serializer.dumps(value))

    def unsign(self, signed: str | bytes, max_age: float | None = None) -> Any:
        """The value, or ``None`` if ``signed`` was tampered with or is older than
        ``max_age`` seconds (default: the ``Signer``'s ``max_age``)."""
        from itsdangerous import BadData

        age = self.max_age if max_age is None else max_age
        try:
            # itsdangerous compares ages as numbers; its stubs only say int.
            return self._serializer.loads(signed, max_age=age)  # type: ignore[arg-type]
        except (BadData, UnicodeError):
            return None


def create_signed_value(value: Any, secret_key: str | bytes, *,
                        salt: str = "dyne.auth.signed-value") -> str:
    """``value`` signed with ``secret_key``."""
    return Signer(secret_key, salt=salt).sign(value)


def decode_signed_value(signed: str | bytes, secret_key: str | bytes, *, max_age: float | None = None,
                        salt: str = "dyne.auth.signed-value") -> Any:
    """The value signed by ``create_signed_value``, or ``None``."""
    return Signer(secret_key, salt=salt).unsign(signed, max_age=max_age)
