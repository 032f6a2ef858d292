"""``@output`` with real SQLAlchemy objects (plain SQLAlchemy, no dyne
database extension): ORM instances, lists of them, a ``ScalarResult`` query
result consumed lazily, and ``Row`` tuples read by attribute."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import require_module

sqlalchemy = require_module("sqlalchemy", 'pip install -e ".[sqlalchemy]"')

from marshmallow import Schema, fields  # noqa: E402
from pydantic import BaseModel, ConfigDict  # noqa: E402
from sqlalchemy import Float, String, create_engine, select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

import dyne  # noqa: E402


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    price: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float, default=0.0)  # never sent


class PBookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    price: float


class MBookOut(Schema):
    id = fields.Int()
    title = fields.Str()
    price = fields.Float()


@pytest.fixture
def session():
    # One in-memory database shared with the thread pool that runs sync views.
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Book(id=1, title="Dune", price=9.5, cost=2),
                         Book(id=2, title="Emma", price=3, cost=1)])
        session.commit()
        yield session
    engine.dispose()


@pytest.mark.parametrize("library, schema", [("pydantic", PBookOut), ("marshmallow", MBookOut)])
def test_orm_objects_query_results_and_rows(session, library, schema):
    output = importlib.import_module(f"dyne.ext.io.{library}").output
    app = dyne.App()
    sources = {
        "one": lambda: session.get(Book, 1),
        "all": lambda: session.scalars(select(Book).order_by(Book.id)).all(),
        "result": lambda: session.scalars(select(Book).order_by(Book.id)),
        "row": lambda: session.execute(select(Book.id, Book.title, Book.price).where(Book.id == 2)).one(),
        "rows": lambda: session.execute(select(Book.id, Book.title, Book.price).order_by(Book.id)).all(),
    }

    @app.route("/{kind}")
    @output(schema)
    def view(req, resp, *, kind):  # sync: SQLAlchemy's sync session, in the thread pool
        resp.obj = sources[kind]()

    dune, emma = {"id": 1, "title": "Dune", "price": 9.5}, {"id": 2, "title": "Emma", "price": 3.0}
    client = app.client
    assert client.get("/one").json() == dune
    assert client.get("/all").json() == [dune, emma]
    assert client.get("/result").json() == [dune, emma]
    assert client.get("/row").json() == emma
    assert client.get("/rows").json() == [dune, emma]
