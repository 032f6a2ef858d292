"""Password hashing with argon2 (argon2-cffi; ``pip install "dyne[auth]"``).

    from dyne.ext.auth.helpers import hash_password, check_password

    stored = hash_password("correct horse")       # "$argon2id$v=19$m=65536,t=3,p=4$..."
    check_password("correct horse", stored)        # True

Hashing is deliberately slow (tens of milliseconds) and uses memory; in an
``async`` view, prefer ``await hash_password_async(...)`` and
``await check_password_async(...)``, which run in the thread pool.
"""

from __future__ import annotations

from typing import Any

from dyne.concurrency import run_sync

from .._optional import require

__all__ = [
    "PasswordHasher",
    "check_password",
    "check_password_async",
    "check_password_hash",
    "create_password_hash",
    "hash_password",
    "hash_password_async",
    "needs_rehash",
]


def _argon2() -> Any:
    return require("argon2", "argon2-cffi", "Password hashing")


class PasswordHasher:
    """Hashes and checks passwords with argon2id. The cost parameters default
    to argon2-cffi's (RFC 9106's low-memory profile); raising them later is
    safe: ``needs_rehash`` tells which stored hashes to upgrade at next login.
    """

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None,
                 parallelism: int | None = None) -> None:
        argon2 = _argon2()
        options = {name: value for name, value in (("time_cost", time_cost),
                                                    ("memory_cost", memory_cost),
                                                    ("parallelism", parallelism)) if value is not None}
        self._hasher = argon2.PasswordHasher(**options)
        self._errors = (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError)
        self._dummy: str | None = None

    def hash(self, password: str | bytes) -> str:
        """A salted argon2id hash of ``password``, to store."""
        if not isinstance(password, (str, bytes)):
            raise TypeError(f"password must be str or bytes, got {type(password).__name__}")
        return str(self._hasher.hash(password))

    def verify(self, password: str | bytes, hashed: str | None) -> bool:
        """Whether ``password`` matches the stored ``hashed``. With ``hashed=None``
        (an unknown user) a dummy hash is checked, so the answer (``False``)
        takes as long as for a known user: timing does not reveal who exists."""
        if hashed is None:
            if self._dummy is None:
                self._dummy = self.hash("dyne: no such user")
            hashed, password = self._dummy, "dyne: not the dummy password"
        if not isinstance(password, (str, bytes)):
            return False
        try:
            return bool(self._hasher.verify(hashed, password))
        except self._errors:
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with other (older) parameters."""
        try:
            return bool(self._hasher.check_needs_rehash(hashed))
        except self._errors:
            return True

    async def hash_async(self, password: str | bytes) -> str:
        return await run_sync(self.hash, password)

    async def verify_async(self, password: str | bytes, hashed: str | None) -> bool:
        return await run_sync(self.verify, password, hashed)


_default: PasswordHasher | None = None


def _hasher() -> PasswordHasher:
    global _default
    if _default is None:
        _default = PasswordHasher()
    return _default


def hash_password(password: str | bytes) -> str:
    """A salted argon2id hash of ``password``."""
    return _hasher().hash(password)


def check_password(password: str | bytes, hashed: str | None) -> bool:
    """Whether ``password`` matches ``hashed`` (``None``: an unknown user, checked
    against a dummy hash in the same time, and ``False``)."""
    return _hasher().verify(password, hashed)


def needs_rehash(hashed: str) -> bool:
    """Whether a stored hash should be recomputed with the current parameters."""
    return _hasher().needs_rehash(hashed)


async def hash_password_async(password: str | bytes) -> str:
    """``hash_password`` in the thread pool, for ``async`` code."""
    return await _hasher().hash_async(password)


async def check_password_async(password: str | bytes, hashed: str | None) -> bool:
    """``check_password`` in the thread pool, for ``async`` code."""
    return await _hasher().verify_async(password, hashed)


#: PyJolt's names for the same functions.
create_password_hash = hash_password
check_password_hash = check_password
