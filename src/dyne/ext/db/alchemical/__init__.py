"""SQLAlchemy 2 (async) for dyne, through Alchemical.

::

    from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model

    db = Alchemical(app)            # ALCHEMICAL_DATABASE_URL from app.config

    class Book(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(200))

    @app.route("/books", methods=["POST"])
    @db.transaction
    async def create(req, resp):
        book = await Book.create(**await req.media())
        resp.media = {"id": book.id}

Needs ``pip install "dyne[sqlalchemy]"``. See ``docs/database.md``.
"""

try:
    import alchemical  # noqa: F401
    import sqlalchemy  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    if exc.name and exc.name.split(".")[0] in {"alchemical", "sqlalchemy"}:
        raise ImportError('dyne.ext.db.alchemical needs SQLAlchemy and Alchemical: '
                          'pip install "dyne[sqlalchemy]"') from exc
    raise

from .crud import CRUDMixin
from .extension import Alchemical
from .fields import FieldError
from .middleware import AlchemicalMiddleware
from .model import Model
from .pagination import Pagination
from .query import AsyncQuery, Query
from .scope import current_session
from .session import ReadOnlyError

__all__ = [
    "Alchemical",
    "AlchemicalMiddleware",
    "AsyncQuery",
    "CRUDMixin",
    "FieldError",
    "Model",
    "Pagination",
    "Query",
    "ReadOnlyError",
    "current_session",
]
