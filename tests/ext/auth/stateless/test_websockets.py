"""``@authenticate`` on websocket routes: a refused connection is never
accepted (a 401/403 denial response where the server supports it, else a
close with code 1008, which the server answers with 403)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import WebSocketDenialResponse

import dyne
from dyne.ext.auth import TokenAuth, authenticate, public
from tests.conftest import serve_in_thread

TOKENS = {"t-alice": "alice", "t-admin": "admin"}


def make_app() -> dyne.App:
    app = dyne.App()
    backend = TokenAuth(query="token")
    backend.verify_token(lambda token: TOKENS.get(token))
    backend.get_user_roles(lambda user: ["admin"] if user == "admin" else [])

    @app.route("/ws", websocket=True)
    @authenticate(backend)
    async def echo(ws):
        await ws.accept()
        await ws.send_text(f"hello {ws.state.user}")
        await ws.close()

    @app.route("/ws/admin", websocket=True)
    @authenticate(backend, role="admin")
    async def admin(ws):
        await ws.accept()
        await ws.send_text("admin")
        await ws.close()

    room = app.group("/rooms")
    authenticate(backend)(room)

    @room.route("/main", websocket=True)
    async def main_room(ws):
        await ws.accept()
        await ws.send_text(f"room {ws.state.user}")
        await ws.close()

    @room.route("/lobby", websocket=True)
    @public
    async def lobby(ws):
        await ws.accept()
        await ws.send_text("lobby")
        await ws.close()

    @app.route("/ws/maybe", websocket=True)
    @authenticate(backend, optional=True)
    async def maybe(ws):
        await ws.accept()
        await ws.send_text(str(ws.state.user))
        await ws.close()

    return app


def test_authenticated_websocket_sees_the_user():
    client = make_app().client
    with client.websocket_connect("/ws?token=t-alice") as ws:
        assert ws.receive_text() == "hello alice"
    with client.websocket_connect("/rooms/main?token=t-alice") as ws:
        assert ws.receive_text() == "room alice"
    with client.websocket_connect("/rooms/lobby") as ws:
        assert ws.receive_text() == "lobby"
    with client.websocket_connect("/ws/maybe") as ws:
        assert ws.receive_text() == "None"


@pytest.mark.parametrize("path, status", [
    ("/ws", 401), ("/ws?token=forged", 401), ("/rooms/main", 401),
    ("/ws/admin?token=t-alice", 403), ("/ws/maybe?token=forged", 401),
])
def test_refused_websocket_gets_a_denial_response(path, status):
    client = make_app().client
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(path):
        pass
    assert refused.value.status_code == status
    if status == 401:
        assert refused.value.headers["www-authenticate"].startswith("Bearer")


def test_websocket_auth_requires_a_websocket_capable_backend():
    from dyne.ext.auth import LoginManager

    app = dyne.App(secret_key="k" * 32)
    login = LoginManager(app)

    async def view(ws):
        await ws.accept()

    with pytest.raises(TypeError, match="cannot authenticate the websocket"):
        app.add_route("/w", login.login_required(view), websocket=True)


@pytest.mark.server
def test_websocket_auth_under_uvicorn():
    import websockets
    from websockets.exceptions import InvalidStatus

    app = make_app()

    async def talk(url: str) -> str:
        async with websockets.connect(url, open_timeout=10) as ws:
            return str(await ws.recv())

    with serve_in_thread(app) as url:
        ws_url = url.replace("http://", "ws://")
        assert asyncio.run(talk(f"{ws_url}/ws?token=t-alice")) == "hello alice"
        with pytest.raises(InvalidStatus) as refused:
            asyncio.run(talk(f"{ws_url}/ws?token=forged"))
        assert refused.value.response.status_code == 401
        assert refused.value.response.headers["WWW-Authenticate"].startswith("Bearer")
        with pytest.raises(InvalidStatus) as forbidden:
            asyncio.run(talk(f"{ws_url}/ws/admin?token=t-alice"))
        assert forbidden.value.response.status_code == 403
