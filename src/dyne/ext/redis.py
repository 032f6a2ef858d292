"""Redis connections for dyne's shared stores (cache, rate limits, digest
nonces, server-side sessions, channels).

Every store takes either a ready ``redis.asyncio.Redis`` client or a URL, and
builds its client with :func:`redis_client`: short connect and read timeouts,
so that a Redis server that is down or stuck makes a request fail fast
(each store then does what its page documents) rather than hang.

``redis`` (redis-py, with its asyncio client) is imported on first use:
``pip install "dyne[redis]"``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_URL", "RedisBacked", "redis_client", "redis_errors"]

#: The URL used when none is given.
DEFAULT_URL = "redis://127.0.0.1:6379/0"
#: Seconds to connect, and to wait for each answer, unless told otherwise.
DEFAULT_TIMEOUT = 1.0


def _redis() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError('This feature needs redis-py: pip install "dyne[redis]"') from None
    return aioredis


def redis_client(url: str | None = None, *, password: str | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT, **options: Any) -> Any:
    """A ``redis.asyncio.Redis`` for ``url`` (``redis://``, ``rediss://`` or
    ``unix://``), with ``timeout`` seconds to connect and to get each answer.
    Connections are made on first use, not here."""
    aioredis = _redis()
    if password is not None:
        options["password"] = password
    options.setdefault("socket_timeout", timeout)
    options.setdefault("socket_connect_timeout", timeout)
    return aioredis.Redis.from_url(url or DEFAULT_URL, **options)


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis is unavailable": connection refused or
    reset, timeouts, and redis-py's own errors for them."""
    import asyncio

    from redis import exceptions

    return (exceptions.ConnectionError, exceptions.TimeoutError, exceptions.BusyLoadingError,
            ConnectionError, asyncio.TimeoutError, TimeoutError, OSError)


class RedisBacked:
    """The connection part of every Redis store: the client is made from
    ``url`` with :func:`redis_client` unless a ready ``client`` is given, and
    :meth:`close_client` closes it only when it was made here."""

    def __init__(self, url: str | None = None, *, client: Any = None, key_prefix: str = "",
                 timeout: float = DEFAULT_TIMEOUT, password: str | None = None,
                 client_timeout: float | None = None) -> None:
        # client_timeout: the socket timeouts of a client made here, when the store
        # enforces ``timeout`` itself and the client's only need to be a backstop.
        self.client = client if client is not None else redis_client(
            url, password=password, timeout=timeout if client_timeout is None else client_timeout)
        self._owns_client = client is None
        self.key_prefix = key_prefix
        self.timeout = timeout

    async def close_client(self) -> None:
        if self._owns_client:
            await self.client.aclose()
