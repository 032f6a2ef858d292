import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import python_executable
from tests.ext.services import require_rabbitmq

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request, redis_url, redis_prefix, monkeypatch):
    """Environment for taskapp on Redis streams, or on RabbitMQ (results in Redis)."""
    broker = redis_url if request.param == "redis" else require_rabbitmq()
    queue = f"dyne-test-{uuid.uuid4().hex[:8]}"
    env = {"JOB_PREFIX": redis_prefix, "REDIS_URL": redis_url, "BROKER_URL": broker, "QUEUE": queue}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    if request.param == "rabbitmq":
        _delete_rabbitmq_queue(broker, queue)


def _delete_rabbitmq_queue(url, queue):
    import asyncio

    import aio_pika

    async def delete():
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for name in (queue, f"{queue}.dead_letter"):
                await channel.queue_delete(name)
            await channel.exchange_delete(f"{queue}.exchange")

    with contextlib.suppress(Exception):
        asyncio.run(delete())


@pytest.fixture
def taskapp(broker_env):
    """The app module, imported fresh with this test's environment."""
    sys.modules.pop("tests.ext.tasks.taskapp", None)
    module = importlib.import_module("tests.ext.tasks.taskapp")
    yield module
    module.app.client.close()
    sys.modules.pop("tests.ext.tasks.taskapp", None)


class Workers:
    def __init__(self, env):
        self.env = env
        self.processes = []

    def start(self, concurrency=4, extra_env=None):
        root = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
        env = {**os.environ, **self.env, **(extra_env or {}),
               "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        process = subprocess.Popen(
            [python_executable(), "-m", "dyne", "--app", "tests.ext.tasks.taskapp:app", "worker",
             "--concurrency", str(concurrency), "--log-level", "warning"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(broker_env):
    group = Workers(broker_env)
    yield group
    group.stop_all()


def wait_for(condition, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
