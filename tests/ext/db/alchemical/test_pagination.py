"""db.paginate and Pagination."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model, Pagination


def define_item():
    class Item(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20))

    return Item


def test_pages_in_requests(make_app):
    app, db = make_app()
    Item = define_item()

    @app.route("/items")
    async def items(req, resp):
        page = await db.paginate(Item.select().order_by(Item.id), request=req, max_per_page=5)
        resp.media = page.as_dict(items=[item.name for item in page])

    @app.route("/seed", methods=["POST"])
    @db.transaction
    async def seed(req, resp):
        for n in range(1, 13):
            await Item.create(name=f"item {n}")

    client = app.client
    assert client.get("/items").json() == {"items": [], "total": 0, "page": 1, "pages": 0,
                                           "per_page": 5, "has_next": False, "has_prev": False}
    client.post("/seed")
    first = client.get("/items?per_page=5").json()
    assert first == {"items": [f"item {n}" for n in range(1, 6)], "total": 12, "page": 1, "pages": 3,
                     "per_page": 5, "has_next": True, "has_prev": False}
    last = client.get("/items?per_page=5&page=3").json()
    assert last["items"] == ["item 11", "item 12"]
    assert (last["has_next"], last["has_prev"]) == (False, True)
    assert client.get("/items?page=9&per_page=5").json()["items"] == []
    assert client.get("/items?per_page=500").json()["per_page"] == 5  # capped at max_per_page
    for bad in ("page=0", "page=-1", "page=x", "per_page=", "page=99999999999"):
        response = client.get(f"/items?{bad}")
        assert response.status_code == 400, bad
        assert "must be a positive integer" in response.text


def test_pagination_object(database_url):
    db = Alchemical(url=database_url)
    Item = define_item()

    async def main():
        await db.create_all()
        async with db.session():
            for n in range(7):
                await Item.create(name=str(n))
            page = await db.paginate(Item.select().order_by(Item.id.desc()), page=2, per_page=3)
            by_model = await db.paginate(Item, page=3, per_page=3)
            columns = await db.paginate(Item.select().with_only_columns(Item.id, Item.name)
                                        .order_by(Item.id), per_page=2)
            with pytest.raises(ValueError, match="page must be a positive integer"):
                await db.paginate(Item, page=0)
        await db.dispose()
        return page, by_model, columns

    page, by_model, columns = asyncio.run(main())
    assert isinstance(page, Pagination)
    assert [item.name for item in page] == ["3", "2", "1"]
    assert (len(page), page.total, page.pages, page.next_page, page.prev_page) == (3, 7, 3, 3, 1)
    assert [item.name for item in by_model.items] == ["6"]
    assert (by_model.has_next, by_model.next_page) == (False, None)
    assert [tuple(row) for row in columns.items] == [(1, "0"), (2, "1")]


def test_paginate_needs_a_session():
    db = Alchemical(url="sqlite://")
    Item = define_item()
    with pytest.raises(RuntimeError, match=r"^No active database session. Did you await req.db\?$"):
        asyncio.run(db.paginate(Item))
