"""Database errors caused by a request's data, answered with 4xx.

``Alchemical(app)`` registers these error handlers (unless
``map_errors=False``); each answers through ``HTTPException``, so the app's
own status handlers (``@app.error_handler(409)``) and problem details apply:

* ``sqlalchemy.exc.IntegrityError`` (a duplicate unique value, a missing
  required value, a reference to a missing row) -> 409 Conflict;
* ``sqlalchemy.exc.DataError`` (a value of the wrong type, out of range, too
  long for its column) -> 400 Bad Request;
* ``FieldError`` (``CRUDMixin`` given unknown fields or unfit values) -> 400
  with ``{"errors": {field: [messages]}}``.

Drivers do not all raise ``DataError`` for bad data: asyncpg reports it as a
generic error with an SQLSTATE of class 22 ("data exception"). An engine
event turns those into ``DataError``, so applications can catch one class
whatever the driver.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from dyne.exceptions import HTTPException

from .fields import FieldError

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["add_error_handlers", "data_errors_as_data_error"]

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


def add_error_handlers(app: App) -> None:
    app.add_error_handler(IntegrityError, _answer_integrity_error)
    app.add_error_handler(DataError, _answer_data_error)
    app.add_error_handler(FieldError, _answer_field_error)


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
