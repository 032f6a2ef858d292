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



def build_report() -> dict:
    """Some work per request (a stand-in for a query): the benchmark's report."""
    items = [{"id": i, "label": f"item-{i}", "score": (i * 7919) % 1000} for i in range(100)]
    items.sort(key=lambda item: (item["score"], item["id"]))
    items.sort(key=lambda item: item["id"])
    return {"items": items, "total": sum(item["score"] for item in items)}
