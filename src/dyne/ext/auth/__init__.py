"""Authentication and authorization for dyne.

Two systems, both importable from here:

* **Stateless** (``dyne.ext.auth.stateless``): ``@authenticate(backend,
  role=None)`` with ``BasicAuth``, ``TokenAuth``, ``DigestAuth`` and
  ``MultiAuth`` (defined in ``dyne.ext.auth.stateless.backends``).
* **Session** (``dyne.ext.auth.session``): ``LoginManager`` with
  ``@auth.login_required``, ``LoginMiddleware`` and ``AuthFailureReason``.

Helpers for passwords (argon2), JWTs and signed values live in
``dyne.ext.auth.helpers``; the password and JWT ones need
``pip install "dyne[auth]"``, nothing else here does.
"""

from .helpers import (
    JWT,
    PasswordHasher,
    Signer,
    check_password,
    create_jwt_token,
    hash_password,
    validate_jwt_token,
)
from .session import AuthFailureReason, LoginManager, LoginMiddleware
from .stateless import (
    BasicAuth,
    DigestAuth,
    HTTPAuth,
    MemoryNonceStore,
    MultiAuth,
    NonceStore,
    OAuth2Bearer,
    TokenAuth,
    authenticate,
    public,
)
from .urls import is_safe_url

__all__ = [
    "JWT",
    "AuthFailureReason",
    "BasicAuth",
    "DigestAuth",
    "HTTPAuth",
    "LoginManager",
    "LoginMiddleware",
    "MemoryNonceStore",
    "MultiAuth",
    "NonceStore",
    "OAuth2Bearer",
    "PasswordHasher",
    "RedisNonceStore",
    "Signer",
    "TokenAuth",
    "authenticate",
    "check_password",
    "create_jwt_token",
    "hash_password",
    "is_safe_url",
    "public",
    "validate_jwt_token",
]


def __getattr__(name: str) -> object:
    if name == "RedisNonceStore":  # imported on first use: it needs redis-py
        from .stateless.redis import RedisNonceStore

        return RedisNonceStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
