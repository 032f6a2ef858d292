"""``CRUDMixin``: Active Record-style helpers on models.

All helpers use the *active* session (see ``scope.current_session``): the
request's after ``await req.db`` or inside ``@db.transaction``, or the one of
an enclosing ``async with db.session()`` block. They flush, so database
errors (a duplicate, a missing required value) surface at the call, but they
never commit: that is the job of ``session.commit()``, ``@db.transaction`` or
``ALCHEMICAL_AUTOCOMMIT``.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from .fields import FieldError, Invalid, coerce_value, model_fields
from .scope import current_session

__all__ = ["CRUDMixin"]


def _dialect(session: Any, model: type) -> str:
    return str(session.sync_session.get_bind(mapper=sa_inspect(model)).dialect.name)


def _checked_values(model: type, values: dict[str, Any], session: Any, *,
                    ignore_unknown: bool) -> dict[str, Any]:
    """``values`` converted for the model's columns; ``FieldError`` listing every problem."""
    fields = model_fields(model)
    dialect = _dialect(session, model)
    checked: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in fields:
            if not ignore_unknown:
                errors[name] = ["Unknown field."]
            continue
        column = fields[name]
        if column is None:
            checked[name] = value
            continue
        try:
            checked[name] = coerce_value(column, value, dialect)
        except Invalid as exc:
            errors[name] = [str(exc)]
    if errors:
        raise FieldError(model, errors)
    return checked


class CRUDMixin:
    """Create, read, update and delete helpers for a model::

        class User(CRUDMixin, Model):
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(64))

        user = await User.create(name="Dyne")
        await user.patch(name="Dyne 2")
        same = await User.get(user.id)
        await user.destroy()

    Without an active session every helper raises
    ``RuntimeError("No active database session. Did you await req.db?")``.
    Values are checked against the columns first (see ``fields``): unknown
    names and values of the wrong type raise ``FieldError``, which a request
    answers with 400.
    """

    # -- instances ------------------------------------------------------------------

    async def save(self) -> Self:
        """Add this instance to the session and flush it (it gets its id).
        Returns the instance."""
        session = current_session()
        session.add(self)
        await session.flush()
        return self

    async def patch(self, **values: Any) -> Self:
        """Set the given attributes and flush. Names that are not attributes of
        the model are ignored; values of the wrong type raise ``FieldError``.
        Returns the instance."""
        session = current_session()
        for name, value in _checked_values(type(self), values, session, ignore_unknown=True).items():
            setattr(self, name, value)
        session.add(self)
        await session.flush()
        return self

    #: The name the "without ``@db.transaction``" example of Dyne's documentation uses.
    modify = patch

    async def destroy(self) -> None:
        """Delete this instance and flush."""
        session = current_session()
        await session.delete(self)
        await session.flush()

    # -- classes ----------------------------------------------------------------------

    @classmethod
    async def create(cls, **values: Any) -> Self:
        """Create, save (flush) and return a new instance. Unknown names and
        values of the wrong type raise ``FieldError``."""
        session = current_session()
        instance = cls(**_checked_values(cls, values, session, ignore_unknown=False))
        return await instance.save()

    @classmethod
    async def all(cls) -> list[Self]:
        """Every row, ordered by primary key."""
        session = current_session()
        statement = select(cls).order_by(*sa_inspect(cls).primary_key)
        return list((await session.scalars(statement)).all())

    @classmethod
    async def find(cls, **criteria: Any) -> Self | None:
        """The first row (by primary key) whose attributes equal ``criteria``,
        or ``None``. A value that cannot be stored in its column (``"abc"`` for
        an integer id) matches nothing; an unknown name raises ``FieldError``."""
        session = current_session()
        fields = model_fields(cls)
        mapped = sa_inspect(cls).attrs
        unknown = [name for name in criteria if name not in fields or name not in mapped]
        if unknown:
            raise FieldError(cls, {name: ["Unknown field."] for name in unknown})
        dialect = _dialect(session, cls)
        where: dict[str, Any] = {}
        for name, value in criteria.items():
            column = fields[name]
            if column is not None:
                try:
                    value = coerce_value(column, value, dialect)
                except Invalid:
                    return None
            where[name] = value
        statement = select(cls).filter_by(**where).order_by(*sa_inspect(cls).primary_key).limit(1)
        return (await session.scalars(statement)).first()

    @classmethod
    async def get(cls, id: Any) -> Self | None:
        """The row with primary key ``id``, or ``None`` (also when ``id`` cannot
        be a key of this model, like ``"abc"`` for an integer key). Composite
        keys take a tuple or a dict."""
        session = current_session()
        primary_key = sa_inspect(cls).primary_key
        if len(primary_key) == 1 and not isinstance(id, (tuple, dict)):
            try:
                id = coerce_value(primary_key[0], id, _dialect(session, cls))
            except Invalid:
                return None
            if id is None:
                return None
        return await session.get(cls, id)
