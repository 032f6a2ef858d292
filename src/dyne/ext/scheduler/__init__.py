"""Scheduled jobs on APScheduler 3 (``AsyncIOScheduler``), in PyJolt's shape
and Dyne's idiom.

::

    from dyne.ext.scheduler import TaskManager, schedule_job

    class Scheduler(TaskManager):
        @schedule_job("interval", minutes=1, id="cleanup")
        async def cleanup(self):
            ...

        @schedule_job("cron", hour=3, minute=0)
        def nightly_report(self):        # sync jobs run in a thread
            ...

    scheduler = Scheduler(app)           # or Scheduler() then scheduler.init_app(app)

The methods decorated with ``@schedule_job`` are scheduled when the app starts
and the scheduler stops when it shuts down. ``add_job``, ``remove_job``,
``pause_job``, ``resume_job`` and ``get_job`` manage jobs at run time;
``run_background_task(fn, *args, **kwargs)`` fires and forgets.

Configuration (``TASK_MANAGER``, as in PyJolt): ``JOB_STORES``, ``EXECUTORS``,
``JOB_DEFAULTS``, ``DAEMON``, ``SCHEDULER`` (the scheduler class),
``TIMEZONE``, and for several processes ``CLUSTER_LOCK``: a Redis URL (or a
``redis.asyncio`` client). With it, every process schedules the jobs but each
run is claimed in Redis first (``SET NX`` on the job id and the run's
scheduled time), so a run happens once per cluster. Interval jobs without a
``start_date`` are then aligned on a fixed origin, so that every process
computes the same run times.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ...concurrency import is_async_callable, run_sync
from ...extensions import Extension

if TYPE_CHECKING:
    from ...app import App

__all__ = ["CLUSTER_ORIGIN", "ClusterLock", "RedisClusterLock", "TaskManager", "latest_run_time",
           "schedule_job", "scheduled_time"]

logger = logging.getLogger("dyne.scheduler")

F = TypeVar("F", bound=Callable[..., Any])

#: Where aligned interval jobs start counting from (a fixed instant, so that
#: every process of a cluster computes the same run times).
CLUSTER_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)

_SCHEDULE_ATTRIBUTE = "__dyne_schedule__"
_RUN_TIME: ContextVar[datetime | None] = ContextVar("dyne_scheduled_time", default=None)


def scheduled_time() -> datetime | None:
    """In a ``@schedule_job`` method (or a job of a cluster-locked scheduler):
    the time this run was scheduled for (UTC), else ``None``."""
    return _RUN_TIME.get()
_TRIGGERS = {"interval", "cron", "date"}


def schedule_job(trigger: Any, *, id: str | None = None, name: str | None = None,
                 cluster: bool | None = None, **options: Any) -> Callable[[F], F]:
    """Mark a ``TaskManager`` method as a job: ``trigger`` is ``"interval"``,
    ``"cron"``, ``"date"`` or an APScheduler trigger object; ``options`` are
    the trigger's arguments (``minutes=1``, ``hour=3``...) and APScheduler job
    options (``misfire_grace_time``, ``coalesce``, ``max_instances``,
    ``jitter``...). ``id`` defaults to the class and method name.
    ``cluster=False`` runs it in every process even with a ``CLUSTER_LOCK``."""
    if isinstance(trigger, str) and trigger not in _TRIGGERS:
        raise ValueError(f"trigger must be one of {sorted(_TRIGGERS)} or a trigger object, "
                         f"not {trigger!r}")

    def decorate(method: F) -> F:
        setattr(method, _SCHEDULE_ATTRIBUTE, {"trigger": trigger, "id": id, "name": name,
                                              "cluster": cluster, "options": options})
        return method

    return decorate


# -- once per cluster ----------------------------------------------------------------------


class ClusterLock:
    """Claims one run of a job for this process. ``claim`` returns ``True`` for
    exactly one caller per ``(job_id, run_time)`` across the cluster."""

    async def claim(self, job_id: str, run_time: datetime) -> bool:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections."""


class RedisClusterLock(ClusterLock):
    """``SET key NX EX ttl`` in Redis: the first process to claim a run wins.

    :param redis: a URL or a ``redis.asyncio.Redis`` client.
    :param prefix: the keys' prefix (one per application sharing a Redis).
    :param ttl: how long a claim is remembered, in seconds (longer than the
        clock difference between processes; short enough to keep Redis small).
    """

    def __init__(self, redis: Any, prefix: str = "dyne:scheduler:", ttl: int = 300) -> None:
        self._redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.token = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._owned = False

    @property
    def client(self) -> Any:
        if isinstance(self._redis, str):
            try:
                import redis.asyncio as aioredis
            except ModuleNotFoundError:  # pragma: no cover
                raise ImportError('CLUSTER_LOCK needs redis: pip install "dyne[scheduler]"') from None
            self._redis = aioredis.from_url(self._redis)
            self._owned = True
        return self._redis

    def key(self, job_id: str, run_time: datetime) -> str:
        stamp = run_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{self.prefix}{job_id}:{stamp}"

    async def claim(self, job_id: str, run_time: datetime) -> bool:
        return bool(await self.client.set(self.key(job_id, run_time), self.token, nx=True, ex=self.ttl))

    async def close(self) -> None:
        if self._owned and not isinstance(self._redis, str):
            await self._redis.aclose()
            self._redis = None


def latest_run_time(trigger: Any, now: datetime, lookback: float = 60.0) -> datetime | None:
    """The last time at or before ``now`` that ``trigger`` fires (looking back
    ``lookback`` seconds at most): the run a job started now belongs to."""
    tiny = timedelta(microseconds=1)
    current = trigger.get_next_fire_time(None, now - timedelta(seconds=lookback))
    if current is None or current > now:
        return None
    for _ in range(100_000):
        following = trigger.get_next_fire_time(current, current + tiny)
        if following is None or following > now or following <= current:
            break
        current = following
    return current  # type: ignore[no-any-return]


# -- the extension -------------------------------------------------------------------------


class TaskManager(Extension):
    """Runs the methods decorated with ``@schedule_job`` on an APScheduler
    scheduler, started and stopped with the app. Subclass it for your jobs;
    see the module documentation for the ``TASK_MANAGER`` configuration."""

    name = "task_manager"
    configs_name = "TASK_MANAGER"

    def __init__(self, app: App | None = None, *, configs_name: str | None = None,
                 variable_prefix: str = "") -> None:
        self._scheduler: Any = None
        self._lock: ClusterLock | None = None
        self._lock_ready = False
        super().__init__(app, configs_name=configs_name, variable_prefix=variable_prefix)

    # -- configuration ------------------------------------------------------------

    @property
    def scheduler(self) -> Any:
        """The APScheduler scheduler (made from the config on first use)."""
        if self._scheduler is None:
            self._scheduler = self._make_scheduler()
        return self._scheduler

    def _make_scheduler(self) -> Any:
        try:
            from apscheduler.executors.asyncio import AsyncIOExecutor
            from apscheduler.jobstores.memory import MemoryJobStore
            from apscheduler.schedulers.asyncio import AsyncIOScheduler
        except ModuleNotFoundError:  # pragma: no cover - depends on the environment
            raise ImportError('The scheduler needs APScheduler 3: pip install "dyne[scheduler]"') from None
        self.require_app()
        scheduler_class = self.config_value("SCHEDULER", None) or AsyncIOScheduler
        job_stores = self.config_value("JOB_STORES", None) or {"default": MemoryJobStore()}
        executors = self.config_value("EXECUTORS", None) or {"default": AsyncIOExecutor()}
        job_defaults = {"coalesce": False, "max_instances": 3,
                        **(self.config_value("JOB_DEFAULTS", None) or {})}
        options: dict[str, Any] = {"jobstores": job_stores, "executors": executors,
                                   "job_defaults": job_defaults,
                                   "daemon": bool(self.config_value("DAEMON", True)),
                                   "timezone": self.config_value("TIMEZONE", None) or UTC}
        return scheduler_class(**options)

    @property
    def cluster_lock(self) -> ClusterLock | None:
        """The lock that makes each run happen once per cluster (``None``: every
        process runs every job), from ``CLUSTER_LOCK``."""
        if not self._lock_ready:
            value = self.config_value("CLUSTER_LOCK", None)
            if value is None or isinstance(value, ClusterLock):
                self._lock = value
            else:
                prefix = self.config_value("LOCK_PREFIX", "dyne:scheduler:")
                self._lock = RedisClusterLock(value, prefix=prefix,
                                              ttl=self.config_value("LOCK_TTL", 300, cast=int))
            self._lock_ready = True
        return self._lock

    # -- lifecycle ----------------------------------------------------------------

    def scheduled_methods(self) -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
        """``(id, bound method, declaration)`` for every ``@schedule_job`` method."""
        found = []
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for attribute, value in vars(klass).items():
                declaration = getattr(value, _SCHEDULE_ATTRIBUTE, None)
                if declaration is None or attribute in seen:
                    continue
                seen.add(attribute)
                job_id = declaration["id"] or f"{type(self).__qualname__}.{attribute}"
                found.append((job_id, getattr(self, attribute), declaration))
        return found

    async def on_startup(self) -> None:
        for job_id, method, declaration in self.scheduled_methods():
            self._add_job(method, (declaration["trigger"],),
                          {"id": job_id, "name": declaration["name"] or job_id,
                           "replace_existing": True, **declaration["options"]},
                          declaration["cluster"], wrap=True)
        if not self.scheduler.running:
            self.scheduler.start()

    async def on_shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._lock is not None:
            await self._lock.close()
            self._lock_ready = False
            self._lock = None

    # -- jobs ---------------------------------------------------------------------

    def add_job(self, func: Callable[..., Any], *args: Any, cluster: bool | None = None,
                **kwargs: Any) -> Any:
        """Add a job (APScheduler's ``add_job(func, trigger=None, args=None,
        kwargs=None, id=None, ...)``) and return it. With a ``CLUSTER_LOCK``,
        each run is claimed first unless ``cluster=False``."""
        return self._add_job(func, args, kwargs, cluster, wrap=False)

    def _add_job(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 cluster: bool | None, wrap: bool) -> Any:
        trigger = args[0] if args else kwargs.get("trigger")
        lock = self.cluster_lock if cluster is not False else None
        if lock is not None and trigger == "interval" and "start_date" not in kwargs:
            kwargs["start_date"] = CLUSTER_ORIGIN
        if lock is not None or wrap:
            job_id = kwargs.get("id") or uuid.uuid4().hex
            kwargs["id"] = job_id
            kwargs.setdefault("name", getattr(func, "__qualname__", job_id))
            func = self._wrapped(func, job_id, lock)
        return self.scheduler.add_job(func, *args, **kwargs)

    def _wrapped(self, func: Callable[..., Any], job_id: str,
                 lock: ClusterLock | None) -> Callable[..., Any]:
        async def run_once_per_cluster(*args: Any, **kwargs: Any) -> Any:
            job = self.scheduler.get_job(job_id)
            now = datetime.now(UTC)
            run_time = None
            if job is not None:
                grace = job.misfire_grace_time or 60
                run_time = latest_run_time(job.trigger, now, lookback=max(60.0, float(grace)))
            if run_time is None:
                run_time = now.replace(microsecond=0)
            run_time = run_time.astimezone(UTC)
            if lock is not None:
                try:
                    claimed = await lock.claim(job_id, run_time)
                except Exception:
                    logger.exception("Could not claim run %s of job %r: skipped", run_time, job_id)
                    return None
                if not claimed:
                    logger.debug("Run %s of job %r belongs to another process", run_time, job_id)
                    return None
            token = _RUN_TIME.set(run_time)
            try:
                if is_async_callable(func):
                    return await func(*args, **kwargs)
                return await run_sync(func, *args, **kwargs)
            finally:
                _RUN_TIME.reset(token)

        run_once_per_cluster.__qualname__ = getattr(func, "__qualname__", job_id)
        run_once_per_cluster.__wrapped__ = func  # type: ignore[attr-defined]
        return run_once_per_cluster

    @staticmethod
    def _job_id(job: Any) -> str:
        return job if isinstance(job, str) else job.id

    def remove_job(self, job: Any, job_store: str | None = None) -> None:
        """Remove a job, by id or ``Job``."""
        self.scheduler.remove_job(self._job_id(job), job_store)

    def pause_job(self, job: Any, job_store: str | None = None) -> Any:
        """Stop running a job until ``resume_job``."""
        return self.scheduler.pause_job(self._job_id(job), job_store)

    def resume_job(self, job: Any, job_store: str | None = None) -> Any:
        """Run a paused job again on its schedule."""
        return self.scheduler.resume_job(self._job_id(job), job_store)

    def get_job(self, job_id: str, job_store: str | None = None) -> Any:
        """The ``Job`` with this id, or ``None``."""
        return self.scheduler.get_job(job_id, job_store)

    def get_jobs(self, job_store: str | None = None) -> list[Any]:
        """All jobs."""
        return list(self.scheduler.get_jobs(job_store))

    def run_background_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``func(*args, **kwargs)`` now without waiting for it (fire and
        forget), on ``app.background``: async functions as tasks, sync ones in
        a thread; the app waits for them at shutdown. Returns the future."""
        return self.require_app().background.run(func, *args, **kwargs)
