"""``app.background``: run work outside the request.

Sync functions run in a thread pool, async ones as tasks on the event loop.
The response does not wait for them; the application waits for pending tasks
(up to ``BACKGROUND_SHUTDOWN_TIMEOUT`` seconds, 30 by default) when it shuts
down. A task that raises is logged on the ``dyne.background`` logger.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .concurrency import is_async_callable

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

    TaskHandle = concurrent.futures.Future[Any] | asyncio.Future[Any]

__all__ = ["BackgroundQueue"]

F = TypeVar("F", bound=Callable[..., Any])


class BackgroundQueue:
    """Runs functions in the background.

    ``@app.background.task`` turns a function into one that, when called,
    schedules itself and returns at once (with a future);
    ``app.background.run(fn, *args, **kwargs)`` does the same for one call.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: set[TaskHandle] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            import concurrent.futures

            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix="dyne-background")
        return self._executor

    @property
    def pending(self) -> int:
        """How many tasks have not finished yet."""
        return len(self._pending)

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Remember the application's event loop, so async tasks scheduled from
        sync views (which run in worker threads) land on it."""
        import asyncio

        self._loop = loop or asyncio.get_running_loop()

    def task(self, func: F) -> F:
        """Decorator: calling the function schedules it in the background."""

        @functools.wraps(func)
        def schedule(*args: Any, **kwargs: Any) -> TaskHandle:
            return self.run(func, *args, **kwargs)

        return schedule  # type: ignore[return-value]

    def run(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> TaskHandle:
        """Schedule ``func(*args, **kwargs)`` and return its future."""
        import asyncio

        handle: TaskHandle
        if is_async_callable(func):
            coroutine = func(*args, **kwargs)
            try:
                loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                handle = loop.create_task(coroutine)
            elif self._loop is not None and self._loop.is_running():
                handle = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
            else:
                handle = self.executor.submit(asyncio.run, coroutine)
        else:
            import contextvars

            context = contextvars.copy_context()
            handle = self.executor.submit(context.run, func, *args, **kwargs)
        self._pending.add(handle)
        handle.add_done_callback(self._finished)
        return handle

    __call__ = run

    def run_after(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
                  ) -> TaskHandle:
        """Run ``(func, args, kwargs)`` calls one after another in one
        background task (what ``resp.background`` schedules once the response
        is sent). One that raises is logged; the next still runs."""
        return self.run(_run_in_order, list(calls))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no task is pending (tasks started by pending tasks
        included); ``True`` if that happened within ``timeout`` seconds. For
        synchronous code such as tests: ``app.client.get(...)`` returns as soon
        as the response is sent, before work scheduled after it has run."""
        import asyncio
        import time

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("background.wait() blocks; on the event loop use "
                               "`await app.background.drain()`")
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pending:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    def _finished(self, handle: Any) -> None:
        self._pending.discard(handle)
        if handle.cancelled():
            return
        error = handle.exception()
        if error is not None:
            import logging

            logging.getLogger("dyne.background").error("Background task failed", exc_info=error)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for pending tasks; ``True`` if all finished within ``timeout``."""
        import asyncio
        import concurrent.futures

        loop = asyncio.get_running_loop()
        waiting: list[asyncio.Future[Any]] = []
        for handle in list(self._pending):
            if isinstance(handle, concurrent.futures.Future):
                waiting.append(asyncio.wrap_future(handle))
            elif handle.get_loop() is loop:
                waiting.append(handle)
        if not waiting:
            return True
        _, not_done = await asyncio.wait(waiting, timeout=timeout)
        if not_done:
            import logging

            logging.getLogger("dyne.background").warning(
                "%d background task(s) still running at shutdown", len(not_done))
        return not not_done

    def shutdown(self, wait: bool = False) -> None:
        """Stop the thread pool (running tasks finish; queued ones still run
        unless ``cancel_futures``-style shutdown is done by the caller)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None


async def _run_in_order(calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]) -> None:
    from .concurrency import run_sync

    for func, args, kwargs in calls:
        try:
            if is_async_callable(func):
                await func(*args, **kwargs)
            else:
                await run_sync(func, *args, **kwargs)
        except Exception:
            import logging

            logging.getLogger("dyne.background").exception(
                "Task %s, run after the response, failed",
                getattr(func, "__qualname__", None) or repr(func))
