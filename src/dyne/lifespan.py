"""Start-up and shutdown: the ``lifespan=`` context, ``on_event`` handlers,
background-task draining, and the ASGI lifespan protocol."""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import App


async def run_handlers(handlers: list[Callable[[], Any]]) -> None:
    """Call event handlers in order, awaiting the async ones."""
    for handler in handlers:
        result = handler()
        if inspect.isawaitable(result):
            await result


def _logging_wanted(app: App) -> bool:
    config = app.config
    return "DEFAULT_LOGGER" in config or "LOGGERS" in config


@contextlib.asynccontextmanager
async def lifespan_context(app: App) -> AsyncIterator[None]:
    """The app's whole life: enter ``lifespan=`` first, then run startup events;
    on exit, drain background tasks, run shutdown events, leave ``lifespan=``."""
    app.background.bind_loop()
    async with contextlib.AsyncExitStack() as stack:
        # Logging starts first and stops last, so that start-up and shutdown
        # handlers log into the configured sinks.
        if app._logging is not None or _logging_wanted(app):
            app.logging.start(restart=True)
            stack.push_async_callback(app.logging.astop)
        factory = app.lifespan
        if factory is not None:
            context = factory(app)
            if inspect.isasyncgen(context):
                generator = context
                context = contextlib.asynccontextmanager(lambda: generator)()
            state = await stack.enter_async_context(context)
            if isinstance(state, Mapping):
                for key, value in state.items():
                    setattr(app.state, key, value)
        await run_handlers(app.startup_handlers)
        yield
        timeout = app.config.get("BACKGROUND_SHUTDOWN_TIMEOUT", default=30.0, cast=float)
        await app.background.drain(timeout=timeout)
        await run_handlers(app.shutdown_handlers)


async def serve_lifespan(app: App, receive: Callable[[], Any],
                         send: Callable[[dict[str, Any]], Any]) -> None:
    """Speak the ASGI lifespan protocol for ``app``."""
    started = False
    await receive()  # lifespan.startup
    try:
        async with lifespan_context(app):
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()  # lifespan.shutdown
    except BaseException:
        kind = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
        await send({"type": kind, "message": traceback.format_exc()})
        raise
    await send({"type": "lifespan.shutdown.complete"})
