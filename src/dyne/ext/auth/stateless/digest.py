"""The machinery behind ``DigestAuth``: hash algorithms, signed nonces and
replay protection.

Default nonces are stateless: a timestamp and 16 random bytes, signed with an
HMAC key derived from the app's secret key. Any worker sharing the secret can
check them, and they expire (``stale=true`` then tells the client to retry with
a fresh one, without asking the user again).

Replay protection needs memory: every accepted ``(nonce, cnonce, nc)`` is
recorded in a ``NonceStore`` until the nonce expires, and a second use is
refused. ``MemoryNonceStore`` keeps them in this process, which protects one
worker; with several workers, give every ``DigestAuth`` a store they share.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from collections import OrderedDict
from enum import Enum
from typing import Protocol, runtime_checkable

__all__ = [
    "ALGORITHMS",
    "MemoryNonceStore",
    "NonceSigner",
    "NonceState",
    "NonceStore",
    "digest_hasher",
]

#: Digest algorithm name -> hashlib name. ``-sess`` variants use the same hash.
ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def digest_hasher(algorithm: str) -> tuple[str, bool]:
    """``(hashlib name, is_session_variant)`` for a Digest ``algorithm`` such as
    ``"SHA-256-sess"``; ``ValueError`` for an unsupported one."""
    name = algorithm.upper()
    session = name.endswith("-SESS")
    base = name[:-5] if session else name
    hash_name = ALGORITHMS.get(base)
    if hash_name is None:
        known = ", ".join(f"{a}, {a}-sess" for a in ALGORITHMS)
        raise ValueError(f"Unsupported digest algorithm {algorithm!r} (use one of: {known})")
    try:
        hashlib.new(hash_name)
    except ValueError:
        raise ValueError(f"Digest algorithm {algorithm!r} needs {hash_name}, which this Python's "
                         "OpenSSL does not provide") from None
    return hash_name, session


class NonceState(Enum):
    VALID = "valid"
    STALE = "stale"  # ours, correctly signed, but expired
    INVALID = "invalid"


class NonceSigner:
    """Makes and checks default nonces: ``base64url(timestamp, random, HMAC)``."""

    _PAYLOAD = 8 + 16
    _MAC = 16
    #: Clocks of workers sharing a key may differ this much (seconds).
    CLOCK_SKEW = 5

    def __init__(self, key: bytes, max_age: float) -> None:
        self._key = hashlib.sha256(b"dyne.auth.digest.nonce\x00" + key).digest()
        self.max_age = max_age

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[: self._MAC]

    def make(self) -> str:
        payload = struct.pack(">Q", int(time.time())) + os.urandom(16)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode("ascii").rstrip("=")

    def check(self, nonce: str) -> NonceState:
        if len(nonce) != 54:  # 40 bytes of base64 without padding
            return NonceState.INVALID
        try:
            raw = base64.urlsafe_b64decode(nonce.encode("ascii") + b"==")
        except (UnicodeError, binascii.Error, ValueError):
            return NonceState.INVALID
        # Only the exact encoding we issued: the last character's unused bits
        # (or characters base64 skips) would give one nonce several spellings.
        if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != nonce:
            return NonceState.INVALID
        payload, mac = raw[: self._PAYLOAD], raw[self._PAYLOAD:]
        if len(mac) != self._MAC or not hmac.compare_digest(mac, self._mac(payload)):
            return NonceState.INVALID
        (issued,) = struct.unpack(">Q", payload[:8])
        age = time.time() - issued
        if age < -self.CLOCK_SKEW:
            return NonceState.INVALID
        return NonceState.VALID if age <= self.max_age else NonceState.STALE

    def opaque(self, nonce: str) -> str:
        """The default ``opaque``: bound to the nonce it was sent with."""
        return hmac.new(self._key, b"opaque\x00" + nonce.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@runtime_checkable
class NonceStore(Protocol):
    """Remembers which digest nonce uses were accepted, to refuse replays."""

    async def remember(self, key: str, ttl: float) -> bool:
        """Record ``key`` for ``ttl`` seconds. ``False`` when it is already
        recorded (a replay); ``True`` otherwise."""
        ...


class MemoryNonceStore:
    """A ``NonceStore`` in this process's memory, holding at most
    ``max_entries`` keys (the oldest are forgotten first when full).

    Only requests with correct credentials reach the store, so filling it takes
    a valid password. It protects one process: with several workers, share a
    store (such as one on Redis) between them.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._expiry: OrderedDict[str, float] = OrderedDict()

    async def remember(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        expiry = self._expiry
        # Entries are added with (nearly always) the same ttl, so insertion
        # order is expiry order: drop expired ones from the front.
        while expiry:
            oldest, expires = next(iter(expiry.items()))
            if expires > now:
                break
            del expiry[oldest]
        if key in expiry:
            return False
        expiry[key] = now + ttl
        while len(expiry) > self.max_entries:
            expiry.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._expiry)
