"""``RedisStore``: rate-limit counts on Redis, shared by every worker and host.

The whole GCRA decision runs in one Lua script on the server, with the
server's clock (``TIME``), so that concurrent requests on any number of
processes cannot over-admit and hosts with skewed clocks agree.

When Redis is down, or does not decide within ``timeout`` seconds (1 s by
default), the store applies its failure policy, and logs a warning either way:

* ``fail_open=False`` (the default) fails **closed**: ``503 Service
  Unavailable`` with ``Retry-After: 1``. A limit that silently stops limiting
  is the failure nobody notices, and it happens under load, when the limit
  matters; slowapi (``swallow_errors=False``) and Litestar (store errors
  propagate) do not let requests through either unless told to.
* ``fail_open=True`` fails **open**: the request is let through uncounted,
  without ``X-RateLimit-*`` headers, for limits that only share capacity
  fairly, where an outage of Redis must not become an outage of the app.

The timeout is measured on the event loop. When the loop was too busy to
notice the deadline on time (a CPU-bound view stalled it for more than half
a ``timeout`` past it), the stall was the app's, not Redis's: the decision is
given one more ``timeout`` (once) before the policy applies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...exceptions import HTTPException
from ..redis import DEFAULT_TIMEOUT, RedisBacked
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


async def _within(call: Any, timeout: float) -> Any:
    """The result of the coroutine ``call``, or ``TimeoutError`` after ``timeout``
    seconds.

    ``call`` runs in a task of its own, so that the answer comes on time even if
    the Redis client is slow to honour a cancellation. When the loop notices the
    deadline more than half a ``timeout`` late, it was busy (a stall of the app's,
    not a slow Redis): ``call`` gets one more ``timeout``, once. An answer that
    arrived by the deadline is still used."""
    loop = asyncio.get_running_loop()
    task = loop.create_task(call)
    waiter = loop.create_future()
    extended = False
    handle: asyncio.Handle

    def wake(_: Any = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    def expire(due: float) -> None:
        nonlocal extended, handle
        now = loop.time()
        if not extended and now - due > timeout / 2:
            extended = True
            handle = loop.call_at(now + timeout, expire, now + timeout)
        else:  # on the next turn: the task runs first if its answer has been read
            handle = loop.call_soon(wake)

    task.add_done_callback(wake)
    due = loop.time() + timeout
    handle = loop.call_at(due, expire, due)
    try:
        await waiter
    finally:
        handle.cancel()
        if not task.done():  # timed out, or this request was cancelled
            task.remove_done_callback(wake)
            task.cancel()
            task.add_done_callback(_discard)
    if not task.done():
        raise TimeoutError
    return task.result()


def _discard(task: asyncio.Task[Any]) -> None:
    """Retrieve the outcome of a decision nobody waits for any more."""
    if not task.cancelled():
        task.exception()


class RedisStore(RateLimitStore, RedisBacked):
    """Counts on Redis under ``key_prefix``.

    :param url: the server (``redis://127.0.0.1:6379/0`` by default), or
    :param client: a ready ``redis.asyncio.Redis`` (not closed by this store;
        give it socket timeouts longer than ``timeout``).
    :param timeout: seconds one decision may take (connecting included) before
        Redis counts as unavailable.
    :param fail_open: when Redis is unavailable, refuse with ``503`` (``False``,
        the default) or let the request through uncounted (``True``).
    """

    def __init__(self, url: str | None = None, *, client: Any = None,
                 key_prefix: str = "dyne:ratelimit:", timeout: float = DEFAULT_TIMEOUT,
                 fail_open: bool = False, password: str | None = None) -> None:
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        # The store enforces ``timeout`` itself (see _within); the client's socket
        # timeouts are a backstop that must not fire first during an event-loop stall.
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password, client_timeout=3 * timeout + DEFAULT_TIMEOUT)
        self.fail_open = fail_open
        self._script = self.client.register_script(_GCRA)

    async def hit(self, key: str, limit: int, period: float, cost: int = 1) -> RateLimitResult:
        from ..redis import redis_errors

        try:
            allowed, now, stored = await _within(self._script(
                keys=[self.key_prefix + key], args=[limit, repr(float(period)), cost]), self.timeout)
        except redis_errors() as exc:
            reason = f"{type(exc).__name__}: {str(exc) or f'no answer within {self.timeout:g} s'}"
            if self.fail_open:
                logger.warning("Rate-limit store unavailable (%s): request let through "
                               "uncounted (fail_open=True)", reason)
                return RateLimitResult(True, limit, limit, 0.0, 0.0, degraded=True)
            logger.warning("Rate-limit store unavailable (%s): request refused with 503 "
                           "(fail_open=False)", reason)
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
