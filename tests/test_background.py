import asyncio
import threading
import time

import dyne
from dyne.background import BackgroundQueue


def test_task_decorator_returns_at_once_and_runs_in_a_thread(app):
    done = threading.Event()
    seen = {}

    @app.route("/")
    def hello(req, resp):
        @app.background.task
        def work(s=0.2):
            time.sleep(s)
            seen["thread"] = threading.current_thread().name
            done.set()

        work()
        resp.content = "processing"

    started = time.monotonic()
    response = app.client.get("/")
    assert response.text == "processing"
    assert time.monotonic() - started < 0.2
    assert done.wait(5)
    assert seen["thread"].startswith("dyne-background")


def test_run_with_arguments_and_async_functions(app):
    results = []

    async def async_job(value):
        await asyncio.sleep(0.01)
        results.append(("async", value))

    def sync_job(value, *, twice=False):
        results.append(("sync", value * (2 if twice else 1)))

    @app.route("/")
    async def index(req, resp):
        app.background.run(async_job, 1)
        app.background.run(sync_job, 2, twice=True)

    app.client.get("/")
    deadline = time.monotonic() + 5
    while len(results) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(results) == [("async", 1), ("sync", 4)]


def test_async_task_scheduled_from_a_sync_view_runs_on_the_app_loop(app):
    loops = {}

    @app.on_event("startup")
    async def remember_loop():
        loops["app"] = asyncio.get_running_loop()

    async def job():
        loops["job"] = asyncio.get_running_loop()

    @app.route("/")
    def sync_view(req, resp):
        app.background.run(job)

    app.client.get("/")
    deadline = time.monotonic() + 5
    while "job" not in loops and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loops["job"] is loops["app"]


def test_pending_tasks_drain_on_shutdown():
    app = dyne.App()
    finished = []

    @app.route("/")
    def index(req, resp):
        @app.background.task
        def slow():
            time.sleep(0.3)
            finished.append("slow")

        @app.background.task
        async def slow_async():
            await asyncio.sleep(0.3)
            finished.append("slow_async")

        slow()
        slow_async()

    with app.client as client:
        client.get("/")
        assert finished == []
    assert sorted(finished) == ["slow", "slow_async"]


def test_failing_task_is_logged(caplog):
    queue = BackgroundQueue()

    def broken():
        raise RuntimeError("task exploded")

    future = queue.run(broken)
    try:
        future.result(timeout=5)
    except RuntimeError:
        pass
    deadline = time.monotonic() + 5
    while "task exploded" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "Background task failed" in caplog.text
    assert queue.pending == 0


def test_drain_timeout_reports_unfinished():
    queue = BackgroundQueue()
    queue.run(time.sleep, 0.5)

    async def drain():
        return await queue.drain(timeout=0.01)

    assert asyncio.run(drain()) is False
    queue.shutdown(wait=True)
