"""``@db.transaction`` and ``@db.read_only``.

Both wrap an async function (a view, a class-based view's method, a plain
helper) with ``functools.wraps``, so endpoint metadata recorded by other
decorators (``__dyne_endpoint__``) is shared whatever the decorator order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from dyne.concurrency import is_async_callable
from dyne.request import Request

from .scope import SCOPE_KEY, active_scope
from .session import AUTOCOMMIT_READS, WRITE_REFUSED, ReadOnlyError, begun_explicitly, mark_read_only

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from .extension import Alchemical

__all__ = ["TRANSACTION_DEPTH", "decode_body_early", "read_only_wrapper", "transactional"]

logger = logging.getLogger("dyne.db")

#: ``session.info`` key: depth of ``@db.transaction`` calls running on the session.
TRANSACTION_DEPTH = "dyne.transaction_depth"


def transactional(db: Alchemical, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``func`` wrapped to run in a transaction (see ``Alchemical.transaction``)."""
    _require_async(func, "@db.transaction")

    @functools.wraps(func)
    async def run_in_transaction(*args: Any, **kwargs: Any) -> Any:
        req = _find_request(args, kwargs)
        if req is not None:
            if not _request_in_transaction(req):
                await decode_body_early(req)
            session = await db.request_session(req)
            return await _run_in_transaction(session, func, args, kwargs)
        scope = active_scope()
        if scope is not None and scope.db is db:
            assert scope.session is not None
            return await _run_in_transaction(scope.session, func, args, kwargs)
        async with db.session() as session:
            return await _run_in_transaction(session, func, args, kwargs)

    return run_in_transaction


def read_only_wrapper(db: Alchemical, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``func`` wrapped to run with a read-only session (see ``Alchemical.read_only``)."""
    _require_async(func, "@db.read_only")

    @functools.wraps(func)
    async def run_read_only(*args: Any, **kwargs: Any) -> Any:
        req = _find_request(args, kwargs)
        if req is not None:
            session = await db.request_session(req)
            if db.autocommit_reads and _may_autocommit(session.sync_session):
                return await _run_autocommit_reads(session, func, args, kwargs)
        else:
            scope = active_scope()
            if scope is None or scope.db is not db:
                async with db.session(read_only=True):
                    return await func(*args, **kwargs)
            assert scope.session is not None
            session = scope.session
        sync = session.sync_session
        clean = not _has_changes(sync)
        mark_read_only(session, True)
        try:
            result = await func(*args, **kwargs)
            if clean and _has_changes(sync):
                # Changed but never flushed: refused here rather than written
                # by a later flush or the request's autocommit.
                raise ReadOnlyError(WRITE_REFUSED.format(what="changing objects"))
            return result
        finally:
            mark_read_only(session, False)

    return run_read_only


def _has_changes(session: Session) -> bool:
    return bool(session.new or session.deleted or session.dirty)


def _may_autocommit(session: Session) -> bool:
    """Whether a read-only scope may run ``session``'s reads on autocommit
    connections: nothing begun, nothing pending, and objects that a commit
    leaves as they are (``expire_on_commit=False``, dyne's default)."""
    return not (session.in_transaction() or session.expire_on_commit or session.info.get(AUTOCOMMIT_READS)
                or _has_changes(session))


async def _run_autocommit_reads(session: AsyncSession, func: Callable[..., Awaitable[Any]],
                                args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func`` read-only, its statements on autocommit connections (no
    ``BEGIN``/``ROLLBACK`` round trips), then give the connection back with a
    commit that has nothing to write, so that the request's later work gets a
    transaction of its own and the loaded objects stay as they are."""
    sync = session.sync_session
    info = sync.info
    info[AUTOCOMMIT_READS] = True
    mark_read_only(session, True)
    try:
        try:
            result = await func(*args, **kwargs)
        except BaseException:
            info.pop(AUTOCOMMIT_READS, None)
            if sync.in_transaction():
                try:
                    await session.commit()
                except BaseException:
                    await _rollback(session)
            raise
        info.pop(AUTOCOMMIT_READS, None)
        if sync.in_transaction():
            try:
                await session.commit()  # refuses objects changed in the scope (ReadOnlyError)
            except BaseException:
                await _rollback(session)
                raise
        return result
    finally:
        info.pop(AUTOCOMMIT_READS, None)
        mark_read_only(session, False)


def _require_async(func: Any, name: str) -> None:
    if not is_async_callable(func):
        label = getattr(func, "__qualname__", repr(func))
        raise TypeError(f"{name} needs an async function (async def); {label} is not one")


def _find_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request | None:
    for value in args:
        if isinstance(value, Request):
            return value
    for value in kwargs.values():
        if isinstance(value, Request):
            return value
    return None


def _request_in_transaction(req: Request) -> bool:
    """Whether the request's session is already inside a ``@db.transaction``."""
    holder = req.scope.get(SCOPE_KEY)
    session = getattr(holder, "session", None)
    return session is not None and bool(session.sync_session.info.get(TRANSACTION_DEPTH))


async def decode_body_early(req: Request, route: Any = None, length: int | None = None) -> None:
    """Decode the body so that ``req.media()`` works without ``await`` in the
    function. Only structured bodies in a format the route (or the app)
    accepts, within that format's size limit: uploads (multipart) may be
    large and are for ``@input`` or the view; unknown or refused content
    types, and bodies too large for their format, are left to the view (which
    answers them with 415 or 413 if it reads them)."""
    from dyne.bodies import SCOPE_FORMATS_KEY, route_formats
    from dyne.formats import format_for_content_type

    if route is not None and route.spec.meta.get("media_formats") is not None:
        req.scope[SCOPE_FORMATS_KEY] = route.spec.meta["media_formats"]
    mimetype = req.mimetype
    if mimetype == "multipart/form-data":
        return
    fmt = format_for_content_type(mimetype) if mimetype else "json"
    if fmt is None:
        return
    formats = req.media_formats if route is None else route_formats(route, req.media_formats)
    if fmt not in formats:
        return
    max_size = req._media_limit(fmt).max_size
    if length is None:  # called by @db.transaction itself: the declared length
        declared = req.raw_header(b"content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
    if length is not None and max_size is not None and length > max_size:
        return
    try:
        await req.media()
    except RuntimeError:  # the view or a step consumed the body as a stream
        pass


async def _run_in_transaction(session: AsyncSession, func: Callable[..., Awaitable[Any]],
                              args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    info = session.sync_session.info
    depth = info.get(TRANSACTION_DEPTH, 0)
    if depth or begun_explicitly(session.sync_session):
        info[TRANSACTION_DEPTH] = depth + 1  # join the enclosing transaction
        try:
            return await func(*args, **kwargs)
        finally:
            info[TRANSACTION_DEPTH] = depth
    info[TRANSACTION_DEPTH] = 1
    try:
        try:
            result = await func(*args, **kwargs)
        except BaseException:
            await _rollback(session)
            raise
        try:
            await session.commit()
        except BaseException:
            await _rollback(session)
            raise
        return result
    finally:
        info.pop(TRANSACTION_DEPTH, None)


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # the original error matters more; close() will clean up
        logger.exception("Rollback failed")


