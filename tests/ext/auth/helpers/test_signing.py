"""Signed values."""

from __future__ import annotations

import itsdangerous.timed
import pytest

from dyne.ext.auth.helpers import Signer, create_signed_value, decode_signed_value


def test_sign_and_unsign():
    signer = Signer("secret", salt="email")
    token = signer.sign({"user": 42})
    assert signer.unsign(token) == {"user": 42}
    assert create_signed_value("x", "secret") != "x"
    assert decode_signed_value(create_signed_value([1, 2], "secret"), "secret") == [1, 2]


def test_tampered_foreign_and_old_values_are_refused(monkeypatch):
    signer = Signer("secret", salt="email")
    token = signer.sign({"user": 42})
    payload, _, signature = token.rpartition(".")
    # Change the signed text itself (the signature's last base64 character
    # may carry unused bits, so changing it can leave the bytes the same).
    assert signer.unsign(("B" if payload[0] == "A" else "A") + payload[1:] + "." + signature) is None
    assert signer.unsign("garbage") is None
    assert signer.unsign("") is None
    assert Signer("other-secret", salt="email").unsign(token) is None
    assert Signer("secret", salt="password-reset").unsign(token) is None  # salts separate purposes
    real_time = itsdangerous.timed.time.time
    fake = type("FakeTime", (), {"time": staticmethod(lambda: real_time() + 120)})
    monkeypatch.setattr(itsdangerous.timed, "time", fake)
    assert signer.unsign(token, max_age=60) is None
    assert signer.unsign(token, max_age=600) == {"user": 42}
    assert Signer("secret", salt="email", max_age=60).unsign(token) is None


def test_a_secret_is_required():
    with pytest.raises(ValueError, match="Signer needs a secret key"):
        Signer("")


def test_the_function_helpers_honour_salt_and_max_age(monkeypatch):
    token = create_signed_value({"user": 42}, "secret", salt="email")
    assert decode_signed_value(token, "secret", salt="email") == {"user": 42}
    assert decode_signed_value(token, "secret") is None  # the default salt is another purpose
    assert decode_signed_value(token, "secret", salt="password-reset") is None
    assert Signer("secret", salt="email").unsign(token) == {"user": 42}
    assert decode_signed_value(create_signed_value("x", "secret"), "secret", salt="email") is None
    real_time = itsdangerous.timed.time.time
    fake = type("FakeTime", (), {"time": staticmethod(lambda: real_time() + 120)})
    monkeypatch.setattr(itsdangerous.timed, "time", fake)
    assert decode_signed_value(token, "secret", salt="email", max_age=60) is None
    assert decode_signed_value(token, "secret", salt="email", max_age=600) == {"user": 42}
