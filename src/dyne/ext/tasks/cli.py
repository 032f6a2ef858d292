"""``dyne worker``: run the app's durable tasks (``dyne.ext.tasks``).

::

    dyne --app myproject.main:app worker --concurrency 20 --processes 2

The worker imports the app, runs its start-up (so extensions such as the
database or the email client are ready inside tasks), and consumes the queue
of its ``TaskQueue`` until SIGINT or SIGTERM; then it runs the app's shutdown.

This module is a plugin of the ``dyne`` command line (entry point group
``dyne.cli``): it imports only click here; taskiq is imported when a worker
starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from typing import Any

import click

from dyne.cli import CLIContext, cli

__all__ = ["run_worker", "worker"]


def find_queue(app: Any, name: str) -> Any:
    from dyne.ext.tasks import TaskQueue

    queue = getattr(app, "extensions", {}).get(name)
    if not isinstance(queue, TaskQueue):
        found = [key for key, ext in getattr(app, "extensions", {}).items() if isinstance(ext, TaskQueue)]
        hint = f" (this app has: {', '.join(found)})" if found else \
            ": create one with `tasks = TaskQueue(app)` (from dyne.ext.tasks)"
        raise click.ClickException(f"The app has no task queue named {name!r}{hint}")
    return queue


async def run_worker(app: Any, queue: Any, concurrency: int = 10,
                     stop: asyncio.Event | None = None) -> None:
    """Consume ``queue`` with up to ``concurrency`` tasks at a time, inside the
    app's lifespan, until ``stop`` is set (or SIGINT/SIGTERM)."""
    from taskiq.acks import AcknowledgeType
    from taskiq.api import run_receiver_task

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    queue.worker_mode = True
    queue.concurrency = concurrency
    async with app.lifespan_context():
        receiver = asyncio.create_task(run_receiver_task(
            queue.broker, max_async_tasks=concurrency, max_prefetch=0,
            ack_time=AcknowledgeType.WHEN_SAVED, run_startup=False, propagate_exceptions=True))
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({receiver, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        receiver.cancel()
        try:
            await receiver
        except asyncio.CancelledError:
            pass
        if receiver in done and receiver.exception() is not None:  # pragma: no cover
            raise receiver.exception()  # type: ignore[misc]


@cli.command("worker")
@click.option("--queue", "queue_name", default="tasks", show_default=True,
              help="The TaskQueue to consume (its key in app.extensions).")
@click.option("--concurrency", "-c", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="Tasks run at the same time by each process.")
@click.option("--processes", "-p", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Worker processes to start.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.pass_obj
def worker(obj: CLIContext, queue_name: str, concurrency: int, processes: int, log_level: str) -> None:
    """Run workers for the app's durable tasks."""
    logging.basicConfig(level=log_level.upper(),
                        format=f"%(asctime)s [{os.getpid()}] %(levelname)s %(name)s: %(message)s")
    if processes > 1:
        _run_processes(obj, queue_name, concurrency, processes, log_level)
        return
    app = obj.load_app()
    queue = find_queue(app, queue_name)
    click.echo(f"dyne worker {os.getpid()}: queue {queue_name!r}, {len(queue.tasks)} task(s), "
               f"concurrency {concurrency}", err=True)
    asyncio.run(run_worker(app, queue, concurrency))


def _run_processes(obj: CLIContext, queue_name: str, concurrency: int, processes: int,
                   log_level: str) -> None:
    command = [sys.executable, "-m", "dyne", "--app", obj.app_path, "worker", "--queue", queue_name,
               "--concurrency", str(concurrency), "--log-level", log_level]
    children = [subprocess.Popen(command) for _ in range(processes)]

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    if any(codes):
        raise SystemExit(max(abs(code) for code in codes))
