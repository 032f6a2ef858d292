"""dyne.ext.channels: publish from views, websockets and background jobs;
subscribers on every worker receive it (Redis pub/sub); bounded backlogs;
a backend that is down is a 503, in bounded time."""

import asyncio
import time

import pytest

import dyne
from dyne.ext.channels import (
    Channels,
    ChannelsUnavailable,
    MemoryChannelBackend,
    RedisChannelBackend,
)


@pytest.fixture(params=["memory", "redis"])
def make_channels(request):
    made = []

    def make(app=None, **options):
        if request.param == "memory":
            backend = MemoryChannelBackend()
        else:
            backend = RedisChannelBackend(request.getfixturevalue("redis_url"),
                                          key_prefix=request.getfixturevalue("redis_prefix"))
        channels = Channels(app, backend=backend, **options)
        made.append(channels)
        return channels

    yield make


async def test_publish_reaches_every_subscriber_of_the_channel(make_channels):
    channels = make_channels()
    async with channels.subscribe("news") as first, channels.subscribe("news", "sport") as second, \
            channels.subscribe("weather") as other:
        await channels.publish("news", {"headline": "hello"})
        await channels.publish("sport", "goal")
        assert (await first.get(timeout=2)).data == {"headline": "hello"}
        assert [(await second.get(timeout=2)).channel for _ in range(2)] == ["news", "sport"]
        with pytest.raises(TimeoutError):
            await other.get(timeout=0.2)
    await channels.on_shutdown()


async def test_nothing_is_received_after_leaving(make_channels):
    channels = make_channels()
    async with channels.subscribe("c") as subscriber:
        pass
    await channels.publish("c", 1)  # no subscriber: nobody receives it, nothing fails
    assert channels._subscribers == {}
    assert subscriber._queue.empty()
    await channels.on_shutdown()


async def test_a_slow_subscriber_keeps_only_its_backlog(make_channels):
    channels = make_channels(backlog=3)
    async with channels.subscribe("c") as slow:
        for i in range(10):
            await channels.publish("c", i)
        await asyncio.sleep(0.2)  # let Redis deliver
        assert [(await slow.get(timeout=1)).data for _ in range(3)] == [7, 8, 9]
        assert slow.dropped == 7
    await channels.on_shutdown()


async def test_two_workers_share_channels_on_redis(redis_url, redis_prefix):
    worker_a = Channels(backend=RedisChannelBackend(redis_url, key_prefix=redis_prefix))
    worker_b = Channels(backend=RedisChannelBackend(redis_url, key_prefix=redis_prefix))
    async with worker_a.subscribe("room") as on_a, worker_b.subscribe("room") as on_b:
        await worker_b.publish("room", {"from": "b"})
        assert (await on_a.get(timeout=2)).data == {"from": "b"}
        assert (await on_b.get(timeout=2)).data == {"from": "b"}
        await asyncio.sleep(1.5)  # idle longer than the socket timeout: still listening
        await worker_a.publish("room", "again")
        assert (await on_b.get(timeout=2)).data == "again"
    await worker_a.on_shutdown()
    await worker_b.on_shutdown()


def test_websockets_receive_what_views_and_background_jobs_publish(make_channels):
    app = dyne.App()
    channels = make_channels(app)

    @app.route("/rooms/{room}", websocket=True)
    async def room(ws, *, room):
        await ws.accept()
        await channels.forward(ws, room, ready={"joined": room})

    @app.route("/rooms/{room}", methods=["POST"])
    async def say(req, resp, *, room):
        await channels.publish(room, await req.media())

        @app.background.task
        async def later():
            await channels.publish(room, {"from": "a background job"})

        later()

    with app.client.websocket_connect("/rooms/lobby") as ws:
        assert ws.receive_json() == {"joined": "lobby"}
        assert app.client.post("/rooms/lobby", json={"text": "hi"}).status_code == 200
        assert ws.receive_json() == {"text": "hi"}
        assert ws.receive_json() == {"from": "a background job"}
    app.client.close()


def test_threads_publish_with_publish_sync(make_channels):
    app = dyne.App()
    channels = make_channels(app)

    @app.route("/rooms/{room}", websocket=True)
    async def room(ws, *, room):
        await ws.accept()
        await channels.forward(ws, room, ready="ready")

    @app.route("/sync/{room}", methods=["POST"])
    def sync_view(req, resp, *, room):  # runs in a worker thread
        channels.publish_sync(room, "from a sync view")

        @app.background.task
        def sync_job():  # runs in the background thread pool
            channels.publish_sync(room, "from a sync job")

        sync_job()

    with app.client.websocket_connect("/rooms/r") as ws:
        assert ws.receive_json() == "ready"
        app.client.post("/sync/r")
        assert {ws.receive_json(), ws.receive_json()} == {"from a sync view", "from a sync job"}
    app.client.close()


async def test_publish_sync_refuses_the_event_loop_and_a_stopped_app():
    channels = Channels()
    with pytest.raises(RuntimeError, match=r"use 'await channels\.publish"):
        channels.publish_sync("c", 1)
    with pytest.raises(RuntimeError, match="needs the app to be running"):
        await asyncio.to_thread(channels.publish_sync, "c", 1)


def test_configuration_picks_the_backend(redis_url):
    app = dyne.App()
    app.config["CHANNELS_BACKEND"] = "redis"
    app.config["CHANNELS_REDIS_URL"] = redis_url
    app.config["CHANNELS_BACKLOG"] = "9"
    channels = Channels(app)
    assert isinstance(channels.backend, RedisChannelBackend) and channels.backlog == 9
    assert isinstance(Channels().backend, MemoryChannelBackend)
    with pytest.raises(ValueError, match="'memory' or 'redis'"):
        _ = Channels(backend="kafka").backend


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_redis_down_or_stuck_is_a_503_in_bounded_time(port_fixture, request):
    port = request.getfixturevalue(port_fixture)
    channels = Channels(backend=RedisChannelBackend(f"redis://127.0.0.1:{port}/0", timeout=0.3))
    started = time.monotonic()
    with pytest.raises(ChannelsUnavailable) as raised:
        await channels.publish("c", 1)
    assert raised.value.status_code == 503
    with pytest.raises(ChannelsUnavailable):
        async with channels.subscribe("c"):
            pass
    assert channels._subscribers == {}
    assert time.monotonic() - started < 3
    await channels.on_shutdown()


async def test_a_dropped_redis_connection_is_rebuilt_with_its_subscriptions(redis_url, redis_prefix):
    import uuid

    import redis.asyncio

    name = f"dyne-test-{uuid.uuid4().hex[:8]}"
    listener = redis.asyncio.Redis.from_url(redis_url, client_name=name, socket_timeout=1,
                                            socket_connect_timeout=1)
    channels = Channels(backend=RedisChannelBackend(client=listener, key_prefix=redis_prefix))
    admin = redis.asyncio.Redis.from_url(redis_url)
    async with channels.subscribe("c") as subscriber:
        await channels.publish("c", "before")
        assert (await subscriber.get(timeout=2)).data == "before"
        # Kill this test's pub/sub connection only (the server is shared).
        clients = [c for c in await admin.client_list() if c.get("name") == name and int(c["sub"])]
        assert len(clients) == 1
        await admin.client_kill_filter(_id=clients[0]["id"])
        deadline = asyncio.get_running_loop().time() + 10
        received = None
        while received is None and asyncio.get_running_loop().time() < deadline:
            await channels.publish("c", "after")
            try:
                received = (await subscriber.get(timeout=0.5)).data
            except TimeoutError:
                pass
        assert received == "after"
    await channels.on_shutdown()
    await listener.aclose()
    await admin.aclose()
