"""dyne.ext.scheduler: TaskManager on APScheduler, started and stopped with the app."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import dyne
from dyne.ext.scheduler import (
    CLUSTER_ORIGIN,
    TaskManager,
    latest_run_time,
    schedule_job,
    scheduled_time,
)


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_seed_example_scheduler_class_and_background_task():
    # Seed 002, "Task scheduling", in Dyne's idiom: the class, the extension
    # bound with init_app, and run_background_task from a view.
    ran = []
    sent = threading.Event()

    class Scheduler(TaskManager):
        @schedule_job("interval", minutes=1, id="my_job")
        async def some_task(self):
            print("Performing task")

        @schedule_job("interval", seconds=0.1, id="fast")
        async def fast(self):
            ran.append(scheduled_time())

    scheduler: Scheduler = Scheduler()
    app = dyne.App()
    scheduler.init_app(app)

    def send_email(address, subject=None):
        sent.address = (address, subject)
        sent.set()

    @app.route("/users", methods=["POST"])
    async def create_user(req, resp):
        scheduler.run_background_task(send_email, "ada@example.com", subject="Welcome")
        resp.media = {"id": 1}

    with app.client as client:
        assert client.post("/users").json() == {"id": 1}
        assert sent.wait(5) and sent.address == ("ada@example.com", "Welcome")
        job = scheduler.get_job("my_job")
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(minutes=1)
        assert wait_until(lambda: len(ran) >= 3)
        assert scheduler.scheduler.running
    assert not scheduler.scheduler.running
    count = len(ran)
    time.sleep(0.4)
    assert len(ran) == count, "jobs stop when the app shuts down"
    # Each run knows the time it was scheduled for.
    assert all(isinstance(t, datetime) and t.tzinfo is not None for t in ran)
    assert ran == sorted(ran)


def test_add_pause_resume_remove_get_job_at_run_time():
    runs = []
    app = dyne.App()
    manager = TaskManager(app)
    assert app.extensions["task_manager"] is manager

    def tick(label):
        runs.append(label)

    @app.route("/jobs", methods=["POST"])
    async def add(req, resp):
        job = manager.add_job(tick, "interval", args=["t"], seconds=0.1, id="tick")
        resp.media = {"id": job.id}

    @app.route("/jobs/{job_id}/{action}", methods=["POST"])
    async def act(req, resp, *, job_id, action):
        getattr(manager, f"{action}_job")(job_id)
        resp.media = {"job": None if manager.get_job(job_id) is None else job_id}

    with app.client as client:
        assert client.post("/jobs").json() == {"id": "tick"}
        assert wait_until(lambda: len(runs) >= 2)
        client.post("/jobs/tick/pause")
        assert manager.get_job("tick").next_run_time is None
        time.sleep(0.15)
        paused_at = len(runs)
        time.sleep(0.4)
        assert len(runs) == paused_at
        client.post("/jobs/tick/resume")
        assert wait_until(lambda: len(runs) > paused_at)
        assert client.post("/jobs/tick/remove").json() == {"job": None}
        assert manager.get_job("tick") is None
        assert manager.get_jobs() == []
        # A Job object works where an id does.
        soon = datetime.now(UTC) + timedelta(seconds=0.1)
        job = manager.add_job(tick, "date", args=["once"], run_date=soon)
        assert wait_until(lambda: "once" in runs)
        assert manager.get_job(job.id) is None  # a date job is gone after its run
        job = manager.add_job(tick, "cron", args=["cron"], second="*/30", id="cron")
        manager.pause_job(job)
        manager.remove_job(job)
        assert manager.get_job("cron") is None


def test_task_manager_config_as_in_the_seed():
    class Recording(AsyncIOScheduler):
        made = []

        def __init__(self, **options):
            Recording.made.append(options)
            super().__init__(**options)

    class Jobs(TaskManager):
        @schedule_job("cron", hour=3, minute=0, id="nightly")
        def nightly(self):
            pass

    app = dyne.App()
    store = MemoryJobStore()
    app.config["TASK_MANAGER"] = {
        "JOB_STORES": {"default": store},
        "EXECUTORS": {"default": AsyncIOExecutor()},
        "JOB_DEFAULTS": {"coalesce": True, "max_instances": 1},
        "DAEMON": True,
        "SCHEDULER": Recording,
    }
    jobs = Jobs(app)
    with app.client as client:
        client.get("/")
        assert isinstance(jobs.scheduler, Recording)
        job = jobs.get_job("nightly")
        assert isinstance(job.trigger, CronTrigger)
        assert job.coalesce is True and job.max_instances == 1
        assert store.lookup_job("nightly") is job or store.lookup_job("nightly").id == "nightly"
    assert Recording.made[0]["daemon"] is True


def test_schedule_job_rejects_unknown_triggers():
    with pytest.raises(ValueError, match="trigger must be one of"):
        schedule_job("hourly")


def test_latest_run_time_for_interval_and_cron():
    trigger = IntervalTrigger(seconds=5, start_date=CLUSTER_ORIGIN, timezone=UTC)
    now = datetime(2026, 1, 1, 12, 0, 7, 300000, tzinfo=UTC)
    assert latest_run_time(trigger, now) == datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    cron = CronTrigger(minute="*/15", timezone=UTC)
    assert latest_run_time(cron, now, lookback=3600) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert latest_run_time(cron, datetime(2026, 1, 1, 12, 14, tzinfo=UTC), lookback=60) is None


async def test_sync_and_async_jobs_run_on_the_app_loop():
    seen = []

    class Jobs(TaskManager):
        @schedule_job("interval", seconds=0.05)
        async def async_job(self):
            seen.append(("async", asyncio.get_running_loop() is loop))

        @schedule_job("interval", seconds=0.05)
        def sync_job(self):
            seen.append(("sync", threading.current_thread() is not threading.main_thread()))

    loop = asyncio.get_running_loop()
    jobs = Jobs(dyne.App())
    await jobs.on_startup()
    try:
        assert {job.id for job in jobs.get_jobs()} == {
            "test_sync_and_async_jobs_run_on_the_app_loop.<locals>.Jobs.async_job",
            "test_sync_and_async_jobs_run_on_the_app_loop.<locals>.Jobs.sync_job"}
        for _ in range(100):
            if {kind for kind, _ in seen} == {"async", "sync"}:
                break
            await asyncio.sleep(0.02)
    finally:
        await jobs.on_shutdown()
    assert ("async", True) in seen and ("sync", True) in seen
