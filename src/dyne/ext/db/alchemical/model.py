"""The declarative base for models: ``from dyne.ext.db.alchemical import Model``.

``Model`` exists before any application or database instance does, so models
can be defined at module level, before or after ``Alchemical(app)``. It is
Alchemical's base (``select()``, ``update()``, ``delete()`` class methods,
table names derived from class names, ``__bind_key__``) with dyne's own
registry and metadata:

* every model of the default database shares ``Model.metadata``; a model with
  ``__bind_key__ = "name"`` goes to the metadata of that bind
  (``Model.__metadatas__["name"]``), created on first use;
* constraints are named with SQLAlchemy's recommended naming convention from
  the start, so migrations (and SQLite's batch mode) see stable names.

Which engine a bind key maps to is decided by the ``Alchemical`` instance
(``ALCHEMICAL_BINDS``) when a session runs a statement, so models may be
defined at any time, even after the application has started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, overload

from alchemical.core import DEFAULT_NAMING_CONVENTION, BaseModel
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .query import make_query

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from .query import AsyncQuery, Query

__all__ = ["NAMING_CONVENTION", "Model"]

#: Constraint names (``pk_user``, ``uq_user_email``...): Alchemical's default.
NAMING_CONVENTION: dict[str, str] = dict(DEFAULT_NAMING_CONVENTION)

_default_metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Model(BaseModel, DeclarativeBase):  # type: ignore[misc]
    """Base class of database models.

    ::

        class User(Model):
            id: Mapped[int] = mapped_column(primary_key=True)
            username: Mapped[str] = mapped_column(String(64), unique=True)

        statement = User.select().where(User.username == "dyne")
    """

    __abstract__ = True
    metadata = _default_metadata
    #: Metadata per bind key; ``None`` is the default database.
    __metadatas__: ClassVar[dict[str | None, MetaData]] = {None: _default_metadata}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        bind_key = getattr(cls, "__bind_key__", None)
        if bind_key is not None and bind_key not in cls.__metadatas__:
            cls.__metadatas__[bind_key] = MetaData(naming_convention=NAMING_CONVENTION)
        super().__init_subclass__(**kwargs)

    @overload
    @classmethod
    def query(cls, session: Session) -> Query[Self]: ...

    @overload
    @classmethod
    def query(cls, session: AsyncSession | None = None) -> AsyncQuery[Self]: ...

    @classmethod
    def query(cls, session: Any = None) -> Any:
        """A chainable query on this model, run on ``session`` (PyJolt's
        ``User.query(session).filter_by(id=1).first()``): see
        ``dyne.ext.db.alchemical.query``. Without a session it runs on the
        active one (the request's after ``await req.db``, a managed
        session's, a ``db.session()`` block's) when awaited."""
        return make_query(cls, session)

    def __repr__(self) -> str:
        from sqlalchemy import inspect

        state: Any = inspect(self)
        identity = state.identity
        key = identity[0] if identity and len(identity) == 1 else identity
        return f"<{type(self).__name__} {key if key is not None else '(transient)'}>"
