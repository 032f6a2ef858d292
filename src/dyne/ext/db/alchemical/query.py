"""``Model.query(session)``: a chainable query builder in PyJolt's idiom.

::

    users = await User.query(session).filter_by(active=True).order_by(User.name).all()
    page = await User.query(session).ilike("name", "a%").paginate(page=2, per_page=10)

Builder methods (``where``, ``filter``, ``filter_by``, ``join``, ``limit``,
``offset``, ``order_by``, ``like``, ``ilike``) return a new query and leave
the one they are called on unchanged, so a base query can be shared. The
results come from the awaitable ``count``, ``paginate``, ``all``, ``first``,
``one`` and ``one_or_none`` of ``AsyncQuery``. ``Query`` has the same methods,
synchronous, for the ``Session`` a plain ``def`` view gets from
``@db.managed_session`` / ``@db.readonly_session``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import InstrumentedAttribute, Session

from .pagination import Pagination, _positive
from .scope import current_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["AsyncQuery", "Query", "make_query"]

T = TypeVar("T")


class _QueryBuilder(Generic[T]):
    """The statement-building half shared by ``AsyncQuery`` and ``Query``."""

    __slots__ = ("_limit", "model", "session", "statement")

    def __init__(self, model: type[T], session: Any, statement: Select[Any] | None = None,
                 limit: int | None = None) -> None:
        #: The model class whose rows the query returns.
        self.model = model
        #: The session the query runs on (``None``: the active one, when run).
        self.session = session
        #: The SQLAlchemy ``select()`` built so far.
        self.statement: Select[Any] = select(model) if statement is None else statement
        self._limit = limit

    def _with(self, statement: Select[Any], limit: int | None = None) -> Self:
        return type(self)(self.model, self.session, statement,
                          self._limit if limit is None else limit)

    # -- building ---------------------------------------------------------------------------

    def where(self, *conditions: Any) -> Self:
        """Add WHERE conditions (``User.age >= 18``), joined with AND."""
        return self._with(self.statement.where(*conditions))

    def filter(self, *conditions: Any) -> Self:
        """Same as ``where``."""
        return self._with(self.statement.where(*conditions))

    def filter_by(self, **values: Any) -> Self:
        """Add equality conditions by column name: ``filter_by(email="a@b.c")``
        (on the last joined model after a ``join``, as in SQLAlchemy)."""
        return self._with(self.statement.filter_by(**values))

    def join(self, target: Any, onclause: Any = None, *, isouter: bool = False,
             full: bool = False) -> Self:
        """JOIN another model (the ON clause is inferred from a foreign key
        unless given); ``isouter=True`` for a LEFT OUTER JOIN."""
        return self._with(self.statement.join(target, onclause, isouter=isouter, full=full))

    def limit(self, num: int) -> Self:
        """Return at most ``num`` rows (an integer >= 0)."""
        num = _count_argument(num, "limit")
        return self._with(self.statement.limit(num), num)

    def offset(self, num: int) -> Self:
        """Skip the first ``num`` rows (an integer >= 0)."""
        return self._with(self.statement.offset(_count_argument(num, "offset")))

    def order_by(self, *columns: Any) -> Self:
        """Sort by columns (``User.name``, ``User.id.desc()``) or column names."""
        return self._with(self.statement.order_by(*(self._column(c) if isinstance(c, str) else c
                                                      for c in columns)))

    def like(self, column: Any, pattern: str, escape: str | None = None) -> Self:
        """Keep rows whose ``column`` (a column or its name) matches the SQL
        LIKE ``pattern`` (``%`` any text, ``_`` one character)."""
        return self._with(self.statement.where(self._column(column).like(pattern, escape=escape)))

    def ilike(self, column: Any, pattern: str, escape: str | None = None) -> Self:
        """``like``, ignoring case (ILIKE on PostgreSQL, ``lower() LIKE lower()`` elsewhere)."""
        return self._with(self.statement.where(self._column(column).ilike(pattern, escape=escape)))

    def _column(self, column: Any) -> Any:
        if not isinstance(column, str):
            return column
        attribute = getattr(self.model, column, None)
        if not isinstance(attribute, InstrumentedAttribute):
            raise AttributeError(f"{self.model.__name__} has no column {column!r}")
        return attribute

    # -- statements run by the terminal methods ----------------------------------------------

    def _count_statement(self) -> Select[Any]:
        return select(func.count()).select_from(self.statement.order_by(None).subquery())

    def _one_statement(self) -> Select[Any]:
        # Two rows are enough to tell "one" from "many".
        return self.statement if self._limit is not None and self._limit <= 2 else self.statement.limit(2)

    def _page_statements(self, page: int, per_page: int) -> tuple[int, int, Select[Any], Select[Any]]:
        page = _positive(page, "page", None)
        per_page = _positive(per_page, "per_page", None)
        whole = self.statement.limit(None).offset(None)
        window = whole.limit(per_page).offset((page - 1) * per_page)
        counter = select(func.count()).select_from(whole.order_by(None).subquery())
        return page, per_page, window, counter

    def _one(self, rows: list[Any], *, required: bool) -> Any:
        if len(rows) > 1:
            raise MultipleResultsFound(f"{self._name()}.one(): more than one row matched, exactly "
                                       "one was required")
        if not rows:
            if required:
                raise NoResultFound(f"{self._name()}.one(): no row matched, exactly one was required")
            return None
        return rows[0]

    def _name(self) -> str:
        return f"{self.model.__name__}.query()"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.statement}>"


class AsyncQuery(_QueryBuilder[T]):
    """A chainable query whose results are awaited (see the module's doc)."""

    __slots__ = ()

    def _session(self) -> AsyncSession:
        return self.session if self.session is not None else current_session()

    async def all(self) -> list[T]:
        """Every matching row."""
        return list((await self._session().scalars(self.statement)).all())

    async def first(self) -> T | None:
        """The first matching row, or ``None``."""
        return (await self._session().scalars(self.statement.limit(1))).first()

    async def one(self) -> T:
        """The only matching row. Raises ``sqlalchemy.exc.NoResultFound`` when
        none matches (a view letting it escape answers 404) and
        ``MultipleResultsFound`` when more than one does."""
        rows = list((await self._session().scalars(self._one_statement())).all())
        return self._one(rows, required=True)  # type: ignore[no-any-return]

    async def one_or_none(self) -> T | None:
        """The only matching row, ``None`` when none does; ``MultipleResultsFound``
        when more than one does."""
        rows = list((await self._session().scalars(self._one_statement())).all())
        return self._one(rows, required=False)  # type: ignore[no-any-return]

    async def count(self) -> int:
        """How many rows ``all()`` would return (``limit``/``offset`` included)."""
        return int(await self._session().scalar(self._count_statement()) or 0)

    async def paginate(self, page: int = 1, per_page: int = 10) -> Pagination[T]:
        """One page of the results: a ``Pagination`` with ``items``, ``total``,
        ``page``, ``pages``, ``per_page``, ``has_next``, ``has_prev``, readable
        as attributes or as keys (``result["items"]``). ``page`` and
        ``per_page`` must be integers >= 1 (``ValueError`` otherwise); a page
        past the end has no items. The query's own ``limit``/``offset`` are
        replaced by the page's. Order the query for stable pages."""
        page, per_page, window, counter = self._page_statements(page, per_page)
        session = self._session()
        items = list((await session.scalars(window)).all())
        total = int(await session.scalar(counter) or 0)
        return Pagination(items=items, total=total, page=page, per_page=per_page)


class Query(_QueryBuilder[T]):
    """The synchronous twin of ``AsyncQuery``, on a ``Session`` (what a plain
    ``def`` view decorated with ``@db.managed_session`` receives)."""

    __slots__ = ()

    def all(self) -> list[T]:
        return list(self.session.scalars(self.statement).all())

    def first(self) -> T | None:
        return self.session.scalars(self.statement.limit(1)).first()  # type: ignore[no-any-return]

    def one(self) -> T:
        rows = list(self.session.scalars(self._one_statement()).all())
        return self._one(rows, required=True)  # type: ignore[no-any-return]

    def one_or_none(self) -> T | None:
        rows = list(self.session.scalars(self._one_statement()).all())
        return self._one(rows, required=False)  # type: ignore[no-any-return]

    def count(self) -> int:
        return int(self.session.scalar(self._count_statement()) or 0)

    def paginate(self, page: int = 1, per_page: int = 10) -> Pagination[T]:
        page, per_page, window, counter = self._page_statements(page, per_page)
        items = list(self.session.scalars(window).all())
        total = int(self.session.scalar(counter) or 0)
        return Pagination(items=items, total=total, page=page, per_page=per_page)


def make_query(model: type[T], session: Any = None) -> AsyncQuery[T] | Query[T]:
    """What ``Model.query(session)`` returns: an ``AsyncQuery`` for an
    ``AsyncSession`` (or ``None``: the active session when the query runs),
    a ``Query`` for a synchronous ``Session``."""
    from sqlalchemy.ext.asyncio import AsyncSession

    if session is None or isinstance(session, AsyncSession):
        return AsyncQuery(model, session)
    if isinstance(session, Session):
        return Query(model, session)
    raise TypeError(f"{model.__name__}.query() needs a database session (an AsyncSession, as "
                    f"@db.managed_session injects), got {session!r}")


def _count_argument(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{name}() needs an integer >= 0, got {value!r}")
