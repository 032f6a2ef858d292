"""Document databases (MongoDB, or PostgreSQL ``jsonb``) for dyne.

::

    from dyne.ext.nosql import NoSqlDatabase

    app.config["NOSQL_DATABASE"] = {"BACKEND": "postgres",
                                    "DATABASE_URI": "postgresql://postgres@localhost/app"}
    nosqldb = NoSqlDatabase(app)

    @app.route("/users", methods=["POST"])
    @nosqldb.managed_database
    async def create_user(req, resp, *, db, session=None):
        await db.insert_one("users", await req.media(), session=session)

See ``docs/nosql.md``.
"""

from .backends.base import (
    AsyncNoSqlBackendBase,
    DeleteResult,
    DuplicateKeyError,
    InsertManyResult,
    InsertOneResult,
    InvalidQuery,
    NoSqlError,
    UnsupportedOperator,
    UpdateResult,
)
from .extension import NoSqlDatabase

__all__ = [
    "AsyncNoSqlBackendBase",
    "DeleteResult",
    "DuplicateKeyError",
    "InsertManyResult",
    "InsertOneResult",
    "InvalidQuery",
    "NoSqlDatabase",
    "NoSqlError",
    "UnsupportedOperator",
    "UpdateResult",
]
