"""Two app servers (separate processes) behind a real HAProxy, sharing their
state on Redis: the acceptance behaviours of "many workers, many machines",
checked through the balancer.

The HAProxy configuration is the one in docs/scaling-out.md. Round robin
sends consecutive requests to alternating nodes; every response names the
node that answered (``X-Node``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import REDIS_URL, ROOT, free_port, serve_in_subprocess, service_unavailable, wait_for_port
from tests.ext.auth.clients import digest, digest_challenge
from tests.test_docs import code_blocks

pytestmark = [pytest.mark.multinode, pytest.mark.services, pytest.mark.server]

HAPROXY = os.environ.get("DYNE_HAPROXY", "/usr/sbin/haproxy")
LIMIT = 10


def haproxy_config() -> str:
    for _language, options, source, *_ in code_blocks(ROOT / "docs" / "scaling-out.md"):
        if options.get("file") == "haproxy.cfg":
            return source
    raise AssertionError("docs/scaling-out.md has no haproxy.cfg block")


@dataclass
class Cluster:
    url: str
    nodes: tuple[str, str]
    prefix: str


def check_services() -> None:
    if not (os.path.isfile(HAPROXY) or shutil.which(HAPROXY)):
        service_unavailable("HAProxy", f"no haproxy at {HAPROXY} (apt-get install haproxy)")
    try:
        import redis
    except ImportError:
        service_unavailable("Redis", "redis-py is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", f"{REDIS_URL}: {exc}")
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    check_services()
    import redis

    prefix = f"dyne-multinode:{uuid.uuid4().hex}:"
    ports = [free_port(), free_port()]
    lb_port = free_port()
    config = tmp_path_factory.mktemp("haproxy") / "haproxy.cfg"
    config.write_text(haproxy_config())
    common = {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix, "SECRET_KEY": "multinode-secret",
              "RATE_LIMIT": str(LIMIT), "RATE_LIMIT_TIMEOUT": "60"}

    def node(name: str, port: int):
        return serve_in_subprocess(
            [sys.executable, "-m", "uvicorn", "tests.multinode.node:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"], port, env={**common, "NODE_NAME": name})

    with node("node1", ports[0]), node("node2", ports[1]):
        env = {**os.environ, "LB_PORT": str(lb_port), "NODE1": f"127.0.0.1:{ports[0]}",
               "NODE2": f"127.0.0.1:{ports[1]}"}
        check = subprocess.run([HAPROXY, "-c", "-f", str(config)], env=env, capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        balancer = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_port(lb_port, process=balancer)
            url = f"http://127.0.0.1:{lb_port}"
            seen: set[str] = set()
            deadline = time.monotonic() + 20
            while seen != {"node1", "node2"} and time.monotonic() < deadline:
                answer = httpx.get(f"{url}/health", timeout=5)
                if answer.status_code == 200:
                    seen.add(answer.headers["x-node"])
            assert seen == {"node1", "node2"}, f"the balancer reached only {seen}"
            yield Cluster(url, ("node1", "node2"), prefix)
        finally:
            balancer.terminate()
            try:
                balancer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                balancer.kill()
                balancer.wait()
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=prefix + "*", count=500))
            if keys:
                client.delete(*keys)
            client.close()


def other(cluster: Cluster, node: str) -> str:
    return next(n for n in cluster.nodes if n != node)


def until_served_by(client: httpx.Client, node: str, method: str, path: str, **kwargs):
    """Send the request until ``node`` answers it (round robin: at most a few tries)."""
    for _ in range(6):
        answer = client.request(method, path, **kwargs)
        if answer.headers.get("x-node") == node:
            return answer
    raise AssertionError(f"{node} never answered {method} {path}")


def test_a_session_written_on_one_node_is_read_on_the_other(cluster):
    with httpx.Client(base_url=cluster.url, timeout=10) as client:
        written = client.post("/session/blue")
        assert written.status_code == 200 and "dyne-Session" in client.cookies
        read = until_served_by(client, other(cluster, written.headers["x-node"]), "GET", "/session")
        assert read.json() == {"value": "blue"}


def test_a_limit_admits_exactly_n_across_both_nodes_under_a_burst(cluster):
    async def burst():
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(base_url=cluster.url, timeout=20, limits=limits) as client:
            return await asyncio.gather(*(client.get("/limited") for _ in range(40)))

    answers = asyncio.run(burst())
    assert all("x-ratelimit-limit" in a.headers for a in answers)  # every one decided by Redis
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == LIMIT and statuses.count(429) == 40 - LIMIT
    assert {a.headers["x-node"] for a in answers} == set(cluster.nodes)
    admitted = sorted(int(a.headers["x-ratelimit-remaining"]) for a in answers if a.status_code == 200)
    assert admitted == list(range(LIMIT))


def test_a_cached_response_serves_both_nodes_and_invalidation_reaches_both(cluster):
    with httpx.Client(base_url=cluster.url, timeout=10) as client:
        answers = [client.get("/report") for _ in range(4)]
        assert {a.headers["x-node"] for a in answers} == set(cluster.nodes)
        assert all(a.json() == answers[0].json() for a in answers)
        assert answers[0].json()["computation"] == 1
        assert [a.headers["x-cache"] for a in answers] == ["miss", "hit", "hit", "hit"]
        invalidated = client.delete("/report")
        assert invalidated.status_code == 204
        after = until_served_by(client, other(cluster, invalidated.headers["x-node"]), "GET", "/report")
        assert after.headers["x-cache"] == "miss" and after.json()["computation"] == 2


def test_a_websocket_on_one_node_receives_what_the_other_publishes(cluster):
    from websockets.sync.client import connect

    ws_url = cluster.url.replace("http://", "ws://") + "/rooms/lobby"
    with connect(ws_url, open_timeout=10) as ws, httpx.Client(base_url=cluster.url, timeout=10) as client:
        ready = json.loads(ws.recv(timeout=10))
        assert ready["joined"] == "lobby"
        publisher = other(cluster, ready["node"])
        until_served_by(client, publisher, "POST", "/rooms/lobby", json={"text": "hello"})
        deadline = time.monotonic() + 10
        while True:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["from"] == publisher:
                break
        assert message == {"from": publisher, "text": "hello"}


def test_a_digest_nonce_used_on_one_node_is_refused_on_the_other(cluster):
    with httpx.Client(base_url=cluster.url, timeout=10) as client:
        challenge = digest_challenge(client.get("/private").headers["www-authenticate"])
        answer = digest(challenge, "john", "password", uri="/private", cnonce="c1", nc=1)
        used = client.get("/private", headers=answer)
        assert used.status_code == 200 and used.text == "hello john"
        replayed = until_served_by(client, other(cluster, used.headers["x-node"]), "GET", "/private",
                                   headers=answer)
        assert replayed.status_code == 401
        assert "stale=TRUE" in replayed.headers["www-authenticate"]
