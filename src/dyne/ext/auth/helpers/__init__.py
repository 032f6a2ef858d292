"""Authentication helpers: password hashing (argon2), JSON Web Tokens (PyJWT)
and signed values (itsdangerous).

Importing this module needs none of the optional libraries; using the password
or JWT helpers without them raises ``ImportError`` naming
``pip install "dyne[auth]"``.
"""

from .passwords import (
    PasswordHasher,
    check_password,
    check_password_async,
    check_password_hash,
    create_password_hash,
    hash_password,
    hash_password_async,
    needs_rehash,
)
from .signing import Signer, create_signed_value, decode_signed_value
from .tokens import JWT, ExpiredTokenError, InvalidTokenError, create_jwt_token, validate_jwt_token

__all__ = [
    "JWT",
    "ExpiredTokenError",
    "InvalidTokenError",
    "PasswordHasher",
    "Signer",
    "check_password",
    "check_password_async",
    "check_password_hash",
    "create_jwt_token",
    "create_password_hash",
    "create_signed_value",
    "decode_signed_value",
    "hash_password",
    "hash_password_async",
    "needs_rehash",
    "validate_jwt_token",
]
