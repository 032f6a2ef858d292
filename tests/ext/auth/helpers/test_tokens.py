"""JSON Web Tokens."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from dyne.ext.auth.helpers import (
    JWT,
    ExpiredTokenError,
    InvalidTokenError,
    create_jwt_token,
    validate_jwt_token,
)

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def test_encode_and_decode_with_expiry():
    tokens = JWT(SECRET, expires_in=60)
    claims = tokens.decode(tokens.encode({"sub": "42", "role": "admin"}))
    assert claims["sub"] == "42" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 60
    assert tokens.decode(tokens.encode({"sub": "1"}, expires_in=5))["exp"] - time.time() <= 5


def test_expired_tokens_are_refused(monkeypatch):
    tokens = JWT(SECRET, expires_in=1)
    real_time = time.time
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: real_time() - 5)  # issued 5 s ago, for 1 s
        token = tokens.encode({"sub": "42"})
    with pytest.raises(ExpiredTokenError):
        tokens.decode(token)
    assert tokens.validate(token) is None
    assert JWT(SECRET, leeway=10).validate(token) is not None


def test_tampered_and_foreign_tokens_are_refused():
    tokens = JWT(SECRET)
    token = tokens.encode({"sub": "42"})
    header, _payload, signature = token.split(".")
    forged_payload = pyjwt.utils.base64url_encode(b'{"sub":"1","exp":9999999999}').decode()
    for bad in (f"{header}.{forged_payload}.{signature}", token[:-2], "not.a.token", "",
                JWT("another-secret-that-is-long-enough-too!").encode({"sub": "42"})):
        with pytest.raises(InvalidTokenError):
            tokens.decode(bad)


def test_alg_none_and_algorithm_confusion_are_refused():
    unsigned = pyjwt.encode({"sub": "42", "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(InvalidTokenError):
        JWT(SECRET).decode(unsigned)
    hs512 = JWT(SECRET * 2, algorithm="HS512").encode({"sub": "42"})
    assert JWT(SECRET * 2).validate(hs512) is None  # the algorithm is ours, not the token's
    with pytest.raises(ValueError, match=r"'none' is refused"):
        JWT(SECRET, algorithm="none")
    with pytest.raises(ValueError, match="Unknown or unavailable JWT algorithm 'HS999'"):
        JWT(SECRET, algorithm="HS999")


def test_tokens_without_expiry_are_refused():
    forever = pyjwt.encode({"sub": "42"}, SECRET, algorithm="HS256")
    assert JWT(SECRET).validate(forever) is None


def test_issuer_and_audience():
    issuer = JWT(SECRET, issuer="dyne", audience="api")
    token = issuer.encode({"sub": "1"})
    assert issuer.decode(token)["aud"] == "api"
    assert JWT(SECRET, issuer="other", audience="api").validate(token) is None
    assert JWT(SECRET, issuer="dyne", audience="web").validate(token) is None
    assert issuer.validate(JWT(SECRET).encode({"sub": "1"})) is None  # claims required


def test_options_are_checked():
    with pytest.raises(ValueError, match=r"JWT needs a secret \(or a private key\)"):
        JWT("")
    with pytest.raises(ValueError, match="expires_in must be a positive number of seconds"):
        JWT(SECRET, expires_in=0)
    with pytest.raises(ValueError, match="expires_in must be a positive number of seconds"):
        JWT(SECRET).encode({}, expires_in=-1)


def test_pyjolt_style_functions():
    token = create_jwt_token({"sub": "7"}, SECRET, expires_in=30)
    assert validate_jwt_token(token, SECRET)["sub"] == "7"
    assert validate_jwt_token(token, "wrong-secret-that-is-long-enough-as-well") is None
    assert validate_jwt_token("garbage", SECRET) is None
