"""dyne.ext.tasks on the real Redis (streams) and the real RabbitMQ, with
`dyne worker` subprocesses: at-least-once delivery through a SIGKILL,
idempotency keys, retries with backoff, dead letters, results, and email
through the queue while the SMTP server is down."""

import itertools
import signal
import time

import pytest
import redis

from tests.conftest import free_port
from tests.ext.email.smtp import smtp_server

from .conftest import wait_for

pytestmark = [pytest.mark.services]


def store(env):
    return redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)


def test_worker_killed_mid_task_loses_nothing_and_the_effect_happens_once(taskapp, workers, broker_env):
    r = store(broker_env)
    prefix = broker_env["JOB_PREFIX"]
    r.set(prefix + "sleep", 60)  # the first worker will hang inside the task
    client = taskapp.app.client
    first = workers.start()
    answer = client.post("/orders/7").json()
    assert answer["duplicate"] is False
    task_id = answer["task"]
    wait_for(lambda: r.llen(prefix + "starts") == 1, message="the first worker to start the task")
    assert client.get(f"/tasks/{task_id}").json() == {"id": task_id, "state": "pending"}

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    r.set(prefix + "sleep", 0)
    second = workers.start()

    assert client.get(f"/tasks/{task_id}/wait").json() == {"result": "charged order 7"}
    assert client.get(f"/tasks/{task_id}").json() == {
        "id": task_id, "state": "succeeded", "result": "charged order 7"}
    # It ran twice (once per worker), took effect once.
    assert r.lrange(prefix + "starts", 0, -1) == [str(first.pid), str(second.pid)]
    assert r.get(prefix + "charged") == "1"

    # The same idempotency key again: the same job, nothing sent.
    again = client.post("/orders/7").json()
    assert again == {"task": task_id, "duplicate": True}
    assert r.llen(prefix + "starts") == 2


def test_retries_with_backoff_then_success(taskapp, workers, broker_env):
    r = store(broker_env)
    workers.start()
    import asyncio

    async def run():
        async with taskapp.app.lifespan_context():
            job = await taskapp.flaky.enqueue(21)
            return await job.wait(timeout=30)

    assert asyncio.run(run()) == 42
    attempts = [item.split(":") for item in r.lrange(broker_env["JOB_PREFIX"] + "attempts", 0, -1)]
    assert [int(n) for n, _ in attempts] == [1, 2, 3]
    gaps = [float(b) - float(a) for (_, a), (_, b) in itertools.pairwise(attempts)]
    # RETRY_DELAY 0.2 s, doubled each time: about 0.2 then 0.4 s.
    assert 0.15 < gaps[0] < gaps[1]
    assert gaps[1] >= 0.35


def test_dead_letters_after_the_last_attempt(taskapp, workers, broker_env):
    import asyncio

    from dyne.ext.tasks import TaskFailed

    workers.start()

    async def run():
        async with taskapp.app.lifespan_context():
            job = await taskapp.always_fails.enqueue("card declined")
            with pytest.raises(TaskFailed, match="RuntimeError: card declined"):
                await job.wait(timeout=30)
            info = await job.info()
            dead = await taskapp.tasks.dead_letters()
            again = await taskapp.tasks.retry_dead_letter(job.task_id)
            with pytest.raises(TaskFailed):
                await again.wait(timeout=30)
            return job, info, dead, await taskapp.tasks.dead_letters()

    job, info, dead, after = asyncio.run(run())
    assert info == {"id": job.task_id, "state": "failed", "error": "RuntimeError: card declined"}
    assert [(d["task_id"], d["task_name"], d["args"], d["attempts"], d["error"]) for d in dead] == [
        (job.task_id, "always.fails", ["card declined"], 2, "RuntimeError: card declined")]
    # Retried from the dead letters, it failed again and is back there, once.
    assert [d["task_name"] for d in after] == ["always.fails"]
    assert after[0]["task_id"] != job.task_id


def test_email_through_the_queue_waits_for_the_smtp_server(taskapp, workers, broker_env):
    import asyncio

    port = free_port()
    workers.start(extra_env={"SMTP_PORT": str(port)})

    async def enqueue():
        async with taskapp.app.lifespan_context():
            return await taskapp.send_email.enqueue(
                "ada@example.com", "Welcome", "Hello Ada", attachments={"terms.pdf": b"%PDF"},
                idempotency_key="welcome:ada")

    job = asyncio.run(enqueue())
    # The server is down: the worker keeps retrying (with backoff); the job is pending.
    time.sleep(1.5)

    async def info():
        async with taskapp.app.lifespan_context():
            return await job.info()

    assert asyncio.run(info()) == {"id": job.task_id, "state": "pending"}
    with smtp_server(port) as (_, mailbox):
        async def wait():
            async with taskapp.app.lifespan_context():
                return await job.wait(timeout=30)

        message_id = asyncio.run(wait())
    [received] = mailbox.messages
    assert received.message["Message-ID"] == message_id
    assert received.rcpt_tos == ["ada@example.com"]
    assert [p.get_filename() for p in received.message.iter_attachments()] == ["terms.pdf"]
    assert received.message.get_body(("plain",)).get_content().strip() == "Hello Ada"


def test_processes_option_shares_the_queue(taskapp, workers, broker_env, monkeypatch):
    import os
    import subprocess
    import sys

    r = store(broker_env)
    prefix = broker_env["JOB_PREFIX"]
    r.set(prefix + "sleep", 0.5)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parent = subprocess.Popen(
        [sys.executable, "-m", "dyne", "--app", "tests.ext.tasks.taskapp:app", "worker",
         "--processes", "2", "--concurrency", "1", "--log-level", "warning"],
        cwd=root, env={**os.environ, **broker_env, "PYTHONPATH": root})
    workers.processes.append(parent)
    client = taskapp.app.client
    ids = [client.post(f"/orders/{n}").json()["task"] for n in range(6)]
    for task_id in ids:
        assert client.get(f"/tasks/{task_id}/wait").json()["result"].startswith("charged order")
    # Two processes, one task at a time each: both took part.
    assert len(set(r.lrange(prefix + "starts", 0, -1))) == 2
    assert r.get(prefix + "charged") == "6"
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=20) == 0
