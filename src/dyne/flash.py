"""Flash messages: a message stored for the next page the user sees, shown once.

::

    from dyne import flash

    @app.route("/save", methods=["POST"])
    async def save(req, resp):
        flash(req, "Saved.", "success")
        resp.redirect("/")

    # in a template (the app's templates have get_flashed_messages):
    # {% for category, message in get_flashed_messages(req, with_categories=True) %}

Messages live in the session (``req.session["_flashes"]``, so they need the
session's ``secret_key``). ``get_flashed_messages`` takes them out of it: the
first call in a request consumes them, and later calls in the same request
return the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .request import Request

__all__ = ["MAX_FLASHES", "flash", "get_flashed_messages"]

#: The session key holding pending messages.
SESSION_KEY = "_flashes"
#: Pending messages kept at most (the oldest are dropped): the session is a cookie.
MAX_FLASHES = 20


def flash(req: Request, message: str, category: str = "message") -> None:
    """Store ``message`` (a string) under ``category`` for the next
    ``get_flashed_messages``."""
    if not isinstance(message, str):
        raise TypeError(f"Flash messages are strings, got {type(message).__name__}")
    if not isinstance(category, str):
        raise TypeError(f"Flash categories are strings, got {type(category).__name__}")
    pending = req.session.get(SESSION_KEY)
    flashes = [item for item in pending if _valid(item)] if isinstance(pending, list) else []
    flashes.append([category, str(message)])
    req.session[SESSION_KEY] = flashes[-MAX_FLASHES:]


def get_flashed_messages(req: Request, with_categories: bool = False,
                         category_filter: Iterable[str] = ()) -> list[Any]:
    """The messages flashed so far (oldest first), removed from the session:
    strings, or ``(category, message)`` pairs with ``with_categories=True``;
    only those of the given categories with ``category_filter``."""
    state = req.state
    flashes: list[tuple[str, str]] | None = getattr(state, "_dyne_flashes", None)
    if flashes is None:
        session = req.session
        # Only a session that held messages is changed (and its cookie rewritten).
        pending = session.pop(SESSION_KEY) if SESSION_KEY in session else None
        flashes = []
        if isinstance(pending, list):
            flashes = [(item[0], item[1]) for item in pending if _valid(item)]
        state._dyne_flashes = flashes
    wanted = frozenset(category_filter)
    if wanted:
        flashes = [item for item in flashes if item[0] in wanted]
    return list(flashes) if with_categories else [message for _, message in flashes]


def _valid(item: Any) -> bool:
    return (isinstance(item, list) and len(item) == 2
            and isinstance(item[0], str) and isinstance(item[1], str))
