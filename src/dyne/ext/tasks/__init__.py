"""Durable background tasks on taskiq: Redis streams or RabbitMQ, run by
``dyne worker`` processes.

::

    from dyne.ext.tasks import TaskQueue

    app.config["TASKS"] = {"BROKER": "redis://127.0.0.1:6379/0"}
    tasks = TaskQueue(app)

    @tasks.task(retries=5)
    async def resize(image_id: int) -> str:
        ...
        return "done"

    @app.route("/images/{image_id:int}", methods=["POST"])
    async def upload(req, resp, *, image_id):
        job = await resize.enqueue(image_id, idempotency_key=f"resize:{image_id}")
        resp.media = {"task": job.task_id}

    @app.route("/tasks/{task_id}")
    async def status(req, resp, *, task_id):
        resp.media = await tasks.job(task_id).info()

Workers run with ``dyne --app myapp:app worker --concurrency 20 --processes 2``.

Delivery is at least once: a message is acknowledged after the task finished
and its result was stored, so a worker that dies mid-task leaves it to another
worker (RabbitMQ redelivers when the connection drops; Redis hands unacknowledged
stream entries to another consumer after ``REDELIVERY_TIMEOUT`` seconds).
A failing task is retried with exponential backoff; after the last attempt it
goes to the dead-letter list (``await tasks.dead_letters()``). An
``idempotency_key`` makes enqueuing the same work twice a no-op and skips a
redelivered task whose key already completed.

Configuration (``TASKS``): ``BROKER`` (``memory://``, ``redis://...`` or
``amqp://...``), ``RESULT_BACKEND`` (a Redis URL; by default the broker's when
it is Redis), ``QUEUE``, ``RETRIES`` (attempts after the first, 3),
``RETRY_DELAY`` (1 s), ``RETRY_BACKOFF`` (2.0), ``MAX_RETRY_DELAY`` (60 s),
``REDELIVERY_TIMEOUT`` (600 s, Redis), ``RESULT_TTL`` and ``IDEMPOTENCY_TTL``
(1 day), ``KEY_PREFIX``, ``SHUTDOWN_TIMEOUT`` (10 s: how long the app waits at
shutdown for tasks running in-process with the memory broker). taskiq and the broker libraries are imported on
first use.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ...concurrency import is_async_callable, run_sync
from ...extensions import Extension

if TYPE_CHECKING:
    from ...app import App

__all__ = [
    "Job",
    "Task",
    "TaskContext",
    "TaskFailed",
    "TaskQueue",
    "TaskTimeout",
    "current_task",
]

logger = logging.getLogger("dyne.tasks")

R = TypeVar("R")


class TaskFailed(Exception):
    """The task ended in an error (after its retries): ``error`` describes it."""

    def __init__(self, task_id: str, error: str) -> None:
        super().__init__(f"Task {task_id} failed: {error}")
        self.task_id = task_id
        self.error = error


class TaskTimeout(TimeoutError):
    """``Job.wait`` gave up before the task finished."""


@dataclass(frozen=True)
class TaskContext:
    """What a running task knows about itself (``current_task()``)."""

    task_id: str
    name: str
    attempt: int
    idempotency_key: str | None


_CURRENT: ContextVar[TaskContext | None] = ContextVar("dyne_current_task", default=None)
_MESSAGE: ContextVar[Any] = ContextVar("dyne_task_message", default=None)


def current_task() -> TaskContext:
    """The task running now (in a task function), with its attempt number and
    idempotency key."""
    context = _CURRENT.get()
    if context is None:
        raise RuntimeError("current_task() is only available inside a running task")
    return context


# -- stores: idempotency keys and dead letters ----------------------------------------------


class _MemoryStore:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.done: set[str] = set()
        self.dead: list[dict[str, Any]] = []

    async def claim_key(self, key: str, task_id: str, ttl: int) -> str | None:
        existing = self.keys.get(key)
        if existing is None:
            self.keys[key] = task_id
        return existing

    async def is_done(self, key: str) -> bool:
        return key in self.done

    async def mark_done(self, key: str, ttl: int) -> None:
        self.done.add(key)

    async def add_dead(self, record: dict[str, Any]) -> None:
        self.dead.append(record)

    async def dead_letters(self) -> list[dict[str, Any]]:
        return list(self.dead)

    async def remove_dead(self, task_id: str) -> dict[str, Any] | None:
        for record in self.dead:
            if record["task_id"] == task_id:
                self.dead.remove(record)
                return record
        return None

    async def close(self) -> None:
        pass


class _RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self.client: Any = aioredis.from_url(url)
        self.prefix = prefix

    async def claim_key(self, key: str, task_id: str, ttl: int) -> str | None:
        name = f"{self.prefix}key:{key}"
        if await self.client.set(name, task_id, nx=True, ex=ttl):
            return None
        existing = await self.client.get(name)
        return existing.decode() if existing is not None else None

    async def is_done(self, key: str) -> bool:
        return bool(await self.client.exists(f"{self.prefix}done:{key}"))

    async def mark_done(self, key: str, ttl: int) -> None:
        await self.client.set(f"{self.prefix}done:{key}", "1", ex=ttl)

    async def add_dead(self, record: dict[str, Any]) -> None:
        await self.client.rpush(f"{self.prefix}dead", json.dumps(record, default=str))

    async def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(item) for item in await self.client.lrange(f"{self.prefix}dead", 0, -1)]

    async def remove_dead(self, task_id: str) -> dict[str, Any] | None:
        for item in await self.client.lrange(f"{self.prefix}dead", 0, -1):
            record = json.loads(item)
            if record["task_id"] == task_id and await self.client.lrem(f"{self.prefix}dead", 1, item):
                return record  # type: ignore[no-any-return]
        return None

    async def close(self) -> None:
        await self.client.aclose()


# -- tasks and jobs -------------------------------------------------------------------------


class Job(Generic[R]):
    """A task that was enqueued: await its result or poll its state."""

    def __init__(self, queue: TaskQueue, task_id: str, duplicate: bool = False) -> None:
        self.queue = queue
        self.task_id = task_id
        #: ``True`` when an idempotency key matched an earlier job (nothing was enqueued).
        self.duplicate = duplicate

    def __repr__(self) -> str:
        return f"<Job {self.task_id}>"

    async def ready(self) -> bool:
        """Whether the task finished (successfully or not)."""
        return bool(await self.queue.broker.result_backend.is_result_ready(self.task_id))

    async def info(self) -> dict[str, Any]:
        """``{"id", "state": "pending"|"succeeded"|"failed", "result"?, "error"?}``:
        for a status view that clients poll."""
        if not await self.ready():
            return {"id": self.task_id, "state": "pending"}
        result = await self.queue.broker.result_backend.get_result(self.task_id)
        if result.is_err:
            return {"id": self.task_id, "state": "failed", "error": _describe(result.error)}
        return {"id": self.task_id, "state": "succeeded", "result": result.return_value}

    async def wait(self, timeout: float = 30.0, interval: float = 0.05) -> R:
        """The task's return value, once it finished; ``TaskFailed`` when it
        failed, ``TaskTimeout`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not await self.ready():
            if time.monotonic() >= deadline:
                raise TaskTimeout(f"Task {self.task_id} did not finish within {timeout}s")
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 0.5)
        result = await self.queue.broker.result_backend.get_result(self.task_id)
        if result.is_err:
            raise TaskFailed(self.task_id, _describe(result.error))
        return result.return_value  # type: ignore[no-any-return]


def _describe(error: Any) -> str:
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return str(error)


class Task(Generic[R]):
    """A function declared with ``@tasks.task``. Calling it runs it here and
    now; ``await task.enqueue(...)`` sends it to the workers."""

    def __init__(self, queue: TaskQueue, func: Callable[..., Any], name: str, retries: int | None,
                 retry_delay: float | None, retry_backoff: float | None, timeout: float | None,
                 retry_on: tuple[type[BaseException], ...]) -> None:
        self.queue = queue
        self.func = func
        self.name = name
        self.retries = retries
        self.retry_delay = retry_delay
        self.retry_backoff = retry_backoff
        self.timeout = timeout
        self.retry_on = retry_on
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    async def enqueue(self, *args: Any, idempotency_key: str | None = None,
                      **kwargs: Any) -> Job[R]:
        """Send ``func(*args, **kwargs)`` to the queue and return its ``Job``.
        Arguments must be JSON-serializable. With ``idempotency_key``, a second
        enqueue of the same key (within ``IDEMPOTENCY_TTL``) returns the first
        job and sends nothing."""
        return await self.queue.enqueue(self, args, kwargs, idempotency_key=idempotency_key)

    async def run(self, *args: Any, **kwargs: Any) -> R:
        """Run the function here (sync functions in a thread), as a worker would."""
        if is_async_callable(self.func):
            return await self.func(*args, **kwargs)  # type: ignore[no-any-return]
        return await run_sync(self.func, *args, **kwargs)


# -- the extension --------------------------------------------------------------------------


class TaskQueue(Extension):
    """Declares durable tasks and sends them to a taskiq broker; see the module
    documentation for the ``TASKS`` configuration."""

    name = "tasks"
    configs_name = "TASKS"

    def __init__(self, app: App | None = None, *, configs_name: str | None = None,
                 variable_prefix: str = "", broker: Any = None) -> None:
        self.tasks: dict[str, Task[Any]] = {}
        self._broker: Any = broker
        self._store: Any = None
        self._started = False
        #: Set by ``dyne worker`` before start-up: this process consumes tasks,
        #: ``concurrency`` at a time (RabbitMQ prefetches as many, unless PREFETCH is set).
        self.worker_mode = False
        self.concurrency = 10
        super().__init__(app, configs_name=configs_name, variable_prefix=variable_prefix)

    # -- declaring ------------------------------------------------------------------

    def task(self, func: Callable[..., Any] | None = None, *, name: str | None = None,
             retries: int | None = None, retry_delay: float | None = None,
             retry_backoff: float | None = None, timeout: float | None = None,
             retry_on: Sequence[type[BaseException]] = (Exception,)) -> Any:
        """Declare a task (``@tasks.task`` or ``@tasks.task(retries=5, ...)``).
        ``name`` defaults to ``module.function``; it is how workers find the
        function, so keep it stable across deployments."""

        def declare(function: Callable[..., Any]) -> Task[Any]:
            task_name = name or f"{function.__module__}.{function.__qualname__}"
            if task_name in self.tasks:
                raise ValueError(f"A task named {task_name!r} is already declared")
            task: Task[Any] = Task(self, function, task_name, retries, retry_delay, retry_backoff,
                                   timeout, tuple(retry_on))
            self.tasks[task_name] = task
            if self._broker is not None:
                self._register(task)
            return task

        return declare(func) if func is not None else declare

    # -- configuration ------------------------------------------------------------------

    def _setting(self, key: str, default: Any, cast: Any = None) -> Any:
        if self.app is None:
            return default
        return self.config_value(key, default, cast=cast)

    @property
    def prefix(self) -> str:
        return str(self._setting("KEY_PREFIX", f"dyne:tasks:{self._setting('QUEUE', 'dyne')}:"))

    @property
    def broker(self) -> Any:
        """The taskiq broker (made from the config on first use)."""
        if self._broker is None:
            self._broker = self._make_broker()
            for task in self.tasks.values():
                self._register(task)
        return self._broker

    def _make_broker(self) -> Any:
        try:
            import taskiq
        except ModuleNotFoundError:  # pragma: no cover - depends on the environment
            raise ImportError('Durable tasks need taskiq: pip install "dyne[tasks]"') from None
        url = str(self._setting("BROKER", "memory://"))
        queue = str(self._setting("QUEUE", "dyne"))
        result_url = self._setting("RESULT_BACKEND", None)
        result_ttl = self._setting("RESULT_TTL", 86400, cast=int)
        broker: Any
        if url.startswith("memory://"):
            broker = taskiq.InMemoryBroker()
        elif url.startswith(("redis://", "rediss://", "unix://")):
            from .brokers import redis_stream_broker

            broker = redis_stream_broker(
                url, queue_name=f"{self.prefix}stream", consumer_group_name=f"{queue}-workers",
                consumer_id="0",
                idle_timeout=int(float(self._setting("REDELIVERY_TIMEOUT", 600)) * 1000),
                xread_block=1000)
            result_url = result_url or url
        elif url.startswith(("amqp://", "amqps://")):
            from taskiq_aio_pika import AioPikaBroker
            from taskiq_aio_pika.exchange import Exchange
            from taskiq_aio_pika.queue import Queue

            broker = AioPikaBroker(url, exchange=Exchange(name=f"{queue}.exchange"),
                                   task_queues=[Queue(name=queue)],
                                   dead_letter_queue=Queue(name=f"{queue}.dead_letter"),
                                   qos=int(self._setting("PREFETCH", self.concurrency)))
        else:
            raise ValueError(f"TASKS BROKER must be memory://, redis:// or amqp:// (got {url!r})")
        if result_url:
            from taskiq_redis import RedisAsyncResultBackend

            broker = broker.with_result_backend(RedisAsyncResultBackend(
                str(result_url), result_ex_time=result_ttl, prefix_str=f"{self.prefix}result"))
            self._store = _RedisStore(str(result_url), self.prefix)
        elif url.startswith("memory://"):
            self._store = _MemoryStore()
        return broker.with_middlewares(_DyneMiddleware(self))

    @property
    def store(self) -> Any:
        self.broker  # noqa: B018 - makes the store with the broker
        if self._store is None:
            raise RuntimeError("Idempotency keys and dead letters need a Redis store: set "
                               "TASKS['RESULT_BACKEND'] to a redis:// URL")
        return self._store

    def _register(self, task: Task[Any]) -> None:
        queue = self

        async def execute(*args: Any, **kwargs: Any) -> Any:
            return await queue._execute(task, args, kwargs)

        execute.__name__ = task.func.__name__
        labels: dict[str, Any] = {}
        if task.timeout is not None:
            labels["timeout"] = task.timeout
        self.broker.register_task(execute, task_name=task.name, **labels)

    # -- lifecycle ----------------------------------------------------------------------

    async def on_startup(self) -> None:
        _quiet_taskiq_failure_log()
        broker = self.broker
        broker.is_worker_process = self.worker_mode
        await broker.startup()
        self._started = True

    async def on_shutdown(self) -> None:
        if not self._started:
            return
        self._started = False
        running = getattr(self._broker, "_running_tasks", None)
        if running:  # the memory broker: tasks of this process, waited for a while
            timeout = float(self._setting("SHUTDOWN_TIMEOUT", 10.0))
            _, pending = await asyncio.wait(set(running), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("%d in-process task(s) still running after %ss: cancelled",
                               len(pending), timeout)
                await asyncio.gather(*pending, return_exceptions=True)
        await self._broker.shutdown()
        if self._store is not None:
            await self._store.close()
            # Connections belong to the loop that made them; a restart makes new ones.
            if isinstance(self._store, _RedisStore):
                self._broker = None
                self._store = None

    async def _ensure_started(self) -> None:
        if not self._started:
            await self.on_startup()

    # -- sending and results ----------------------------------------------------------

    async def enqueue(self, task: Task[Any] | str, args: Sequence[Any] = (),
                      kwargs: Mapping[str, Any] | None = None, *,
                      idempotency_key: str | None = None) -> Job[Any]:
        """Send a task (a ``Task`` or a task name) to the queue."""
        await self._ensure_started()
        name = task.name if isinstance(task, Task) else task
        if name not in self.tasks:
            raise LookupError(f"No task named {name!r} is declared on this queue")
        task_id = uuid.uuid4().hex
        labels: dict[str, Any] = {"_attempt": 1}
        if idempotency_key is not None:
            if not isinstance(idempotency_key, str) or not idempotency_key or len(idempotency_key) > 512:
                raise ValueError("idempotency_key must be a non-empty string of at most 512 characters")
            ttl = self._setting("IDEMPOTENCY_TTL", 86400, cast=int)
            existing = await self.store.claim_key(idempotency_key, task_id, ttl)
            if existing is not None:
                return Job(self, existing, duplicate=True)
            labels["idempotency_key"] = idempotency_key
        from taskiq.kicker import AsyncKicker

        kicker: Any = AsyncKicker(task_name=name, broker=self.broker, labels=labels)
        await kicker.with_task_id(task_id).kiq(*args, **dict(kwargs or {}))
        return Job(self, task_id)

    def job(self, task_id: str) -> Job[Any]:
        """The ``Job`` of a task id (from a client polling a status URL)."""
        return Job(self, task_id)

    async def dead_letters(self) -> list[dict[str, Any]]:
        """Tasks that failed their last attempt: ``task_id``, ``task_name``,
        ``args``, ``kwargs``, ``error``, ``attempts``, ``failed_at``."""
        await self._ensure_started()
        return await self.store.dead_letters()  # type: ignore[no-any-return]

    async def retry_dead_letter(self, task_id: str) -> Job[Any]:
        """Take a dead letter off the list and enqueue it again (a new job)."""
        await self._ensure_started()
        record = await self.store.remove_dead(task_id)
        if record is None:
            raise LookupError(f"No dead letter with task id {task_id!r}")
        return await self.enqueue(record["task_name"], record["args"], record["kwargs"])

    # -- running (worker side) -----------------------------------------------------------

    async def _execute(self, task: Task[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from taskiq.exceptions import NoResultError

        message = _MESSAGE.get()
        labels = message.labels if message is not None else {}
        key = labels.get("idempotency_key")
        key = str(key) if key not in (None, "") else None
        if key is not None and await self.store.is_done(key):
            logger.info("Task %s (%s) already completed for key %r: skipped", task.name,
                        message.task_id, key)
            raise NoResultError()
        context = TaskContext(task_id=message.task_id if message is not None else "",
                              name=task.name, attempt=int(labels.get("_attempt", 1)),
                              idempotency_key=key)
        token = _CURRENT.set(context)
        try:
            return await task.run(*args, **kwargs)
        finally:
            _CURRENT.reset(token)

    def retry_delay(self, task: Task[Any], attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        base = task.retry_delay if task.retry_delay is not None else float(
            self._setting("RETRY_DELAY", 1.0))
        factor = task.retry_backoff if task.retry_backoff is not None else float(
            self._setting("RETRY_BACKOFF", 2.0))
        return float(min(base * factor ** (attempt - 1), float(self._setting("MAX_RETRY_DELAY", 60.0))))

    def max_attempts(self, task: Task[Any]) -> int:
        retries = task.retries if task.retries is not None else int(self._setting("RETRIES", 3))
        return 1 + max(0, retries)

    # -- email through the queue ----------------------------------------------------------

    def email_task(self, client: Any, *, name: str = "dyne.send_email", **options: Any) -> Task[Any]:
        """A durable task that sends email with ``client`` (an ``EmailClient``),
        retried with backoff while the SMTP server is unreachable::

            send_email = tasks.email_task(email_client, retries=10)
            await send_email.enqueue("ada@example.com", "Welcome", "Hello!")
            await send_email.enqueue("ada@example.com", "Welcome", template="welcome.html",
                                     context={"name": "Ada"})

        Attachments are ``{filename: bytes}`` as with ``send_email``. A refusal
        that will not change (a bad login, rejected recipients) is not retried:
        it goes to the dead letters at once."""
        from ..email import EmailDeliveryError, EmailHeaderError

        async def send_email(to_address: str | list[str], subject: str, body: str | None = None,
                             attachments: dict[str, str] | None = None, *,
                             template: str | None = None, context: dict[str, Any] | None = None,
                             **extra: Any) -> str:
            files = {filename: base64.b64decode(data) for filename, data in (attachments or {}).items()}
            try:
                if template is not None:
                    message = await client.send_email_with_template(to_address, subject, template,
                                                                    files or None, context, **extra)
                else:
                    message = await client.send_email(to_address, subject, body or "", files or None,
                                                      **extra)
            except EmailDeliveryError as exc:
                if not exc.temporary:
                    raise _Permanent(str(exc)) from exc
                raise
            except EmailHeaderError as exc:
                raise _Permanent(str(exc)) from exc
            return str(message["Message-ID"])

        task: Task[Any] = self.task(send_email, name=name, **options)
        original = task.enqueue

        async def enqueue(to_address: str | list[str], subject: str, body: str | None = None,
                          attachments: Mapping[str, bytes] | None = None, *,
                          idempotency_key: str | None = None, **kwargs: Any) -> Job[Any]:
            encoded = {name: base64.b64encode(bytes(data)).decode("ascii")
                       for name, data in (attachments or {}).items()}
            return await original(to_address, subject, body, encoded or None,
                                  idempotency_key=idempotency_key, **kwargs)

        task.enqueue = enqueue  # type: ignore[method-assign, assignment]
        return task


class _TaskiqFailureFilter(logging.Filter):
    """Drops taskiq's traceback for each failed attempt: dyne logs failures on
    ``dyne.tasks`` (a warning per retried attempt, an error with the traceback
    at the last one), so a task failing many times does not flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Exception found while executing function."


_FAILURE_FILTER = _TaskiqFailureFilter()


def _quiet_taskiq_failure_log() -> None:
    receiver_logger = logging.getLogger("taskiq.receiver.receiver")
    if _FAILURE_FILTER not in receiver_logger.filters:
        receiver_logger.addFilter(_FAILURE_FILTER)


class _Permanent(Exception):
    """An error that retrying will not fix: straight to the dead letters."""


def _is_retryable(task: Task[Any], exception: BaseException) -> bool:
    if isinstance(exception, _Permanent):
        return False
    if getattr(exception, "temporary", True) is False:
        return False
    return isinstance(exception, task.retry_on)


def _middleware_base() -> type:
    from taskiq.abc.middleware import TaskiqMiddleware

    return TaskiqMiddleware


def _make_middleware_class() -> type:
    base = _middleware_base()

    class DyneMiddleware(base):  # type: ignore[misc, valid-type]
        """Current-task context, retries with backoff, dead letters, idempotency
        bookkeeping. The retry is enqueued before the failed attempt is
        acknowledged, so a crash during the backoff loses nothing."""

        def __init__(self, queue: TaskQueue) -> None:
            super().__init__()
            self.queue = queue

        def pre_execute(self, message: Any) -> Any:
            _MESSAGE.set(message)
            return message

        async def on_error(self, message: Any, result: Any, exception: BaseException) -> None:
            from taskiq.exceptions import NoResultError
            from taskiq.kicker import AsyncKicker

            if isinstance(exception, NoResultError):
                return
            queue = self.queue
            task = queue.tasks.get(message.task_name)
            if task is None:
                return
            attempt = int(message.labels.get("_attempt", 1))
            if _is_retryable(task, exception) and attempt < queue.max_attempts(task):
                delay = queue.retry_delay(task, attempt)
                logger.warning("Task %s (%s) failed on attempt %d (%s); retrying in %.2fs",
                               task.name, message.task_id, attempt, _describe(exception), delay)
                await asyncio.sleep(delay)
                labels = {**message.labels, "_attempt": attempt + 1}
                kicker: Any = AsyncKicker(task_name=message.task_name, broker=self.broker,
                                          labels=labels)
                await kicker.with_task_id(message.task_id).kiq(*message.args, **message.kwargs)
                result.error = NoResultError()  # no result yet: the job stays pending
                return
            logger.error("Task %s (%s) failed for good after %d attempt(s): %s", task.name,
                         message.task_id, attempt, _describe(exception), exc_info=exception)
            if queue._store is not None:
                await queue._store.add_dead({
                    "task_id": message.task_id, "task_name": message.task_name,
                    "args": list(message.args), "kwargs": dict(message.kwargs),
                    "error": _describe(exception), "attempts": attempt, "failed_at": time.time(),
                    "idempotency_key": message.labels.get("idempotency_key")})

        async def post_save(self, message: Any, result: Any) -> None:
            key = message.labels.get("idempotency_key")
            if key not in (None, "") and not result.is_err and self.queue._store is not None:
                ttl = self.queue._setting("IDEMPOTENCY_TTL", 86400, cast=int)
                await self.queue._store.mark_done(str(key), ttl)

    return DyneMiddleware


@functools.cache
def _middleware_class() -> type:
    return _make_middleware_class()


def _DyneMiddleware(queue: TaskQueue) -> Any:
    return _middleware_class()(queue)

