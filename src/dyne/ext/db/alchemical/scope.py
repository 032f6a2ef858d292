"""Which session is "the" session right now.

A ``SessionScope`` owns at most one ``AsyncSession``, created on first use
and finished once: committed when asked (autocommit), always closed. A
request's scope lives in its ASGI scope (``scope["dyne.db"]``) so that every
``await req.db`` of that request reuses it, and the teardown hook finishes it.

The *active* scope is kept in a context variable: ``await req.db``,
``@db.transaction``, ``db.session()`` and ``db.begin()`` activate theirs, and
``CRUDMixin`` methods use whichever is active in the current context. Context
variables follow the ``await`` chain and are copied into tasks created from
it, so no thread-locals or globals are involved.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .extension import Alchemical

__all__ = ["NO_SESSION_MESSAGE", "SCOPE_KEY", "SessionScope", "current_session"]

#: Where a request's ``SessionScope`` is kept in its ASGI scope.
SCOPE_KEY = "dyne.db"

NO_SESSION_MESSAGE = "No active database session. Did you await req.db?"

FINISHED_MESSAGE = (
    "This request has finished and its database session is closed. Work that outlives the "
    "request (a background task) needs a session of its own: `async with db.session() as "
    "session:` or `async with db.begin() as session:`."
)

_active: ContextVar[SessionScope | None] = ContextVar("dyne.db.active_session", default=None)


class SessionScope:
    """One lazily created session and its end."""

    __slots__ = ("_token", "autocommit", "db", "finished", "read_only", "session")

    def __init__(self, db: Alchemical, *, autocommit: bool = False, read_only: bool = False) -> None:
        self.db = db
        self.autocommit = autocommit
        self.read_only = read_only
        self.session: AsyncSession | None = None
        self.finished = False
        self._token: Any = None

    def open(self) -> AsyncSession:
        """The session (created on first call), made the active one."""
        if self.finished:
            raise RuntimeError(FINISHED_MESSAGE)
        session = self.session
        if session is None:
            session = self.session = self.db.Session()
            if self.read_only:
                from .session import mark_read_only

                mark_read_only(session, whole_life=True)
        if _active.get() is not self:
            token = _active.set(self)
            if self._token is None:
                self._token = token
        return session

    async def finish(self, error: BaseException | None) -> None:
        """End the scope: commit (autocommit, no error), then close. Closing
        rolls back whatever was not committed and returns the connection to
        the pool. Idempotent."""
        if self.finished:
            return
        self.finished = True
        if _active.get() is self:
            try:
                _active.reset(self._token)  # back to what was active before
            except ValueError:  # activated in another context: just clear it here
                _active.set(None)
        session = self.session
        if session is None:
            return
        try:
            if error is None and self.autocommit and session.in_transaction():
                await session.commit()
        finally:
            if session.sync_session.in_transaction():
                # Shielded: a cancelled request must still give its connection back.
                await asyncio.shield(session.close())
            else:
                # No transaction, so no connection: what close() would do
                # without the round trip through a task and a greenlet.
                session.sync_session.expunge_all()

    def __repr__(self) -> str:
        state = "finished" if self.finished else "open" if self.session is not None else "lazy"
        return f"<SessionScope {state} autocommit={self.autocommit}>"


def active_scope() -> SessionScope | None:
    """The active scope, if it still has a usable session."""
    scope = _active.get()
    if scope is None or scope.finished or scope.session is None:
        return None
    return scope


def current_session() -> AsyncSession:
    """The session that ``CRUDMixin`` uses here: the request's (after
    ``await req.db`` or inside ``@db.transaction``), or the one of an enclosing
    ``async with db.session()`` / ``db.begin()`` block.

    Raises ``RuntimeError("No active database session. Did you await req.db?")``
    when there is none.
    """
    scope = active_scope()
    if scope is None:
        raise RuntimeError(NO_SESSION_MESSAGE)
    assert scope.session is not None
    return scope.session


def activate(scope: SessionScope) -> Any:
    """Make ``scope`` active; returns the token for ``deactivate``."""
    return _active.set(scope)


def deactivate(token: Any) -> None:
    try:
        _active.reset(token)
    except ValueError:  # set in another context (a task): nothing to undo here
        pass
