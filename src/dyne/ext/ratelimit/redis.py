"""``RedisStore``: rate-limit counts on Redis, shared by every worker and host.

The whole GCRA decision runs in one Lua script on the server, with the
server's clock (``TIME``), so that concurrent requests on any number of
processes cannot over-admit and hosts with skewed clocks agree.

When Redis is down or does not answer within ``timeout``, the store fails
**open** by default (the request is let through, a warning is logged, and no
``X-RateLimit-*`` headers are sent): a rate limiter protects the service, and
refusing every request because its counter is unreachable would turn a Redis
outage into a full outage. ``fail_open=False`` fails **closed** instead (``503
Service Unavailable``), for limits that guard against abuse such as password
guessing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...exceptions import HTTPException
from ..redis import RedisBacked
from .store import RateLimitResult, RateLimitStore, gcra

__all__ = ["RedisStore"]

logger = logging.getLogger("dyne.ratelimit")

# KEYS[1]: the key. ARGV: limit, period, cost. Returns {allowed, now, old tat or ""}.
_GCRA = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stored = redis.call('GET', KEYS[1])
local tat = tonumber(stored)
local current = now
if tat and tat > now then current = tat end
local new_tat = current + (period / limit) * cost
if now < new_tat - period - 1e-9 then
  return {0, string.format('%.6f', now), stored or ''}
end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
           math.max(1, math.ceil((new_tat - now) * 1000)))
return {1, string.format('%.6f', now), stored or ''}
"""


class RedisStore(RateLimitStore, RedisBacked):
    """Counts on Redis under ``key_prefix``.

    :param url: the server (``redis://127.0.0.1:6379/0`` by default), or
    :param client: a ready ``redis.asyncio.Redis`` (not closed by this store).
    :param timeout: seconds a decision may take before Redis counts as down.
    :param fail_open: let requests through when Redis is down (default), or
        answer ``503`` (``False``).
    """

    def __init__(self, url: str | None = None, *, client: Any = None,
                 key_prefix: str = "dyne:ratelimit:", timeout: float = 0.5,
                 fail_open: bool = True, password: str | None = None) -> None:
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password)
        self.fail_open = fail_open
        self._script = self.client.register_script(_GCRA)

    async def hit(self, key: str, limit: int, period: float, cost: int = 1) -> RateLimitResult:
        from ..redis import redis_errors

        try:
            async with asyncio.timeout(self.timeout):
                allowed, now, stored = await self._script(
                    keys=[self.key_prefix + key], args=[limit, repr(float(period)), cost])
        except redis_errors() as exc:
            if self.fail_open:
                logger.warning("Rate-limit store unavailable (%s: %s): request let through",
                               type(exc).__name__, exc or "timed out")
                return RateLimitResult(True, limit, limit, 0.0, 0.0, degraded=True)
            logger.warning("Rate-limit store unavailable (%s: %s): request refused",
                           type(exc).__name__, exc or "timed out")
            raise HTTPException(503, "Service Unavailable", headers={"Retry-After": "1"}) from None
        tat = float(stored) if stored else None
        _, result = gcra(tat, float(now), limit, period, cost)
        if result.allowed != bool(allowed):  # pragma: no cover - float rounding at the edge
            result = RateLimitResult(bool(allowed), limit, result.remaining, result.reset_after,
                                     result.retry_after if not allowed else 0.0)
        return result

    async def reset(self, key: str | None = None) -> None:
        if key is not None:
            await self.client.delete(self.key_prefix + key)
            return
        batch = [k async for k in self.client.scan_iter(match=self.key_prefix + "*", count=500)]
        for start in range(0, len(batch), 500):
            await self.client.unlink(*batch[start:start + 500])

    async def close(self) -> None:
        await self.close_client()
