"""Websocket idle timeout (close 1001) and maximum message size (close 1009),
per route and app-wide, with the test client and a real client under uvicorn."""

from __future__ import annotations

import asyncio
import time

import pytest

import dyne
from dyne.websockets import WebSocketDisconnect
from tests.conftest import serve_in_thread


def echo_app(**route_options) -> dyne.App:
    app = dyne.App()

    @app.route("/echo", websocket=True, **route_options)
    async def echo(ws):
        await ws.accept()
        while True:
            await ws.send_text(await ws.receive_text())

    return app


def test_a_message_over_the_limit_closes_with_1009():
    app = echo_app(max_message_size=8)
    with app.client.websocket_connect("/echo") as ws:
        ws.send_text("12345678")  # exactly the limit
        assert ws.receive_text() == "12345678"
        ws.send_text("é" * 5)  # 5 characters, 10 bytes in UTF-8
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009


def test_binary_messages_are_counted_too():
    app = dyne.App()

    @app.route("/bin", websocket=True, max_message_size=4)
    async def binary(ws):
        await ws.accept()
        await ws.send_bytes(await ws.receive_bytes())
        await ws.receive_bytes()

    with app.client.websocket_connect("/bin") as ws:
        ws.send_bytes(b"abcd")
        assert ws.receive_bytes() == b"abcd"
        ws.send_bytes(b"abcde")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
    assert closed.value.code == 1009


def test_an_idle_connection_is_closed_with_1001():
    app = echo_app(idle_timeout=0.2)
    with app.client.websocket_connect("/echo") as ws:
        for _ in range(3):  # activity keeps it open past the timeout
            time.sleep(0.1)
            ws.send_text("ping")
            assert ws.receive_text() == "ping"
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1001
    assert 0.15 < time.monotonic() - started < 5


def test_messages_the_server_sends_count_as_activity():
    app = dyne.App()
    done = []

    @app.route("/feed", websocket=True, idle_timeout=0.2)
    async def feed(ws):
        await ws.accept()

        async def push():
            for n in range(6):
                await asyncio.sleep(0.08)
                await ws.send_text(str(n))

        pusher = asyncio.ensure_future(push())
        try:
            await ws.receive_text()  # the client never speaks; the pushes keep it alive
        except WebSocketDisconnect as exc:
            done.append(exc.code)
            pusher.cancel()
            raise

    with app.client.websocket_connect("/feed") as ws:
        assert [ws.receive_text() for _ in range(6)] == ["0", "1", "2", "3", "4", "5"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1001 and done == [1001]


def test_app_wide_defaults_from_the_config_and_a_route_opting_out():
    app = dyne.App(environ={"WEBSOCKET_MAX_MESSAGE_SIZE": "4", "WEBSOCKET_IDLE_TIMEOUT": "30"})

    @app.route("/limited", websocket=True)
    async def limited(ws):
        await ws.accept()
        await ws.send_text(await ws.receive_text())

    @app.route("/big", websocket=True, max_message_size=None)
    async def big(ws):
        await ws.accept()
        await ws.send_text(str(len(await ws.receive_text())))

    with app.client.websocket_connect("/limited") as ws:
        ws.send_text("hello")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009
    with app.client.websocket_connect("/big") as ws:
        ws.send_text("x" * 100_000)
        assert ws.receive_text() == "100000"


def test_sending_after_the_guard_closed_raises_disconnect():
    app = dyne.App()
    outcome = []

    @app.route("/ws", websocket=True, max_message_size=2)
    async def ws_view(ws):
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect:
            try:
                await ws.send_text("too late")
            except WebSocketDisconnect as exc:
                outcome.append(exc.code)
            await ws.close()  # harmless: already closed

    with app.client.websocket_connect("/ws") as ws:
        ws.send_text("big")
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    assert outcome == [1009]


def test_bad_limits_are_refused_at_registration():
    app = dyne.App()

    async def view(ws):
        pass

    with pytest.raises(ValueError, match="idle_timeout"):
        app.add_route("/a", view, websocket=True, idle_timeout=0)
    with pytest.raises(ValueError, match="max_message_size"):
        app.add_route("/b", view, websocket=True, max_message_size="lots")
    with pytest.raises(TypeError, match="route options other than"):
        app.add_route("/c", view, websocket=True, timeout=3)


def test_groups_pass_the_limits_on():
    app = dyne.App()
    api = app.group("/api")

    @api.route("/ws", websocket=True, max_message_size=3)
    async def small(ws):
        await ws.accept()
        await ws.receive_text()

    with app.client.websocket_connect("/api/ws") as ws:
        ws.send_text("four")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009


@pytest.mark.server
def test_limits_with_a_real_websocket_client_under_uvicorn():
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    app = echo_app(idle_timeout=0.3, max_message_size=1024)

    async def talk(url):
        codes = {}
        async with connect(url) as client:
            await client.send("hi")
            assert await client.recv() == "hi"
            await client.send("x" * 2048)
            with pytest.raises(ConnectionClosed):
                await client.recv()
            codes["oversize"] = client.close_code
        async with connect(url) as client:
            started = time.monotonic()
            with pytest.raises(ConnectionClosed):
                await client.recv()
            codes["idle"] = client.close_code
            codes["idle_after"] = time.monotonic() - started
        return codes

    with serve_in_thread(app) as url:
        codes = asyncio.run(talk(url.replace("http://", "ws://") + "/echo"))
    assert codes["oversize"] == 1009
    assert codes["idle"] == 1001 and 0.25 < codes["idle_after"] < 5


@pytest.mark.server
def test_frames_over_the_server_limit_are_refused_by_uvicorn_before_dyne_sees_them():
    """dyne's limit applies to the messages the server hands over; uvicorn's
    ws_max_size (16 MiB by default) bounds what it buffers at all."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    app = echo_app(max_message_size=10_000_000)

    async def talk(url):
        async with connect(url, max_size=None) as client:
            await client.send(b"x" * 2_000_000)
            with pytest.raises(ConnectionClosed):
                await client.recv()
            return client.close_code

    with serve_in_thread(app, ws_max_size=1_000_000) as url:
        assert asyncio.run(talk(url.replace("http://", "ws://") + "/echo")) == 1009
