"""``RedisNonceStore``: digest-auth replay protection shared by every worker
and host, on Redis.

Each accepted nonce use is recorded with ``SET NX`` and an expiry: the first
worker to see it records it, any later use anywhere is a replay. When Redis is
down or does not answer within ``timeout``, authentication cannot be checked
for replays, so it fails closed: ``503 Service Unavailable``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from ....exceptions import HTTPException
from ...redis import RedisBacked

__all__ = ["RedisNonceStore"]

logger = logging.getLogger("dyne.auth")


class RedisNonceStore(RedisBacked):
    """A ``NonceStore`` on Redis (give it to ``DigestAuth(nonce_store=...)``).

    :param url: the server (``redis://127.0.0.1:6379/0`` by default), or
    :param client: a ready ``redis.asyncio.Redis`` (not closed by this store).
    :param key_prefix: the namespace of the recorded nonce uses.
    :param timeout: seconds before Redis counts as down.
    """

    def __init__(self, url: str | None = None, *, client: Any = None,
                 key_prefix: str = "dyne:nonce:", timeout: float = 1.0,
                 password: str | None = None) -> None:
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password)

    async def remember(self, key: str, ttl: float) -> bool:
        from ...redis import redis_errors

        # Client-chosen parts (cnonce) make keys long: store a fixed-size digest.
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        try:
            async with asyncio.timeout(self.timeout):
                stored = await self.client.set(self.key_prefix + digest, b"1", nx=True,
                                               px=max(1, int(ttl * 1000)))
        except redis_errors() as exc:
            logger.warning("Digest nonce store unavailable (%s: %s): request refused",
                           type(exc).__name__, exc or "timed out")
            raise HTTPException(503, "Service Unavailable", headers={"Retry-After": "1"}) from None
        return bool(stored)

    async def close(self) -> None:
        await self.close_client()
