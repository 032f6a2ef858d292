"""``@db.managed_session`` and ``@db.readonly_session``: PyJolt's session
decorators, which inject the session as a keyword argument.

::

    @app.route("/users", methods=["POST"])
    @db.managed_session
    async def create_user(req, resp, *, session):
        session.add(User(name=(await req.media())["name"]))

* ``managed_session``: a session of the call's own; committed when the
  function returns, rolled back when it raises, always closed.
* ``readonly_session``: a session of the call's own that refuses writes
  (``ReadOnlyError`` on flushing changes; on PostgreSQL its transactions are
  ``READ ONLY``, so raw SQL cannot write either); never committed, closed.

Either is the *active* session during the call, so ``CRUDMixin`` helpers and
``Model.query()`` without a session use it, and ``@db.transaction`` helpers
called without a request join its transaction. A caller may pass the keyword
itself (``helper(req, session=session)``): that session is used as it is,
neither committed nor closed (a read-only decorator makes it refuse writes
for the call). A plain ``def`` function gets a synchronous ``Session`` and is
run through SQLAlchemy's greenlet bridge (``AsyncSession.run_sync``) on the
event loop; the decorated function is then a coroutine function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from dyne.concurrency import is_async_callable

from .session import mark_read_only
from .transaction import _run_in_transaction

if TYPE_CHECKING:
    from .extension import Alchemical

__all__ = ["managed_session_wrapper", "session_decorator"]


def session_decorator(db: Alchemical, func: Callable[..., Any] | None, *, read_only: bool,
                      session_name: str) -> Any:
    """``@db.managed_session`` / ``@db.readonly_session``, with or without
    arguments: the wrapped function, or the decorator."""
    label = "@db.readonly_session" if read_only else "@db.managed_session"
    if not isinstance(session_name, str) or not session_name.isidentifier():
        raise ValueError(f"{label}: session_name must be a parameter name, got {session_name!r}")
    if func is None:
        return functools.partial(managed_session_wrapper, db, read_only=read_only,
                                 session_name=session_name)
    return managed_session_wrapper(db, func, read_only=read_only, session_name=session_name)


def managed_session_wrapper(db: Alchemical, func: Callable[..., Any], *, read_only: bool,
                            session_name: str) -> Callable[..., Awaitable[Any]]:
    """``func`` wrapped to receive a managed (or read-only) session as the
    keyword argument ``session_name``."""
    label = "@db.readonly_session" if read_only else "@db.managed_session"
    signature = _check_signature(func, session_name, label)
    is_async = is_async_callable(func)

    async def call_with_given(session: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if read_only:
            mark_read_only(session, True)
        try:
            if is_async:
                return await func(*args, **kwargs)
            if isinstance(session, AsyncSession):
                return await session.run_sync(lambda sync: func(*args, **{**kwargs, session_name: sync}))
            return func(*args, **kwargs)
        finally:
            if read_only:
                mark_read_only(session, False)

    async def call(session: AsyncSession, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if is_async:
            return await func(*args, **{**kwargs, session_name: session})

        def run(sync_session: Any) -> Any:
            return func(*args, **{**kwargs, session_name: sync_session})

        return await session.run_sync(run)

    @functools.wraps(func)
    async def with_managed_session(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.get(session_name)
        if given is not None:
            return await call_with_given(given, args, kwargs)
        async with db.session(read_only=read_only) as session:
            if read_only:
                return await call(session, args, kwargs)
            # Commit on return, roll back on error; nested @db.transaction joins.
            return await _run_in_transaction(session, call, (session, args, kwargs), {})

    # Callers (dyne's signature checks, OpenAPI, controllers) see the function
    # without the injected parameter.
    with_managed_session.__signature__ = signature  # type: ignore[attr-defined]
    return with_managed_session


def _check_signature(func: Callable[..., Any], name: str, label: str) -> inspect.Signature | None:
    """``func``'s signature without the ``name`` parameter; ``TypeError`` when
    ``func`` cannot receive it as a keyword argument."""
    if not callable(func):
        raise TypeError(f"{label} decorates a function or method, got {func!r}")
    qualname = getattr(func, "__qualname__", repr(func))
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    kinds = inspect.Parameter
    target = signature.parameters.get(name)
    if target is None:
        if any(p.kind is kinds.VAR_KEYWORD for p in parameters):
            return signature
        raise TypeError(f"{label}: {qualname} has no parameter {name!r} to receive the session; "
                        f"add it, e.g. `async def view(req, resp, *, {name})`")
    if target.kind in (kinds.POSITIONAL_ONLY, kinds.VAR_POSITIONAL):
        raise TypeError(f"{label}: the parameter {name!r} of {qualname} must accept a keyword "
                        "argument (the session is passed by name)")
    return signature.replace(parameters=[p for p in parameters if p.name != name])
