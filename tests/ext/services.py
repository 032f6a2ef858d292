"""The real Redis and RabbitMQ on loopback, for the scheduler and task-queue
tests: skipped when absent, failing under DYNE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from tests.conftest import service_unavailable

REDIS_URL = os.environ.get("DYNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("DYNE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_redis() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        service_unavailable("Redis", f"{REDIS_URL}: {exc}")
    return REDIS_URL


def require_rabbitmq() -> str:
    if not _reachable("127.0.0.1", 5672):
        service_unavailable("RabbitMQ", "nothing listens on 127.0.0.1:5672")
    return AMQP_URL


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def amqp_url() -> str:
    return require_rabbitmq()


@pytest.fixture
def namespace(redis_url):
    """A unique key prefix, deleted from Redis after the test."""
    import redis

    prefix = f"dyne-test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
