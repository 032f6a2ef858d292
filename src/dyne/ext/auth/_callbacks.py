"""Callbacks given to the auth extension may be plain or ``async`` functions.

They are adapted once, when registered, into coroutine functions, so a request
pays for no inspection: an ``async`` callback is awaited directly and a plain
one runs in the thread pool (it may block on a database or a password hash).
A callback that raises ``AuthenticationError`` refuses, as if it returned ``None``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dyne.concurrency import is_async_callable, run_sync

AsyncCallback = Callable[..., Awaitable[Any]]


def as_async(callback: Callable[..., Any], what: str) -> AsyncCallback:
    """``callback`` as a coroutine function; ``what`` names it in errors."""
    from .stateless.exceptions import AuthenticationError

    if not callable(callback):
        raise TypeError(f"{what} must be a function, got {callback!r}")
    if is_async_callable(callback):
        async def guarded(*args: Any) -> Any:
            try:
                return await callback(*args)
            except AuthenticationError:  # refused credentials: as if it returned None
                return None

        guarded.__wrapped__ = callback  # type: ignore[attr-defined]
        return guarded

    async def in_thread(*args: Any) -> Any:
        try:
            return await run_sync(callback, *args)
        except AuthenticationError:
            return None

    in_thread.__wrapped__ = callback  # type: ignore[attr-defined]
    return in_thread
