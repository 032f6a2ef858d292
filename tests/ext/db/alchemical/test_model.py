"""Model: the declarative base, usable before any app or database exists."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Alchemical, Model
from tests.conftest import ROOT


def test_model_can_be_defined_before_any_app_exists():
    code = ("from sqlalchemy.orm import Mapped, mapped_column\n"
            "from dyne.ext.db.alchemical import Model\n"
            "class UserAccount(Model):\n"
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            "print(UserAccount.__tablename__, UserAccount.__table__ in Model.metadata.tables.values())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.stdout.split() == ["user_account", "True"], result.stderr


def test_alchemical_conveniences_and_naming_convention():
    class Author(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(80), unique=True)

    class BookChapter(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))

    assert BookChapter.__tablename__ == "book_chapter"
    assert str(Author.select().where(Author.id == 1)).startswith("SELECT author.id, author.email")
    assert str(Author.delete()).startswith("DELETE FROM author")
    assert str(Author.update()).startswith("UPDATE author")
    names = {constraint.name for constraint in Author.__table__.constraints}
    assert {"pk_author", "uq_author_email"} <= names
    foreign = {c.name for c in BookChapter.__table__.foreign_key_constraints}
    assert foreign == {"fk_book_chapter_author_id_author"}
    assert repr(Author(email="x")) == "<Author (transient)>"
    assert UniqueConstraint  # imported for the reader: the convention names unique constraints


def test_bind_models_get_their_own_metadata():
    class Event(Model):
        __bind_key__ = "analytics"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert Event.__table__ in Model.__metadatas__["analytics"].tables.values()
    assert Event.__table__ not in Model.metadata.tables.values()
    assert Model.__metadatas__["analytics"].naming_convention["pk"] == "pk_%(table_name)s"
    assert Alchemical(url="sqlite://").Model is Model
