"""The application the durable-queue tests run: imported by the test process
(the web side) and by `dyne worker` subprocesses (the workers). Its settings
come from the environment the test sets."""

import asyncio
import os

import redis.asyncio as aioredis

import dyne
from dyne.ext.email import EmailClient
from dyne.ext.tasks import TaskQueue, current_task

PREFIX = os.environ["JOB_PREFIX"]
REDIS_URL = os.environ["REDIS_URL"]

app = dyne.App()
app.config["TASKS"] = {
    "BROKER": os.environ["BROKER_URL"],
    "RESULT_BACKEND": REDIS_URL,
    "QUEUE": os.environ["QUEUE"],
    "KEY_PREFIX": PREFIX,
    "REDELIVERY_TIMEOUT": 2,
    "RETRY_DELAY": 0.2,
    "RETRY_BACKOFF": 2,
    "MAX_RETRY_DELAY": 1,
}
app.config["EMAIL_CLIENT"] = {
    "SENDER_NAME_OR_ADDRESS": "Shop <shop@example.com>",
    "SMTP_SERVER": "127.0.0.1",
    "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
    "USE_TLS": False,
    "TIMEOUT": 2,
}
tasks = TaskQueue(app)
email = EmailClient(app)
send_email = tasks.email_task(email, retries=30)


def store():
    return aioredis.from_url(REDIS_URL)


@tasks.task
async def charge(order_id: int) -> str:
    r = store()
    try:
        await r.rpush(PREFIX + "starts", os.getpid())
        # A worker told to be slow is the one the test kills mid-task.
        await asyncio.sleep(float(await r.get(PREFIX + "sleep") or 0))
        # The effect, made idempotent with the task's key (as a unique
        # constraint in a database would).
        if await r.set(PREFIX + "effect:" + current_task().idempotency_key, os.getpid(), nx=True):
            await r.incr(PREFIX + "charged")
    finally:
        await r.aclose()
    return f"charged order {order_id}"


@tasks.task(retries=3)
async def flaky(value: int) -> int:
    r = store()
    try:
        await r.rpush(PREFIX + "attempts", f"{current_task().attempt}:{asyncio.get_running_loop().time()}")
    finally:
        await r.aclose()
    if current_task().attempt < 3:
        raise ConnectionError("not yet")
    return value * 2


@tasks.task(retries=1, name="always.fails")
def always_fails(reason: str) -> None:
    raise RuntimeError(reason)


@app.route("/orders/{order_id:int}", methods=["POST"])
async def order(req, resp, *, order_id):
    job = await charge.enqueue(order_id, idempotency_key=f"order:{order_id}")
    resp.media = {"task": job.task_id, "duplicate": job.duplicate}


@app.route("/tasks/{task_id}")
async def status(req, resp, *, task_id):
    resp.media = await tasks.job(task_id).info()


@app.route("/tasks/{task_id}/wait")
async def wait(req, resp, *, task_id):
    resp.media = {"result": await tasks.job(task_id).wait(timeout=20)}
