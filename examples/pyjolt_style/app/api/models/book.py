"""The ``Book`` model (Alchemical's ``Model``) and its pydantic shapes."""

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Model


class Book(Model):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100))
    year: Mapped[int]


class BookData(BaseModel):
    """What a client sends to create or replace a book."""

    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    year: int = Field(ge=0, le=2100)


class BookOut(BookData):
    """A stored book."""

    model_config = ConfigDict(from_attributes=True)

    id: int


class ErrorResponse(BaseModel):
    message: str
    details: dict[str, str] | None = None
