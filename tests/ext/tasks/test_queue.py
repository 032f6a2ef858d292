"""dyne.ext.tasks with the in-memory broker (no services): the declaration
idiom, results, retries, dead letters, idempotency, and the worker command's
errors."""

import asyncio
import subprocess
import sys

import pytest

import dyne
from dyne.ext.email import EmailClient
from dyne.ext.tasks import TaskFailed, TaskQueue, TaskTimeout, current_task


def make_app(**config):
    app = dyne.App()
    app.config["TASKS"] = {"BROKER": "memory://", "RETRY_DELAY": 0.01, **config}
    return app, TaskQueue(app)


def test_enqueue_from_a_view_and_poll_the_result():
    app, tasks = make_app()
    seen = []

    @tasks.task
    async def add(a: int, b: int) -> int:
        seen.append(current_task())
        return a + b

    @app.route("/add", methods=["POST"])
    async def enqueue(req, resp):
        data = await req.media()
        job = await add.enqueue(data["a"], data["b"])
        resp.media = {"task": job.task_id}

    @app.route("/tasks/{task_id}")
    async def status(req, resp, *, task_id):
        resp.media = await tasks.job(task_id).info()

    @app.route("/tasks/{task_id}/result")
    async def result(req, resp, *, task_id):
        resp.media = {"result": await tasks.job(task_id).wait(timeout=5)}

    task_id = app.client.post("/add", json={"a": 2, "b": 3}).json()["task"]
    assert app.client.get(f"/tasks/{task_id}/result").json() == {"result": 5}
    assert app.client.get(f"/tasks/{task_id}").json() == {"id": task_id, "state": "succeeded", "result": 5}
    assert seen[0].task_id == task_id and seen[0].attempt == 1
    assert seen[0].name == f"{__name__}.test_enqueue_from_a_view_and_poll_the_result.<locals>.add"
    # Calling a task runs the function directly (current_task() is then unavailable).
    with pytest.raises(RuntimeError, match="only available inside a running task"):
        asyncio.run(add(1, 1))

    @tasks.task
    def double(x):
        return 2 * x

    assert double(4) == 8
    app.client.close()


async def test_retries_dead_letters_and_idempotency():
    app, tasks = make_app(RETRIES=2)
    attempts = []

    @tasks.task
    def flaky() -> str:
        attempts.append(current_task().attempt)
        if current_task().attempt < 3:
            raise ConnectionError("later")
        return "ok"

    @tasks.task(retries=0, name="fails")
    async def fails(x):
        raise ValueError(f"bad {x}")

    @tasks.task(retry_on=(ConnectionError,))
    async def picky():
        attempts.append("picky")
        raise KeyError("not retried")

    async with app.lifespan_context():
        assert await (await flaky.enqueue()).wait(timeout=5) == "ok"
        assert attempts == [1, 2, 3]
        job = await fails.enqueue(1)
        with pytest.raises(TaskFailed, match="ValueError: bad 1"):
            await job.wait(timeout=5)
        with pytest.raises(TaskFailed, match="KeyError"):
            await (await picky.enqueue()).wait(timeout=5)
        assert attempts.count("picky") == 1
        dead = await tasks.dead_letters()
        assert next((d["task_name"], d["args"], d["attempts"]) for d in dead) == ("fails", [1], 1)
        first = await flaky.enqueue(idempotency_key="k")
        second = await flaky.enqueue(idempotency_key="k")
        assert second.duplicate and second.task_id == first.task_id
        with pytest.raises(ValueError, match="idempotency_key"):
            await flaky.enqueue(idempotency_key="x" * 600)
        with pytest.raises(LookupError, match="No task named"):
            await tasks.enqueue("nope")
        with pytest.raises(TaskTimeout):
            await tasks.job("unknown").wait(timeout=0.1)
        with pytest.raises(ValueError, match="already declared"):
            tasks.task(name="fails")(lambda: None)


async def test_email_task_with_the_memory_outbox():
    app, tasks = make_app()
    app.config["EMAIL_CLIENT"] = {"SENDER_NAME_OR_ADDRESS": "shop@example.com", "BACKEND": "memory"}
    email = EmailClient(app)
    send_email = tasks.email_task(email)
    async with app.lifespan_context():
        job = await send_email.enqueue(["ada@example.com"], "Hi", "Hello", attachments={"a.txt": b"x"})
        message_id = await job.wait(timeout=5)
        bad = await send_email.enqueue("ada@example.com", "Hi\nBcc: x@example.com", "x")
        with pytest.raises(TaskFailed, match="line break"):
            await bad.wait(timeout=5)
    [message] = email.outbox
    assert message["Message-ID"] == message_id
    assert [p.get_content() for p in message.iter_attachments()] == ["x"]
    # A header-injection attempt is not retried: it is dead at once.
    assert [d["attempts"] for d in await tasks.dead_letters()] == [1]


def test_unknown_broker_and_missing_store():
    _app, tasks = make_app(BROKER="kafka://x")
    with pytest.raises(ValueError, match="BROKER must be"):
        tasks.broker  # noqa: B018
    # RabbitMQ without a Redis RESULT_BACKEND: no results, keys or dead letters.
    _app, tasks = make_app(BROKER="amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(RuntimeError, match="RESULT_BACKEND"):
        tasks.store  # noqa: B018


def test_worker_command_needs_a_task_queue(tmp_path):
    (tmp_path / "plain.py").write_text("import dyne\napp = dyne.App()\n")
    result = subprocess.run([sys.executable, "-m", "dyne", "--app", "plain:app", "worker"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "has no task queue named 'tasks'" in result.stderr


async def test_shutdown_does_not_wait_forever_for_in_process_tasks():
    app, tasks = make_app(SHUTDOWN_TIMEOUT=0.2)
    finished = []

    @tasks.task
    async def slow():
        await asyncio.sleep(30)
        finished.append(True)

    loop = asyncio.get_running_loop()
    async with app.lifespan_context():
        await slow.enqueue()
        await asyncio.sleep(0.05)
        started = loop.time()
    assert loop.time() - started < 5
    assert finished == []


async def test_failures_are_logged_once_per_attempt_on_dyne_tasks(caplog):
    import logging

    app, tasks = make_app(RETRIES=1)

    @tasks.task
    async def broken():
        raise OSError("disk full")

    caplog.set_level(logging.INFO)
    async with app.lifespan_context():
        with pytest.raises(TaskFailed):
            await (await broken.enqueue()).wait(timeout=5)
    ours = [r for r in caplog.records if r.name == "dyne.tasks"]
    assert [r.levelname for r in ours] == ["WARNING", "ERROR"]
    assert "retrying in" in ours[0].getMessage() and ours[0].exc_info is None
    assert ours[1].exc_info is not None  # the traceback, once
    assert not [r for r in caplog.records if r.name.startswith("taskiq") and r.exc_info]
