"""What every benchmark app shares (imported inside each framework's venv)."""

from __future__ import annotations

from pydantic import BaseModel

#: The 500-route app registers ``/api/r{n}/items/{item_id:int}`` for n in 0..499.
ROUTE_COUNT = 500

HELLO = {"message": "Hello, world!"}


class Item(BaseModel):
    """The validated POST body, echoed back."""

    name: str
    price: float
    quantity: int
    tags: list[str] = []

