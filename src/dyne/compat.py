"""Methods kept for code written against the published Dyne 2.0.5.

``App`` inherits them; each one is a thin layer over the app's own API:

* ``app.session(base_url=...)``: a new test client with its own cookies;
* ``app.redirect(resp, location=..., status_code=...)``;
* ``app.path_matches_route(scope)``: the route that would answer a scope;
* ``app.router.trigger_event("startup")``: run the startup (or shutdown)
  handlers, as tests written for Dyne 2.0.5 do.

Nothing here is on the request path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import App
    from .response import Response
    from .routing import Route
    from .testing import TestClient

__all__ = ["AppCompat", "trigger_event"]


class AppCompat:
    """Dyne 2.0.5's helper methods on ``App``."""

    def session(self, base_url: str | None = None, **options: Any) -> TestClient:
        """A new test client for this app (``requests``/``httpx`` API), with
        cookies of its own: ``s = app.session(); s.post("/login", ...)``.
        ``options`` go to ``dyne.testing.TestClient`` (``auth=``, ``headers=``...)."""
        from .testing import DEFAULT_BASE_URL, TestClient

        return TestClient(self, base_url=base_url or DEFAULT_BASE_URL, **options)

    def redirect(self, resp: Response, location: str, *, set_text: bool = True,
                 status_code: int = 302) -> None:
        """Redirect ``resp`` to ``location`` (302 unless ``status_code`` says
        otherwise; ``set_text=False`` sends no ``Redirecting to:`` body)."""
        resp.redirect(location, status_code=status_code)
        if not set_text:
            resp.content = b""

    def path_matches_route(self, scope: Mapping[str, Any] | str) -> Route | None:
        """The route for ``scope`` (an ASGI scope, or a path): the one answering
        its method, else (as in Dyne 2.0.5, which matches the path only) the
        first route on that path; ``None`` when no route matches the path."""
        app: App = self  # type: ignore[assignment]
        if isinstance(scope, str):
            path, method = scope, "GET"
        else:
            path, method = scope["path"], str(scope.get("method", "GET")).upper()
        found = app.router.match(path)
        if found is None:
            return None
        route_set, _ = found
        route = route_set.resolve(method)
        if route is None and route_set.routes:
            route = route_set.routes[0]
        return route


async def trigger_event(app: App, event_type: str) -> None:
    """Run the app's ``startup`` or ``shutdown`` handlers (``on_event``), in order."""
    from .lifespan import run_handlers

    if event_type == "startup":
        await run_handlers(app.startup_handlers)
    elif event_type == "shutdown":
        await run_handlers(app.shutdown_handlers)
    else:
        raise ValueError(f"Unknown event {event_type!r}: use 'startup' or 'shutdown'")
