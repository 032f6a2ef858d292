"""Pages of query results: ``await db.paginate(Book.select().order_by(Book.id), ...)``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Select, func, select

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from dyne.request import Request

__all__ = ["Pagination", "paginate"]

T = TypeVar("T")

#: The keys of a page read as a mapping (``page["items"]``, ``dict(page)``).
PAGINATION_KEYS = ("items", "total", "page", "pages", "per_page", "has_next", "has_prev")


@dataclass(frozen=True)
class Pagination(Generic[T]):
    """One page of results, and where it sits among the others."""

    #: The rows of this page (model instances for ``select(Model)``).
    items: list[T]
    #: Rows in all pages.
    total: int
    #: This page's number, from 1.
    page: int
    #: Rows per page.
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (0 when there are no rows)."""
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def prev_page(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: str) -> Any:
        """``page["total"]``: the fields read as keys too, as PyJolt's
        pagination dictionary (``items``, ``total``, ``page``, ``pages``,
        ``per_page``, ``has_next``, ``has_prev``)."""
        if key not in PAGINATION_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        """The keys of ``as_dict()`` (so ``dict(page)`` works)."""
        return PAGINATION_KEYS

    def as_dict(self, items: Any = None) -> dict[str, Any]:
        """``{"items", "total", "page", "pages", "per_page", "has_next",
        "has_prev"}``, with ``items`` replaced when given (serialized rows)."""
        return {
            "items": self.items if items is None else items,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "per_page": self.per_page,
            "has_next": self.has_next,
            "has_prev": self.has_prev,
        }


def _positive(value: Any, name: str, request: Request | None) -> int:
    """``value`` as an int >= 1; bad request parameters are a 400, bad
    arguments a ``ValueError``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if request is not None and isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and 0 < len(text) <= 9 and int(text) >= 1:
            return int(text)
        from dyne.exceptions import HTTPException

        raise HTTPException(400, f"Query parameter {name!r} must be a positive integer, got {value!r}")
    raise ValueError(f"{name} must be a positive integer, got {value!r}")


async def paginate(session: AsyncSession, statement: Any, *, page: int | None = None,
                   per_page: int | None = None, max_per_page: int | None = 100,
                   request: Request | None = None) -> Pagination[Any]:
    """Run ``statement`` (a ``select()`` or a model class) for one page.

    ``page`` and ``per_page`` default to the request's ``?page=`` and
    ``?per_page=`` when ``request`` is given (invalid values there are a 400),
    else to 1 and 20. ``per_page`` is capped at ``max_per_page``. A page past
    the end has no items. Order the statement (``order_by``) for stable pages.
    Two queries run: the page, and a ``COUNT`` of the whole statement.
    """
    if request is not None:
        params = request.params
        if page is None and "page" in params:
            page = _positive(params.get("page"), "page", request)  # type: ignore[arg-type]
        if per_page is None and "per_page" in params:
            per_page = _positive(params.get("per_page"), "per_page", request)  # type: ignore[arg-type]
    page = 1 if page is None else _positive(page, "page", None)
    per_page = 20 if per_page is None else _positive(per_page, "per_page", None)
    if max_per_page is not None:
        per_page = min(per_page, max_per_page)
    if not isinstance(statement, Select):
        statement = select(statement)
    offset = (page - 1) * per_page
    window = statement.limit(per_page).offset(offset)
    result = await session.execute(window)
    items: list[Any] = list(result.scalars().all() if len(statement.column_descriptions) == 1
                            else result.all())
    counter = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int(await session.scalar(counter) or 0)
    return Pagination(items=items, total=total, page=page, per_page=per_page)
