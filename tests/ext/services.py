"""RabbitMQ on loopback, for the task-queue tests (Redis comes from the
``redis_url``/``redis_prefix`` fixtures of tests/conftest.py): skipped when
absent, failing under DYNE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket

from tests.conftest import service_unavailable

AMQP_URL = os.environ.get("DYNE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def require_rabbitmq() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            pass
    except OSError as exc:
        service_unavailable("RabbitMQ", f"nothing answers on 127.0.0.1:5672 ({exc})")
    return AMQP_URL
