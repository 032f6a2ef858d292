"""Channels: publish to a named channel from anywhere (a view, a websocket
handler, a background job); every subscriber receives it, on every worker and
host when the backend is Redis.

::

    from dyne.ext.channels import Channels

    channels = Channels(app)                 # CHANNELS_BACKEND="redis" to share them

    @app.route("/rooms/{room}", websocket=True)
    async def room(ws, *, room):
        await ws.accept()
        await channels.forward(ws, room)     # every message of the room, until the client leaves

    @app.route("/rooms/{room}", methods=["POST"])
    async def say(req, resp, *, room):
        await channels.publish(room, await req.media())

Messages are JSON values (dicts, lists, strings, numbers, booleans, ``None``).
Each subscriber has a bounded backlog (``CHANNELS_BACKLOG``, 256 messages):
a subscriber that falls further behind loses its oldest messages rather than
growing without bound. Delivery is at most once, as with Redis pub/sub:
a subscriber that is not connected when a message is published misses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..exceptions import HTTPException
from ..extensions import Extension
from .redis import RedisBacked

if TYPE_CHECKING:
    from ..app import App

__all__ = [
    "ChannelBackend",
    "Channels",
    "ChannelsUnavailable",
    "MemoryChannelBackend",
    "Message",
    "RedisChannelBackend",
    "Subscriber",
]

logger = logging.getLogger("dyne.channels")
Deliver = Callable[[str, bytes], None]


class ChannelsUnavailable(HTTPException):
    """The channel backend is down or did not answer in time (a ``503`` when
    raised in a view)."""

    def __init__(self, detail: str = "Service Unavailable") -> None:
        super().__init__(503, detail, headers={"Retry-After": "1"})


@dataclass(frozen=True)
class Message:
    """One message received from ``channel``."""

    channel: str
    data: Any


class ChannelBackend(ABC):
    """Carries messages between publishers and this process's subscribers.
    ``deliver(channel, payload)`` is set by ``Channels`` before ``start``."""

    deliver: Deliver

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect (called on first use)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Disconnect (called at shutdown)."""

    @abstractmethod
    async def publish(self, channel: str, payload: bytes) -> None:
        """Send ``payload`` to every subscriber of ``channel``, everywhere."""

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel`` in this process (returns once active)."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving ``channel`` in this process."""


class MemoryChannelBackend(ChannelBackend):
    """Within this process only (the default): one worker, or tests."""

    def __init__(self) -> None:
        self._channels: set[str] = set()

    async def publish(self, channel: str, payload: bytes) -> None:
        if channel in self._channels:
            self.deliver(channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)


class RedisChannelBackend(ChannelBackend, RedisBacked):
    """Redis pub/sub: one connection per process listens to the channels its
    subscribers want (under ``key_prefix``), and reconnects (re-subscribing)
    when the connection drops. ``timeout`` bounds publishing and subscribing."""

    def __init__(self, url: str | None = None, *, client: Any = None,
                 key_prefix: str = "dyne:channel:", timeout: float = 1.0,
                 password: str | None = None) -> None:
        RedisBacked.__init__(self, url, client=client, key_prefix=key_prefix, timeout=timeout,
                             password=password)
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}

    async def publish(self, channel: str, payload: bytes) -> None:
        async with asyncio.timeout(self.timeout):
            await self.client.publish(self.key_prefix + channel, payload)

    async def subscribe(self, channel: str) -> None:
        if self._pubsub is None:
            # No read timeout on the listening connection: it waits for messages.
            self._pubsub = self.client.pubsub()
        confirmed = self._confirmed[channel] = asyncio.Event()
        async with asyncio.timeout(self.timeout):
            await self._pubsub.subscribe(self.key_prefix + channel)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        # Return once Redis confirmed: a message published after this is received.
        async with asyncio.timeout(self.timeout):
            await confirmed.wait()

    async def unsubscribe(self, channel: str) -> None:
        self._confirmed.pop(channel, None)
        if self._pubsub is not None:
            try:
                async with asyncio.timeout(self.timeout):
                    await self._pubsub.unsubscribe(self.key_prefix + channel)
            except Exception as exc:  # the connection will be rebuilt; nothing to undo
                logger.warning("Channel unsubscribe failed: %s", exc)

    async def _read(self) -> None:
        from .redis import redis_errors

        pubsub, prefix, delay = self._pubsub, self.key_prefix, 0.1
        while True:
            if not pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await pubsub.get_message(timeout=1.0)
            except redis_errors() as exc:
                logger.warning("Channel connection lost (%s); reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            if message is None:
                continue
            name = message["channel"]
            name = name.decode("utf-8") if isinstance(name, bytes) else name
            channel = name[len(prefix):]
            if message["type"] == "message":
                self.deliver(channel, message["data"])
            elif message["type"] == "subscribe":
                event = self._confirmed.get(channel)
                if event is not None:
                    event.set()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        await self.close_client()


class Subscriber:
    """What ``channels.subscribe(...)`` yields: iterate over it for messages,
    or ``await subscriber.get()`` (with ``timeout=``) for one."""

    def __init__(self, channels: tuple[str, ...], backlog: int) -> None:
        self.channels = channels
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=backlog)
        self.dropped = 0

    def _put(self, message: Message) -> None:
        queue = self._queue
        if queue.full():
            queue.get_nowait()  # drop the oldest: a slow subscriber must not grow memory
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("A subscriber of %s is too slow; dropping its oldest messages",
                               ", ".join(self.channels))
        queue.put_nowait(message)

    async def get(self, timeout: float | None = None) -> Message:
        """The next message (``TimeoutError`` after ``timeout`` seconds)."""
        if timeout is None:
            return await self._queue.get()
        async with asyncio.timeout(timeout):
            return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            yield await self._queue.get()


class Channels(Extension):
    """Named channels. ``Channels(app)`` or ``Channels()`` + ``init_app``.

    :param backend: a ``ChannelBackend``, or ``"memory"``/``"redis"``; by
        default ``CHANNELS_BACKEND`` (``memory``), with ``CHANNELS_REDIS_URL``,
        ``CHANNELS_KEY_PREFIX`` and ``CHANNELS_TIMEOUT`` for Redis.
    :param backlog: messages kept for a subscriber that is behind
        (``CHANNELS_BACKLOG``, 256).
    """

    name = "channels"
    config_prefix = "CHANNELS_"

    def __init__(self, app: App | None = None, *, backend: ChannelBackend | str | None = None,
                 backlog: int | None = None) -> None:
        self._backend_option = backend
        self._backend: ChannelBackend | None = None
        self._backlog = backlog
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        super().__init__(app)

    @property
    def backend(self) -> ChannelBackend:
        """The backend, built on first use."""
        if self._backend is None:
            option = self._backend_option
            if option is None:
                option = self.config_value("BACKEND", "memory") if self.app else "memory"
            if isinstance(option, str):
                kind = option.lower()
                if kind == "memory":
                    option = MemoryChannelBackend()
                elif kind == "redis":
                    option = RedisChannelBackend(
                        self.config_value("REDIS_URL", None) if self.app else None,
                        key_prefix=self.config_value("KEY_PREFIX", "dyne:channel:")
                        if self.app else "dyne:channel:",
                        timeout=self.config_value("TIMEOUT", 1.0, float) if self.app else 1.0)
                else:
                    raise ValueError(f"CHANNELS_BACKEND must be 'memory' or 'redis', not {option!r}")
            if not isinstance(option, ChannelBackend):
                raise TypeError(f"backend must be a ChannelBackend, not {option!r}")
            option.deliver = self._deliver
            self._backend = option
        return self._backend

    @property
    def backlog(self) -> int:
        if self._backlog is None:
            self._backlog = self.config_value("BACKLOG", 256, int) if self.app else 256
        return self._backlog

    async def on_startup(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def on_shutdown(self) -> None:
        if self._backend is not None:
            await self._backend.stop()
            self._backend = None
        self._subscribers.clear()

    @staticmethod
    def _errors() -> tuple[type[BaseException], ...]:
        import sys

        errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, ConnectionError)
        if "redis" in sys.modules:
            from .redis import redis_errors

            errors += redis_errors()
        return errors

    async def publish(self, channel: str, data: Any) -> None:
        """Send ``data`` (a JSON value) to every subscriber of ``channel``.
        Raises ``ChannelsUnavailable`` (a 503) when the backend is down."""
        payload = orjson.dumps(data)
        self._loop = asyncio.get_running_loop()
        try:
            await self.backend.publish(channel, payload)
        except self._errors() as exc:
            logger.warning("Publishing to %r failed: %s", channel, exc or "timed out")
            raise ChannelsUnavailable() from None

    def publish_sync(self, channel: str, data: Any) -> None:
        """``publish`` for code running in a thread: a sync view, a sync
        background job. It runs on the app's event loop and waits for it."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("publish_sync() is for threads; use 'await channels.publish()' here")
        loop = self._loop
        if loop is None or not loop.is_running():
            raise RuntimeError("publish_sync() needs the app to be running (or an 'await "
                               "channels.publish()' or subscription made on its event loop)")
        future = asyncio.run_coroutine_threadsafe(self.publish(channel, data), loop)
        future.result()

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscriber]:
        """``async with channels.subscribe("a", "b") as subscriber:`` receives
        the messages published to those channels from the moment the block is
        entered until it is left."""
        if not channels:
            raise ValueError("subscribe() needs at least one channel name")
        subscriber = Subscriber(channels, self.backlog)
        self._loop = asyncio.get_running_loop()
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                for channel in channels:
                    members = self._subscribers.get(channel)
                    if not members:
                        await self.backend.subscribe(channel)
                        members = self._subscribers[channel] = set()
                    members.add(subscriber)
            except self._errors() as exc:
                await self._leave(subscriber)
                logger.warning("Subscribing to %s failed: %s", ", ".join(channels), exc or "timed out")
                raise ChannelsUnavailable() from None
        try:
            yield subscriber
        finally:
            async with self._lock:
                await self._leave(subscriber)

    async def _leave(self, subscriber: Subscriber) -> None:
        for channel in subscriber.channels:
            members = self._subscribers.get(channel)
            if members is None or subscriber not in members:
                continue
            members.discard(subscriber)
            if not members:
                del self._subscribers[channel]
                if self._backend is not None:
                    await self._backend.unsubscribe(channel)

    def _deliver(self, channel: str, payload: bytes) -> None:
        members = self._subscribers.get(channel)
        if not members:
            return
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            logger.warning("Dropped a message on %r that is not JSON", channel)
            return
        message = Message(channel, data)
        for subscriber in list(members):
            subscriber._put(message)

    async def forward(self, ws: Any, *channels: str, ready: Any = None) -> None:
        """Send every message of ``channels`` to the websocket ``ws`` (as JSON
        text) until the client disconnects. ``ready``, when given, is sent
        first, once the subscription is active. Messages the client sends are
        read and ignored."""
        async with self.subscribe(*channels) as subscriber:
            if ready is not None:
                await ws.send_json(ready)

            async def pump() -> None:
                async for message in subscriber:
                    await ws.send_json(message.data)

            sender = asyncio.get_running_loop().create_task(pump())
            try:
                while True:
                    received = await ws.receive()
                    if received["type"] == "websocket.disconnect":
                        break
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender

    def __repr__(self) -> str:
        kind = type(self._backend).__name__ if self._backend is not None else "unconfigured"
        return f"<Channels backend={kind} channels={len(self._subscribers)}>"
