"""Server-Sent Events extras: heartbeats and ``Last-Event-ID``.

``resp.sse(source, heartbeat=15)`` sends a comment line (``: ping``) whenever
the source has yielded nothing for 15 seconds, so proxies and load balancers
that close idle connections keep the stream open, and a dead client is
noticed at the next write.

``req.last_event_id`` is the ``Last-Event-ID`` header a reconnecting
``EventSource`` sends: the ``id`` of the last event it received. A stream
that gives each event an ``id`` can resume from there (see
``docs/requests-and-responses.md``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from .exceptions import HTTPException

if TYPE_CHECKING:
    from .request import Request

__all__ = ["MAX_LAST_EVENT_ID", "PING", "last_event_id", "with_heartbeat"]

#: The longest ``Last-Event-ID`` accepted, in bytes (400 beyond).
MAX_LAST_EVENT_ID = 1024


def _ping() -> Any:
    from .response import ServerSentEvent

    return ServerSentEvent(comment="ping")


#: What a heartbeat sends: the comment line ``: ping``.
PING = _ping()


def check_heartbeat(heartbeat: float | None) -> float | None:
    if heartbeat is None:
        return None
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, (int, float)) or not heartbeat > 0:
        raise ValueError(f"heartbeat must be a positive number of seconds, got {heartbeat!r}")
    return float(heartbeat)


async def with_heartbeat(source: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                         heartbeat: float) -> AsyncIterator[Any]:
    """The items of ``source`` (called with ``args``/``kwargs`` when callable),
    with ``PING`` in between whenever ``heartbeat`` seconds pass without one."""
    iterable = source(*args, **kwargs) if callable(source) else source
    iterator: AsyncIterator[Any]
    if isinstance(iterable, AsyncIterable):
        iterator = aiter(iterable)
    elif isinstance(iterable, Iterable):
        from .concurrency import iterate_in_threadpool

        iterator = iterate_in_threadpool(iter(iterable))
    else:
        raise TypeError(f"Cannot stream a {type(iterable).__name__}: give an async "
                        "generator function, an async iterable or an iterable")
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=heartbeat)
            if not done:
                yield PING
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                pending = None
                return
            pending = None
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})  # the generator must stop running before aclose()
            if not pending.cancelled():
                pending.exception()  # retrieved: closing anyway
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


def last_event_id(req: Request) -> str | None:
    """The ``Last-Event-ID`` header (UTF-8), or ``None`` when absent or empty;
    a 400 when it is longer than ``MAX_LAST_EVENT_ID`` bytes, not UTF-8, or
    holds a NUL or a line break (which no event id can contain)."""
    raw = req.raw_header(b"last-event-id")
    if not raw:
        return None
    if len(raw) > MAX_LAST_EVENT_ID:
        raise HTTPException(400, f"Last-Event-ID header longer than {MAX_LAST_EVENT_ID} bytes")
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "Last-Event-ID header is not valid UTF-8")
    if "\x00" in value or "\r" in value or "\n" in value:
        raise HTTPException(400, "Last-Event-ID header holds a control character")
    return value
