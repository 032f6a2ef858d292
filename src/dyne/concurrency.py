"""Running sync code without blocking the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["is_async_callable", "iterate_in_threadpool", "run_sync"]

T = TypeVar("T")


def is_async_callable(obj: Any) -> bool:
    """True for ``async def`` functions, partials of them, and objects whose
    ``__call__`` is ``async def``."""
    import inspect

    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(getattr(obj, "__call__", None))  # noqa: B004
    )


async def run_sync(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call a blocking function in the worker thread pool and await its result.

    Context variables are carried into the thread.
    """
    from anyio import to_thread

    if kwargs:
        func = functools.partial(func, **kwargs)
    return await to_thread.run_sync(func, *args)


async def iterate_in_threadpool(iterator: Iterator[T]) -> Any:
    """Turn a blocking iterator into an async one, one ``next()`` per thread hop."""
    from anyio import to_thread

    sentinel = object()

    def step() -> Any:
        return next(iterator, sentinel)

    while True:
        item = await to_thread.run_sync(step)
        if item is sentinel:
            break
        yield item
