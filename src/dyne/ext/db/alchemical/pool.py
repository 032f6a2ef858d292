"""Pinging pooled connections that sat idle, not every one.

SQLAlchemy's ``pool_pre_ping`` tests every connection it hands out, which on
asyncpg is three round trips (``BEGIN``, ``;``, ``ROLLBACK``) before each
request's first statement: more than the request's own work for a one-row
read. A connection that was used a moment ago is almost certainly alive, so
``Alchemical`` pings only connections that have been idle in the pool for at
least ``ping_after_idle`` seconds (HikariCP's "alive bypass window" idea):
under load, connections come back within milliseconds and are never pinged;
after a quiet spell (when a restart, a failover or an idle timeout may have
dropped them) they are.

A failed ping invalidates every connection of the pool made before it (they
share the fate of the server) and the pool hands out a new connection: the
request does not fail. A connection that dies while in use, or within the
window, fails its statement: the pool is invalidated the same way, and dyne
answers that request with a 503 and ``Retry-After`` (see ``errors.py``).
"""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.exc import InvalidatePoolError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["IDLE_SINCE", "ping_after_idle"]

#: ``ConnectionRecord.info`` key: when the connection went back to the pool
#: (``time.monotonic()``). SQLAlchemy clears ``info`` when it reconnects, so a
#: new connection has none and is not pinged.
IDLE_SINCE = "dyne.idle_since"


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Make ``engine``'s pool ping a connection before handing it out when it
    has been idle for ``seconds`` or more."""
    dialect = engine.dialect

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(IDLE_SINCE)
        if since is None or monotonic() - since < seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection (and every older one) and
                # hands out a new one instead.
                raise InvalidatePoolError(f"ping after {monotonic() - since:.1f} s idle failed: "
                                          f"{error}") from error
            raise

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)
