"""JSON Web Tokens with PyJWT (``pip install "dyne[auth]"``).

    from dyne.ext.auth.helpers import JWT

    tokens = JWT(app.config.SECRET_KEY, expires_in=3600)
    token = tokens.encode({"sub": "42"})
    tokens.decode(token)      # {"sub": "42", "iat": ..., "exp": ...}; raises InvalidTokenError
    tokens.validate(token)    # the same, or None when invalid or expired

Tokens always expire: ``exp`` is set on encoding and required on decoding.
The algorithm is fixed by the ``JWT`` object, never taken from the token
(so ``alg: none`` and algorithm-confusion tricks are refused).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._optional import require

__all__ = [
    "JWT",
    "ExpiredTokenError",
    "InvalidTokenError",
    "create_jwt_token",
    "validate_jwt_token",
]


class InvalidTokenError(Exception):
    """The token is malformed, wrongly signed, expired or has wrong claims."""


class ExpiredTokenError(InvalidTokenError):
    """The token's ``exp`` has passed."""


def _pyjwt() -> Any:
    return require("jwt", "PyJWT", "JSON Web Tokens")


class JWT:
    """Creates and checks JWTs with one key and one algorithm.

    :param secret: the HMAC secret (HS256/384/512), or the private key for
        RS*/ES*/EdDSA (these need ``cryptography``).
    :param public_key: the key that checks signatures, for asymmetric
        algorithms (defaults to ``secret``).
    :param expires_in: default lifetime of new tokens, in seconds.
    :param issuer: set as ``iss`` and required on decoding, when given.
    :param audience: set as ``aud`` and required on decoding, when given.
    :param leeway: seconds of clock difference tolerated on ``exp``/``iat``.
    :param fallbacks: older keys (newest first) whose tokens still verify, for
        key rotation: new tokens are signed with ``secret`` (verified with
        ``public_key``), old ones are tried against each fallback in turn.
    """

    def __init__(self, secret: Any, *, algorithm: str = "HS256", public_key: Any = None,
                 expires_in: int = 3600, issuer: str | None = None, audience: str | None = None,
                 leeway: float = 0, fallbacks: Sequence[Any] = ()) -> None:
        jwt = _pyjwt()
        if not secret:
            raise ValueError("JWT needs a secret (or a private key)")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise ValueError("JWT needs a signing algorithm such as 'HS256' ('none' is refused)")
        if algorithm not in jwt.algorithms.get_default_algorithms():
            raise ValueError(f"Unknown or unavailable JWT algorithm {algorithm!r}")
        if expires_in <= 0:
            raise ValueError("expires_in must be a positive number of seconds")
        self._jwt = jwt
        self.secret = secret
        self.public_key = secret if public_key is None else public_key
        self.algorithm = algorithm
        self.expires_in = expires_in
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        if isinstance(fallbacks, (str, bytes)):
            raise TypeError("fallbacks= takes a list of keys")
        self.fallbacks = list(fallbacks)

    def encode(self, payload: Mapping[str, Any], expires_in: int | None = None) -> str:
        """A signed token with ``payload``'s claims, plus ``iat`` and ``exp``
        (``expires_in`` seconds from now), and ``iss``/``aud`` when configured."""
        lifetime = self.expires_in if expires_in is None else expires_in
        if lifetime <= 0:
            raise ValueError("expires_in must be a positive number of seconds")
        now = int(time.time())
        claims = dict(payload)
        claims.setdefault("iat", now)
        claims["exp"] = now + int(lifetime)
        if self.issuer is not None:
            claims.setdefault("iss", self.issuer)
        if self.audience is not None:
            claims.setdefault("aud", self.audience)
        return str(self._jwt.encode(claims, self.secret, algorithm=self.algorithm))

    def decode(self, token: str | bytes) -> dict[str, Any]:
        """The claims of a valid token; raises ``ExpiredTokenError`` or
        ``InvalidTokenError`` otherwise."""
        jwt = self._jwt
        required: list[str] = ["exp"]
        if self.issuer is not None:
            required.append("iss")
        if self.audience is not None:
            required.append("aud")
        try:
            for number, key in enumerate((self.public_key, *self.fallbacks)):
                try:
                    claims = jwt.decode(token, key, algorithms=[self.algorithm],
                                        audience=self.audience, issuer=self.issuer,
                                        leeway=self.leeway, options={"require": required})
                    break
                except jwt.InvalidSignatureError:
                    if number == len(self.fallbacks):  # no key left to try
                        raise
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredTokenError("The token has expired") from exc
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise InvalidTokenError(f"Invalid token: {exc}") from exc
        return dict(claims)

    def validate(self, token: str | bytes) -> dict[str, Any] | None:
        """The claims of a valid token, or ``None``."""
        try:
            return self.decode(token)
        except InvalidTokenError:
            return None


def create_jwt_token(payload: Mapping[str, Any], secret: Any, expires_in: int = 3600,
                     algorithm: str = "HS256") -> str:
    """A token with ``payload`` expiring in ``expires_in`` seconds."""
    return JWT(secret, algorithm=algorithm, expires_in=expires_in).encode(payload)


def validate_jwt_token(token: str | bytes, secret: Any,
                       algorithms: Sequence[str] = ("HS256",)) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token signed with ``secret`` using one
    of ``algorithms``, or ``None``."""
    for algorithm in algorithms:
        claims = JWT(secret, algorithm=algorithm).validate(token)
        if claims is not None:
            return claims
    return None
