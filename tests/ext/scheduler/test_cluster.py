"""Several app processes with the same @schedule_job: each run happens once
per cluster (CLUSTER_LOCK in Redis), not once per process."""

import contextlib
import math
import time
from collections import Counter

import pytest
import redis

from tests.conftest import free_port, python_executable, serve_in_subprocess

pytestmark = [pytest.mark.services, pytest.mark.server]

APP = '''
import os
import time

import redis

import dyne
from dyne.ext.scheduler import TaskManager, schedule_job, scheduled_time

PREFIX = os.environ["JOB_PREFIX"]
store = redis.Redis.from_url(os.environ["REDIS_URL"])


class Jobs(TaskManager):
    @schedule_job("interval", seconds=1, id="tick", cluster=os.environ["CLUSTER"] == "1")
    def tick(self):
        # The run's scheduled second, and who ran it.
        store.rpush(PREFIX + "runs", f"{int(scheduled_time().timestamp())}:{os.getpid()}")


app = dyne.App()
app.config["TASK_MANAGER"] = {"CLUSTER_LOCK": os.environ["REDIS_URL"], "LOCK_PREFIX": PREFIX + "lock:"}
Jobs(app)


@app.route("/health")
async def health(req, resp):
    resp.media = {"ok": True}
'''


def run_two_processes(tmp_path, redis_url, prefix, cluster, seconds=4.0):
    (tmp_path / "clustered.py").write_text(APP)
    env = {"REDIS_URL": redis_url, "JOB_PREFIX": prefix, "CLUSTER": "1" if cluster else "0",
           "PYTHONPATH": str(tmp_path)}
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as stack:
        processes = [stack.enter_context(serve_in_subprocess(
            [python_executable(), "-m", "uvicorn", "clustered:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"], port, env=env, cwd=tmp_path))
            for port in ports]
        # uvicorn listens after startup: both schedulers are running from here.
        start = time.time()
        time.sleep(seconds)
        end = time.time()
        pids = {str(p.pid) for p in processes}
    client = redis.Redis.from_url(redis_url)
    runs = [item.decode().split(":") for item in client.lrange(prefix + "runs", 0, -1)]
    client.close()
    # Ticks during which both processes were certainly running.
    ticks = range(math.ceil(start) + 1, math.floor(end))
    assert len(ticks) >= 2
    per_tick = Counter(int(tick) for tick, _ in runs)
    return [per_tick[tick] for tick in ticks], {pid for _, pid in runs}, pids


def test_two_processes_run_each_tick_once(tmp_path, redis_url, redis_prefix):
    counts, runners, pids = run_two_processes(tmp_path, redis_url, redis_prefix, cluster=True)
    assert counts == [1] * len(counts), f"runs per tick: {counts}"
    assert runners <= pids


def test_without_the_lock_every_process_runs_every_tick(tmp_path, redis_url, redis_prefix):
    # The control: cluster=False opts a job out, and then both processes run it.
    counts, runners, pids = run_two_processes(tmp_path, redis_url, redis_prefix, cluster=False)
    assert counts == [2] * len(counts), f"runs per tick: {counts}"
    assert runners == pids
