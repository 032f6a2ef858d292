"""Per-route options of the core: ``after_request=``, ``max_body_size=`` and
``timeout=``::

    @app.route("/upload", methods=["POST"], max_body_size=50 * 1024 * 1024,
               timeout=30, after_request=[add_audit_header])
    async def upload(req, resp): ...

* ``after_request`` (also ``after``): a hook ``hook(req, resp)``, sync or
  async, or a list of them, run after this route's view returned (not when it
  raised: errors go to the error handlers), before the app's own after-request
  hooks. The counterpart of ``before_request=``.
* ``max_body_size``: the largest request body this route accepts, in bytes
  (``None``: no limit), instead of the app's ``max_body_size``; beyond it, 413
  (up front when ``Content-Length`` says so, otherwise while reading).
* ``timeout``: seconds the route's handler (hooks, input checks and view) may
  take; past it the request is cancelled and answered ``504 Gateway Timeout``.
  A sync view runs in a worker thread, which cannot be interrupted: the client
  gets its 504 on time and the thread's result is discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .routing import Route

__all__ = ["BODY_LIMIT_KEY", "after_request_option", "max_body_size_option", "timeout_option",
           "with_timeout"]

#: Where a route's ``max_body_size`` is kept in the ASGI scope for ``req``.
BODY_LIMIT_KEY = "dyne.max_body_size"


def after_request_option(route: Route, value: Callable[..., Any] | Iterable[Callable[..., Any]]
                         ) -> None:
    """``after_request=hook`` (or a list): hooks run after the route's view."""
    from .concurrency import is_async_callable, run_sync
    from .endpoints import PHASE_DEFAULT

    hooks = [value] if callable(value) else list(value)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"after_request= takes callables, got {hook!r}")

    def as_step(hook: Callable[..., Any]) -> Callable[..., Any]:
        if is_async_callable(hook):
            async def run_async(req: Any, resp: Any) -> None:
                await hook(req, resp)

            return run_async

        async def run_in_thread(req: Any, resp: Any) -> None:
            await run_sync(hook, req, resp)

        return run_in_thread

    for hook in hooks:
        # After @output has serialized (PHASE_DEFAULT), so hooks see the body.
        route.spec.add_after(as_step(hook), PHASE_DEFAULT + 1000)


def max_body_size_option(route: Route, value: int | None) -> None:
    """``max_body_size=n``: this route's request body limit, in bytes."""
    from .endpoints import PHASE_BEFORE
    from .exceptions import HTTPException

    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"max_body_size is a number of bytes or None, got {value!r}")
    limit = value
    route.spec.meta["max_body_size"] = limit

    async def set_limit(req: Any, resp: Any, kwargs: dict[str, Any]) -> None:
        req.scope[BODY_LIMIT_KEY] = limit
        if limit is not None:
            length = req.raw_header(b"content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise HTTPException(413, f"Request body larger than the {limit}-byte limit")

    route.spec.add_step(set_limit, PHASE_BEFORE - 200)


def timeout_option(route: Route, value: float | None) -> None:
    """``timeout=seconds``: answer 504 when the route takes longer."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or value <= 0):
        raise ValueError(f"timeout is a positive number of seconds, got {value!r}")
    route.spec.meta["timeout"] = value


def with_timeout(handler: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """``handler`` cancelled after ``seconds``, raising ``HTTPException(504)``.

    The handler runs as a task that is cancelled, not awaited, on timeout, so
    the 504 goes out on time even when a sync view holds a worker thread."""
    import asyncio

    from .exceptions import HTTPException

    async def timed(req: Any, resp: Any, params: dict[str, Any]) -> Any:
        task = asyncio.ensure_future(handler(req, resp, params))
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            task.add_done_callback(_consume)
            resp.clear()
            raise HTTPException(504, f"The request took longer than {seconds:g} s")
        return task.result()

    return timed


def _consume(task: Any) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
