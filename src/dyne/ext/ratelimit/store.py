"""Where rate-limit state lives.

A store answers one question atomically: "may ``key`` spend ``cost`` more
requests of its ``limit`` per ``period``, and what is left?" Keeping the whole
decision inside the store (rather than read-then-write by the caller) is what
makes a limit hold under concurrency, in one process or, with a shared store
such as Redis, across many.

The algorithm is GCRA (the generic cell rate algorithm, a token bucket that
stores one timestamp per key): each key may make ``limit`` requests at once,
and regains one every ``period / limit`` seconds.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MemoryStore", "RateLimitResult", "RateLimitStore", "gcra"]


@dataclass(frozen=True)
class RateLimitResult:
    """The outcome of one ``hit``."""

    #: Whether the request is within the limit.
    allowed: bool
    #: The limit (requests per period).
    limit: int
    #: Requests still allowed right now.
    remaining: int
    #: Seconds until the key is back to its full allowance.
    reset_after: float
    #: Seconds until the next request would be allowed (0 when allowed).
    retry_after: float
    #: The store could not decide (a shared store that is down, failing open):
    #: the request is allowed and no rate-limit headers are sent.
    degraded: bool = False


def gcra(tat: float | None, now: float, limit: int, period: float, cost: int = 1
         ) -> tuple[float | None, RateLimitResult]:
    """One GCRA step. ``tat`` is the key's stored "theoretical arrival time"
    (``None`` for a new key). Returns the new ``tat`` to store (``None``:
    leave it unchanged) and the result."""
    interval = period / limit
    current = now if tat is None or tat < now else tat
    new_tat = current + interval * cost
    allow_at = new_tat - period
    if now < allow_at - 1e-9:
        remaining = max(0, math.floor((period - (current - now)) / interval + 1e-9))
        return None, RateLimitResult(False, limit, remaining, current - now, allow_at - now)
    remaining = max(0, math.floor((period - (new_tat - now)) / interval + 1e-9))
    return new_tat, RateLimitResult(True, limit, remaining, new_tat - now, 0.0)


class RateLimitStore(ABC):
    """The storage interface of ``RateLimiter``. Implementations must make
    ``hit`` atomic for a key (a lock in memory, a script in Redis...)."""

    @abstractmethod
    async def hit(self, key: str, limit: int, period: float, cost: int = 1) -> RateLimitResult:
        """Spend ``cost`` requests of ``key``'s allowance, if it has them."""

    @abstractmethod
    async def reset(self, key: str | None = None) -> None:
        """Forget ``key`` (every key when ``None``)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called at application shutdown)."""


class MemoryStore(RateLimitStore):
    """Per-process store: a dict guarded by a lock, so it is exact under
    concurrent requests on the event loop and from worker threads alike.
    Each worker process has its own counts: use a shared store to limit
    across processes. Expired keys are swept as the store grows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sweep_at = 1024

    def hit_sync(self, key: str, limit: int, period: float, cost: int = 1) -> RateLimitResult:
        """``hit`` for synchronous callers."""
        with self._lock:
            now = self._clock()
            new_tat, result = gcra(self._tats.get(key), now, limit, period, cost)
            if new_tat is not None:
                self._tats[key] = new_tat
                if len(self._tats) >= self._sweep_at:
                    self._sweep(now)
            return result

    async def hit(self, key: str, limit: int, period: float, cost: int = 1) -> RateLimitResult:
        return self.hit_sync(key, limit, period, cost)

    def _sweep(self, now: float) -> None:
        """Drop keys back at their full allowance (their timestamp has passed)."""
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        self._sweep_at = max(1024, 2 * len(self._tats))

    async def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._tats.clear()
            else:
                self._tats.pop(key, None)

    def __len__(self) -> int:
        return len(self._tats)
