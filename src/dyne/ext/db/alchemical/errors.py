"""Database errors caused by a request's data, answered with 4xx.

``Alchemical(app)`` registers these error handlers (unless
``map_errors=False``); each answers through ``HTTPException``, so the app's
own status handlers (``@app.error_handler(409)``) and problem details apply:

* ``sqlalchemy.exc.IntegrityError`` (a duplicate unique value, a missing
  required value, a reference to a missing row) -> 409 Conflict;
* ``sqlalchemy.exc.DataError`` (a value of the wrong type, out of range, too
  long for its column) -> 400 Bad Request;
* ``FieldError`` (``CRUDMixin`` given unknown fields or unfit values) -> 400
  with ``{"errors": {field: [messages]}}``;
* ``sqlalchemy.exc.NoResultFound`` (``Model.query(session)...one()``,
  ``scalar_one()``, ``session.get_one()`` found no row) -> 404 Not Found:
  the row the request names does not exist;
* a lost or unreachable database (the connection was closed or reset, the
  server refused it, is shutting down or has too many clients, the pool
  timed out, SQLite is locked) -> 503 with ``Retry-After``, so clients and
  load balancers retry instead of reporting a server bug. Other database
  errors stay 500s.

Drivers do not all raise ``DataError`` for bad data: asyncpg reports it as a
generic error with an SQLSTATE of class 22 ("data exception"). An engine
event turns those into ``DataError``, so applications can catch one class
whatever the driver.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError, NoResultFound
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from dyne.exceptions import HTTPException

from .fields import FieldError

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["add_error_handlers", "data_errors_as_data_error", "database_unavailable"]

#: SQLSTATEs meaning "the database is not there right now": connection
#: exceptions (class 08), shutdowns and "cannot connect now" (57P01-57P03),
#: too many connections (53300).
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
#: MySQL/MariaDB client errors with the same meaning: cannot connect, server
#: gone away, connection lost, too many connections, shutdown in progress.
UNAVAILABLE_MYSQL_CODES = frozenset({1040, 1053, 2002, 2003, 2006, 2013})
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg", "aiosqlite", "aiomysql", "pymysql", "psycopg",
                   "dyne.ext.db.")

logger = logging.getLogger("dyne.db")


def data_errors_as_data_error(context: ExceptionContext) -> BaseException | None:
    """``handle_error`` engine event: a driver error whose SQLSTATE is of
    class 22 (data exception) is raised as ``sqlalchemy.exc.DataError``."""
    error = context.sqlalchemy_exception
    original = context.original_exception
    if isinstance(error, (DataError, IntegrityError)) or not isinstance(error, DBAPIError):
        return None
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(state, str) and state.startswith("22"):
        return DataError(context.statement, context.parameters, original,  # type: ignore[arg-type]
                         hide_parameters=error.hide_parameters)
    return None


def _raised_by_a_driver(exc: BaseException) -> bool:
    """Whether ``exc`` came out of the database layer (one of its frames is
    SQLAlchemy's or a driver's): a refused connection is raised as a bare
    ``OSError`` by some drivers."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is lost or unreachable (worth a 503
    and a retry), rather than a problem with the statement or the data."""
    if isinstance(exc, (PoolTimeoutError, DisconnectionError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        seen: set[int] = set()
        error: BaseException | None = exc.orig
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
            if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
                return True
            args = getattr(error, "args", ())
            if args and isinstance(args[0], int) and args[0] in UNAVAILABLE_MYSQL_CODES:
                return True
            if isinstance(error, OSError) or "database is locked" in str(error):
                return True
            if type(error).__name__ in ("ConnectionDoesNotExistError", "ConnectionFailureError",
                                         "InterfaceError") and "closed" in str(error).lower():
                return True
            error = error.__cause__ or error.__context__
        return False
    return isinstance(exc, OSError) and _raised_by_a_driver(exc)


def add_error_handlers(app: App, retry_after: int = 5) -> None:
    app.add_error_handler(IntegrityError, _answer_integrity_error)
    app.add_error_handler(DataError, _answer_data_error)
    app.add_error_handler(FieldError, _answer_field_error)
    app.add_error_handler(NoResultFound, _answer_no_result)

    async def answer_unavailable(req: Request, resp: Response, exc: Any) -> None:
        if database_unavailable(exc):
            logger.warning("%s %s: database unavailable, answered 503: %s: %s", req.method,
                           req.path, type(exc).__name__, getattr(exc, "orig", None) or exc)
            raise HTTPException(503, _with_debug_detail(req, (
                "Service Unavailable: the database cannot be reached; retry later."), exc),
                headers={"Retry-After": str(retry_after)})
        # Not a lost database: what the app does with any unhandled error.
        if req.app is not None and req.app.debug:
            raise exc
        logger.error("Unhandled error in %s %s", req.method, req.path, exc_info=exc)
        raise HTTPException(500, "500 Internal Server Error")

    for error_class in (DBAPIError, PoolTimeoutError, DisconnectionError, OSError):
        if error_class not in app.errors.exception_handlers:
            app.add_error_handler(error_class, answer_unavailable)


def _with_debug_detail(req: Request, detail: str, exc: BaseException) -> str:
    if req.app is not None and req.app.debug:
        return f"{detail} [{getattr(exc, 'orig', exc)}]"
    return detail


async def _answer_integrity_error(req: Request, resp: Response, exc: Any) -> None:
    logger.info("%s %s: database constraint violated, answered 409: %s", req.method, req.path,
                getattr(exc, "orig", exc))
    raise HTTPException(409, _with_debug_detail(req, (
        "Conflict: the data breaks a database constraint (a duplicate of a unique value, "
        "a missing required value, or a reference to a missing row)."), exc))


async def _answer_data_error(req: Request, resp: Response, exc: Any) -> None:
    logger.info("%s %s: invalid data for the database, answered 400: %s", req.method, req.path,
                getattr(exc, "orig", exc))
    raise HTTPException(400, _with_debug_detail(req, (
        "Bad Request: a value does not fit its database column (wrong type, out of range or "
        "too long)."), exc))


async def _answer_field_error(req: Request, resp: Response, exc: Any) -> None:
    raise HTTPException(400, {"errors": getattr(exc, "errors", {})})


async def _answer_no_result(req: Request, resp: Response, exc: Any) -> None:
    logger.info("%s %s: no row found, answered 404: %s", req.method, req.path, exc)
    raise HTTPException(404, _with_debug_detail(req, "Not Found", exc))
