"""The application event bus: ``app.emit(name, ...)`` and ``@app.listener(name)``.

A listener is a function, sync or async, called with what ``emit`` was given::

    @app.listener("user.created")
    async def send_welcome(user):
        ...

    app.emit("user.created", user)

When to run:

* ``emit`` inside an HTTP request (the view, a hook, code they call) defers
  the listeners until the response has been sent, its last body byte
  included; they then run on ``app.background``, whatever the status.
* ``emit`` anywhere else (a websocket, a background task, start-up, a
  script) schedules them at once on ``app.background`` and returns the task.

Ordering and failures: the listeners of one event run one after another,
in the order they were registered (async ones awaited on the event loop,
sync ones in the thread pool); events emitted during one request run in the
order they were emitted. A listener that raises is logged on the
``dyne.events`` logger with the event name and its traceback, and the next
listener still runs. The app waits for pending listeners at shutdown, like
other background tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from .concurrency import is_async_callable, run_sync

if TYPE_CHECKING:
    from .background import BackgroundQueue, TaskHandle
    from .types import Receive, Scope, Send

__all__ = ["EventBus"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("dyne.events")


class _Deferred:
    """The events emitted during one request, run once its response is sent."""

    __slots__ = ("events", "flushed")

    def __init__(self) -> None:
        #: (bus, event, args, kwargs): another app's ``emit`` during this request runs its own listeners.
        self.events: list[tuple[EventBus, str, tuple[Any, ...], dict[str, Any]]] = []
        self.flushed = False


#: The current request's deferred events (set only while the app has listeners).
_current: ContextVar[_Deferred | None] = ContextVar("dyne_deferred_events", default=None)


class EventBus:
    """Named events and their listeners (``app.events``)."""

    def __init__(self, background: BackgroundQueue) -> None:
        self.background = background
        #: event name -> listeners, in registration order.
        self.listeners: dict[str, list[Callable[..., Any]]] = {}

    def listener(self, event: str) -> Callable[[F], F]:
        """Decorator: call the function when ``event`` is emitted."""
        _check_name(event)

        def register(func: F) -> F:
            self.add_listener(event, func)
            return func

        return register

    def add_listener(self, event: str, func: Callable[..., Any]) -> None:
        """Register ``func`` (sync or async) for ``event``."""
        _check_name(event)
        if not callable(func):
            raise TypeError(f"A listener must be callable, got {func!r}")
        self.listeners.setdefault(event, []).append(func)

    def remove_listener(self, event: str, func: Callable[..., Any]) -> None:
        """Forget ``func`` for ``event`` (a ``ValueError`` if it was not registered)."""
        funcs = self.listeners.get(event, [])
        funcs.remove(func)
        if not funcs:
            self.listeners.pop(event, None)

    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> TaskHandle | None:
        """Call ``event``'s listeners with ``*args, **kwargs``: after the
        response when called during a request (returns ``None``), otherwise at
        once in the background (returns the task; ``None`` when the event has
        no listeners)."""
        _check_name(event)
        if event not in self.listeners:
            return None
        deferred = _current.get()
        if deferred is not None and not deferred.flushed:
            deferred.events.append((self, event, args, kwargs))
            return None
        return self.background.run(self._run_listeners, event, args, kwargs)

    async def _run_listeners(self, event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for func in list(self.listeners.get(event, ())):
            try:
                if is_async_callable(func):
                    await func(*args, **kwargs)
                else:
                    await run_sync(func, *args, **kwargs)
            except Exception:
                logger.exception("Listener %s for event %r failed", _name(func), event)

    @staticmethod
    async def _run_deferred(events: list[tuple[EventBus, str, tuple[Any, ...], dict[str, Any]]]
                            ) -> None:
        for bus, event, args, kwargs in events:
            await bus._run_listeners(event, args, kwargs)

    async def handle_http(self, handle: Callable[[Scope, Receive, Send], Any], scope: Scope,
                          receive: Receive, send: Send) -> None:
        """Run one HTTP request with ``emit`` deferred until it has been answered."""
        deferred = _Deferred()
        token = _current.set(deferred)
        try:
            await handle(scope, receive, send)
        finally:
            _current.reset(token)
            deferred.flushed = True  # later emits (from tasks that copied the context) run at once
            if deferred.events:
                self.background.run(self._run_deferred, deferred.events)


def _check_name(event: Any) -> None:
    if not isinstance(event, str) or not event:
        raise TypeError(f"Event names are non-empty strings, got {event!r}")


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
