"""Route objects as in the published Dyne 2.0.5 (tried against 2.0.5)."""

import dyne
from dyne.routes import BaseRoute, Route, WebSocketRoute


def test_route_attributes():
    app = dyne.App()

    @app.route("/notes/{id:int}")
    async def notes(req, resp, *, id):
        """Show a note."""

    @app.route("/ws", websocket=True)
    async def feed(ws):
        pass

    route, ws_route = app.router.routes
    assert isinstance(route, BaseRoute) and isinstance(ws_route, BaseRoute)
    assert route.endpoint_name == "notes"
    assert route.doc == "Show a note."
    assert route.description == "Show a note."
    assert route.route == "/notes/{id:int}"
    assert route.url(id=3) == "/notes/3"
    assert ws_route.endpoint_name == "feed" and ws_route.description is None


def test_class_based_view_route_names_its_class():
    app = dyne.App()

    @app.route("/things")
    class Things:
        """Things."""

        def on_get(self, req, resp):
            pass

    (route,) = app.router.routes
    assert route.endpoint_name == "Things" and route.doc == "Things."


def test_equality_and_hash():
    def view(req, resp):
        pass

    def other(req, resp):
        pass

    assert Route("/a", view) == Route("/a", view)
    assert hash(Route("/a", view)) == hash(Route("/a", view))
    assert Route("/a", view) != Route("/b", view)
    assert Route("/a", view) != Route("/a", other)
    assert Route("/a", view) != WebSocketRoute("/a", view)
    assert len({Route("/a", view), Route("/a", view)}) == 1


def test_repr_like_the_published_one():
    def view(req, resp):
        pass

    assert repr(Route("/a/{id}", view)) == f"<Route '/a/{{id}}'={view!r}>"
    assert repr(WebSocketRoute("/ws", view)) == f"<WebSocketRoute '/ws'={view!r}>"
