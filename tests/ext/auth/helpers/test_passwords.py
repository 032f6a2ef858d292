"""Password hashing with argon2."""

from __future__ import annotations

import time

import pytest

from dyne.ext.auth.helpers import (
    PasswordHasher,
    check_password,
    check_password_async,
    check_password_hash,
    create_password_hash,
    hash_password,
    hash_password_async,
    needs_rehash,
)


def test_hash_and_check():
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert check_password("correct horse battery staple", hashed)
    assert not check_password("correct horse battery stapler", hashed)
    assert hash_password("same") != hash_password("same")  # salted


def test_pyjolt_names():
    hashed = create_password_hash("pw")
    assert check_password_hash("pw", hashed)
    assert not check_password_hash("wp", hashed)


@pytest.mark.parametrize("hashed", ["", "not-a-hash", "$argon2id$v=19$garbage", "$2b$12$abc"])
def test_malformed_hashes_never_match(hashed):
    assert check_password("pw", hashed) is False
    assert needs_rehash(hashed) is True


def test_non_string_passwords():
    with pytest.raises(TypeError, match="password must be str or bytes, got NoneType"):
        hash_password(None)
    assert check_password(None, hash_password("x")) is False
    assert check_password(b"bytes", hash_password(b"bytes"))


def test_unknown_users_cost_as_much_as_known_ones():
    hasher = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    stored = hasher.hash("pw")
    hasher.verify("warm-up", None)

    def duration(hashed):
        started = time.perf_counter()
        for _ in range(5):
            assert hasher.verify("guess", hashed) is False
        return time.perf_counter() - started

    known, unknown = duration(stored), duration(None)
    # The dummy check does the same argon2 work (a skipped check would be ~1000x faster).
    assert unknown > known / 10


def test_needs_rehash_after_raising_costs():
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    strong = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    hashed = weak.hash("pw")
    assert not weak.needs_rehash(hashed)
    assert strong.needs_rehash(hashed)
    assert strong.verify("pw", hashed)  # old hashes still check


async def test_async_variants():
    hashed = await hash_password_async("pw")
    assert await check_password_async("pw", hashed)
    assert not await check_password_async("nope", hashed)
