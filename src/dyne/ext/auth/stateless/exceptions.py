"""``AuthenticationError``: raise it from an authentication callback
(``verify_password``, ``verify_token``, ``get_password``, ``user_loader``...)
to refuse the credentials; the request then gets the backend's 401, as when
the callback returns ``None``. The import path of Dyne 2.0.5."""

from __future__ import annotations

__all__ = ["AuthenticationError"]


class AuthenticationError(Exception):
    """The credentials are refused (answered like a ``None`` from the callback)."""
