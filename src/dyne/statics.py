"""Dyne 2.0.5's module of default values, with dyne's values.

``DEFAULT_SECRET_KEY`` is ``None``: there is no built-in secret key (a known
default would let anyone forge session cookies); without ``secret_key=`` or
``SECRET_KEY``, sessions are signed with a random per-process key.
"""

from __future__ import annotations

from typing import Any

from .middleware import CORS_DEFAULTS

__all__ = ["DEFAULT_CORS_PARAMS", "DEFAULT_ENCODING", "DEFAULT_SECRET_KEY",
           "DEFAULT_SESSION_COOKIE"]

#: The CORS options used when ``cors_params`` leaves one out.
DEFAULT_CORS_PARAMS: dict[str, Any] = dict(CORS_DEFAULTS)
#: The charset of ``str`` bodies and of the env file.
DEFAULT_ENCODING = "utf-8"
#: No default secret key (see above).
DEFAULT_SECRET_KEY: str | None = None
#: The name of the session cookie.
DEFAULT_SESSION_COOKIE = "dyne-Session"
