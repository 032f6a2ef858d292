"""The session class behind ``db.Session``: routes statements to the engine
of their model's bind, and enforces read-only sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransactionOrigin
from sqlalchemy.sql.util import find_tables

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncSession

    from .extension import Alchemical

__all__ = ["AUTOCOMMIT_READS", "READ_ONLY", "READ_ONLY_SESSION", "ReadOnlyError", "RoutingSession",
           "is_read_only", "mark_read_only"]

#: ``session.info`` key: how many read-only scopes currently cover the session.
READ_ONLY = "dyne.read_only"
#: ``session.info`` key: the session is read-only for its whole life.
READ_ONLY_SESSION = "dyne.read_only_session"
#: ``session.info`` key: statements of implicitly begun transactions run on
#: autocommit connections (PostgreSQL), set by ``@db.read_only`` for a request.
AUTOCOMMIT_READS = "dyne.autocommit_reads"


class ReadOnlyError(RuntimeError):
    """A write was attempted through a read-only session."""


class RoutingSession(Session):
    """A ``Session`` whose statements go to the engine of their model's bind.

    The bind is looked up from the model's metadata when the statement runs
    (not from a table list made at start-up), so models defined after the
    engines were created are routed correctly too.
    """

    #: Set on the per-database subclass made by ``Alchemical.Session``.
    _dyne_db: Alchemical

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> Engine | Connection:
        if bind is not None:
            return bind  # type: ignore[no-any-return]
        info = self.info
        if info and clause is not None and info.get(READ_ONLY) and getattr(clause, "is_dml", False):
            # An ORM insert/update/delete statement (flushes are refused by
            # the before_flush hook); raw SQL is not parsed.
            raise ReadOnlyError(WRITE_REFUSED.format(what="an INSERT/UPDATE/DELETE statement"))
        db = self._dyne_db
        if mapper is not None:
            engine = db._mapper_engines.get(mapper)
            if engine is None:
                metadata = getattr(inspect(mapper).class_, "metadata", None)
                engine = db._mapper_engines[mapper] = db.engine_for_metadata(metadata).sync_engine
        else:
            metadata = None
            if clause is not None:
                for table in find_tables(clause, include_crud=True):
                    metadata = getattr(table, "metadata", None)
                    break
            engine = db.engine_for_metadata(metadata).sync_engine
        if info:
            if info.get(AUTOCOMMIT_READS) and not begun_explicitly(self):
                return db.autocommit_engine(engine)
            if info.get(READ_ONLY_SESSION):
                return db.read_only_engine(engine)
        return engine


def begun_explicitly(session: Session) -> bool:
    """Whether user code opened the current transaction with ``session.begin()``
    (as opposed to SQLAlchemy beginning it by itself on first use)."""
    transaction = session.get_transaction()
    return transaction is not None and transaction.origin is SessionTransactionOrigin.BEGIN


def mark_read_only(session: AsyncSession | Session, read_only: bool = True, *,
                   whole_life: bool = False) -> None:
    """Count one read-only scope more (or, with ``False``, one fewer) on
    ``session``. ``whole_life`` marks a session that will never write: on
    PostgreSQL its transactions are then begun ``READ ONLY`` as well."""
    target = getattr(session, "sync_session", session)
    info = target.info
    if whole_life:
        info[READ_ONLY_SESSION] = True
    depth = info.get(READ_ONLY, 0) + (1 if read_only else -1)
    if depth > 0:
        info[READ_ONLY] = depth
    else:
        info.pop(READ_ONLY, None)


def is_read_only(session: AsyncSession | Session) -> bool:
    target = getattr(session, "sync_session", session)
    return bool(target.info.get(READ_ONLY))


WRITE_REFUSED = ("This session is read-only (@db.read_only / db.session(read_only=True)): "
                 "{what} refused. Use @db.transaction or a regular session to write.")


@event.listens_for(RoutingSession, "before_flush")
def _refuse_flushing_changes(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get(READ_ONLY) and (
            session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty)):
        raise ReadOnlyError(WRITE_REFUSED.format(what="flushing changes"))
