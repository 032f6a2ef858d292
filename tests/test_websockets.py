"""WebSockets: formats, hooks, rejection, disconnects, errors, and a real client."""

import asyncio
import json
import time

import pytest
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

import dyne
from dyne.websockets import WebSocketDisconnect
from tests.conftest import serve_in_thread


def test_websocket_disconnect_is_starlettes_class_from_every_import_path():
    from dyne.exceptions import WebSocketDisconnect as from_exceptions

    assert WebSocketDisconnect is StarletteDisconnect
    assert from_exceptions is StarletteDisconnect
    assert dyne.WebSocketDisconnect is StarletteDisconnect
    with pytest.raises(AttributeError):
        dyne.websockets.NoSuchThing  # noqa: B018


def test_text_json_and_bytes_round_trip(app):
    @app.route("/ws", websocket=True)
    async def echo(ws):
        await ws.accept()
        await ws.send_text((await ws.receive_text()).upper())
        payload = await ws.receive_json()
        await ws.send_json({"got": payload})
        await ws.send_bytes(bytes(reversed(await ws.receive_bytes())))
        await ws.close()

    with app.client.websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "HI"
        ws.send_json({"n": [1, 2]})
        assert ws.receive_json() == {"got": {"n": [1, 2]}}
        ws.send_bytes(b"\x00\x01\x02")
        assert ws.receive_bytes() == b"\x02\x01\x00"


def test_path_parameters_and_query(app):
    @app.route("/rooms/{room}/{n:int}", websocket=True)
    async def room(ws, *, room, n):
        await ws.accept()
        await ws.send_json({"room": room, "n": n, "who": ws.query_params.get("who")})
        await ws.close()

    with app.client.websocket_connect("/rooms/lobby/3?who=ann") as ws:
        assert ws.receive_json() == {"room": "lobby", "n": 3, "who": "ann"}


def test_unknown_path_is_refused(app):
    with pytest.raises(StarletteDisconnect) as info, app.client.websocket_connect("/nowhere"):
        pass
    assert info.value.code == 1008


def test_before_hook_can_refuse_before_accepting(app):
    seen = []

    @app.route(before_request=True, websocket=True)
    async def gate(ws):
        if ws.headers.get("x-token") != "ok":
            await ws.close(code=1008)
            return
        await ws.accept()

    @app.route("/ws", websocket=True)
    async def view(ws):
        seen.append("view")
        await ws.send_text("welcome")
        await ws.close()

    with pytest.raises(StarletteDisconnect) as info, app.client.websocket_connect("/ws"):
        pass
    assert info.value.code == 1008
    assert seen == []
    with app.client.websocket_connect("/ws", headers={"x-token": "ok"}) as ws:
        assert ws.receive_text() == "welcome"
    assert seen == ["view"]


def test_sync_before_hook_and_http_hooks_do_not_run_for_websockets(app):
    calls = []

    @app.route(before_request=True)
    def http_hook(req, resp):
        calls.append("http")

    @app.before_request(websocket=True)
    def ws_hook(ws):
        calls.append("ws")

    @app.route("/ws", websocket=True)
    async def view(ws):
        await ws.accept()
        await ws.close()

    with app.client.websocket_connect("/ws"):
        pass
    assert calls == ["ws"]


def test_client_disconnect_reaches_the_view_and_ends_quietly(app):
    events = []

    @app.route("/ws", websocket=True)
    async def view(ws):
        await ws.accept()
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect as exc:
            events.append(exc.code)
            raise  # dyne swallows it: no error logged, no 1011

    with app.client.websocket_connect("/ws") as ws:
        ws.send_text("x")
        ws.close(code=1001)
    for _ in range(100):
        if events:
            break
        time.sleep(0.01)
    assert events == [1001]


@pytest.mark.parametrize("debug", [False, True])
def test_client_disconnect_is_not_logged_as_an_error(caplog, debug):
    """Run to the end, directly over ASGI: a client going away is not an error,
    so nothing is logged, nothing is raised and no close frame follows it."""
    import logging

    app = dyne.App(debug=debug)
    codes = []

    @app.route("/ws", websocket=True)
    async def view(ws):
        await ws.accept()
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)
            raise

    incoming = [{"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "hello"},
                {"type": "websocket.disconnect", "code": 1001}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message["type"])

    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"",
             "headers": [(b"host", b"t")], "scheme": "ws", "server": ("t", 80),
             "client": ("c", 1), "root_path": "", "subprotocols": []}
    with caplog.at_level(logging.DEBUG, logger="dyne"):
        asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    assert codes == [1001]
    assert sent == ["websocket.accept"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_unhandled_error_closes_with_1011_and_is_logged(app, caplog):
    @app.route("/ws", websocket=True)
    async def broken(ws):
        await ws.accept()
        raise RuntimeError("ws bug")

    with app.client.websocket_connect("/ws") as ws, pytest.raises(StarletteDisconnect) as info:
        ws.receive_text()
    assert info.value.code == 1011
    assert "Unhandled error in websocket /ws" in caplog.text


def test_error_before_accept_closes_the_handshake(app):
    @app.route("/ws", websocket=True)
    async def broken(ws):
        raise RuntimeError("before accept")

    with pytest.raises(StarletteDisconnect), app.client.websocket_connect("/ws"):
        pass


def test_websocket_routes_take_no_http_options(app):
    async def view(ws):
        pass

    with pytest.raises(TypeError, match="websocket routes take no methods"):
        app.add_route("/ws", view, websocket=True, methods=["GET"])


def test_http_request_to_a_websocket_only_path_is_404(app):
    @app.route("/ws", websocket=True)
    async def view(ws):
        await ws.accept()

    assert app.client.get("/ws").status_code == 404


@pytest.mark.server
def test_real_websocket_client_over_loopback():
    import websockets.asyncio.client

    app = dyne.App()

    @app.route("/echo", websocket=True)
    async def echo(ws):
        await ws.accept()
        try:
            while True:
                message = await ws.receive_text()
                if message == "json":
                    await ws.send_json({"format": "json"})
                else:
                    await ws.send_text(f"echo: {message}")
        except WebSocketDisconnect:
            pass

    async def talk(url):
        async with websockets.asyncio.client.connect(url) as client:
            replies = []
            for message in ("hello", "world"):
                await client.send(message)
                replies.append(await client.recv())
            await client.send("json")
            replies.append(json.loads(await client.recv()))
            return replies

    with serve_in_thread(app) as base:
        url = base.replace("http://", "ws://") + "/echo"
        replies = asyncio.run(talk(url))
    assert replies == ["echo: hello", "echo: world", {"format": "json"}]
