"""Broker adjustments, made on first use (taskiq-redis is imported lazily)."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator
from typing import Any

__all__ = ["redis_stream_broker"]


@functools.cache
def _redis_stream_broker_class() -> type:
    from redis.asyncio import Redis
    from taskiq import AckableMessage
    from taskiq_redis import RedisStreamBroker

    class DyneRedisStreamBroker(RedisStreamBroker):  # type: ignore[misc]
        """taskiq-redis's stream broker, claiming stale unacknowledged entries
        (from a worker that died) on every poll, including when no new message
        arrives: taskiq-redis 1.2 only looks for them after new messages."""

        async def listen(self) -> AsyncGenerator[Any, None]:
            connection: Any
            async with Redis(connection_pool=self.connection_pool) as connection:
                while True:
                    fetched = await connection.xreadgroup(
                        self.consumer_group_name, self.consumer_name, {self.queue_name: ">"},
                        block=self.block, noack=False, count=self.count)
                    for stream, entries in fetched or []:
                        for entry_id, entry in entries:
                            yield AckableMessage(data=entry[b"data"],
                                                 ack=self._ack_generator(id=entry_id, queue_name=stream))
                    # XAUTOCLAIM moves ownership atomically: one worker gets each entry.
                    claimed = await connection.xautoclaim(
                        self.queue_name, self.consumer_group_name, self.consumer_name,
                        min_idle_time=self.idle_timeout, count=self.unacknowledged_batch_size)
                    for entry_id, entry in claimed[1]:
                        if not entry:  # deleted from the stream meanwhile
                            continue
                        yield AckableMessage(data=entry[b"data"],
                                             ack=self._ack_generator(id=entry_id, queue_name=self.queue_name))

    return DyneRedisStreamBroker


def redis_stream_broker(url: str, **options: Any) -> Any:
    """A Redis-streams broker whose unacknowledged messages go to another
    worker after ``idle_timeout`` milliseconds."""
    return _redis_stream_broker_class()(url, **options)
