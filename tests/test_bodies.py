"""Bounded body decoding: per-format limits, accepted formats, off-loop decoding
(``dyne.bodies``), and a real server that keeps answering while it is fed
bodies built to be expensive."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dyne
from dyne.exceptions import HTTPException

from .conftest import free_port, serve_in_subprocess


def echo_app(**options) -> dyne.App:
    app = dyne.App(**options)

    @app.route("/echo", methods=["POST"])
    async def echo(req, resp):
        data = await req.media()
        resp.media = {"size": len(data)}

    return app


# -- limits per format ----------------------------------------------------------------------


def test_yaml_has_a_small_default_size_limit():
    client = echo_app().client
    small = b"[" + b"a, " * 100 + b"a]"
    assert client.post("/echo", content=small, headers={"content-type": "application/yaml"}
                       ).json() == {"size": 101}
    big = b"[" + b"a, " * 30_000 + b"a]"  # ~90 KB, over the 64 KiB default
    answer = client.post("/echo", content=big, headers={"content-type": "application/yaml"})
    assert answer.status_code == 413
    assert "limit for yaml" in answer.text


def test_yaml_node_count_is_limited():
    client = echo_app().client
    many = b"[" + b"a," * 20_000 + b"a]"  # 40 KB (under the size limit), 20,001 nodes
    answer = client.post("/echo", content=many, headers={"content-type": "application/yaml"})
    assert answer.status_code == 413
    assert "10000 values allowed for YAML" in answer.text


def test_json_value_count_is_limited_before_decoding():
    client = echo_app().client
    empties = b"[" + b"{}," * 300_000 + b"{}]"  # 900 KB, 300,001 objects
    answer = client.post("/echo", content=empties, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "values allowed for JSON" in answer.text
    fine = orjson.dumps([{"name": "x" * 20} for _ in range(1000)])
    assert client.post("/echo", content=fine, headers={"content-type": "application/json"}
                       ).json() == {"size": 1000}


def test_msgpack_container_count_is_limited():
    client = echo_app().client
    empties = msgpack.packb([{}] * 300_000)
    answer = client.post("/echo", content=empties, headers={"content-type": "application/msgpack"})
    assert answer.status_code == 413
    assert "values allowed for MessagePack" in answer.text
    fine = msgpack.packb([{"a": 1}] * 1000)
    assert client.post("/echo", content=fine, headers={"content-type": "application/msgpack"}
                       ).json() == {"size": 1000}


def test_json_size_limit_is_checked_against_content_length_first():
    client = echo_app(media_limits={"json": {"max_size": 1000}}).client
    answer = client.post("/echo", content=b"[" + b"1," * 1000 + b"1]",
                         headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "1000-byte limit" in answer.text


def test_limits_are_configurable():
    from dyne.bodies import DEFAULT_MEDIA_LIMITS, MediaLimit

    app = echo_app(media_limits={"yaml": MediaLimit(max_size=1024 * 1024, max_items=100_000)})
    big = b"[" + b"a, " * 30_000 + b"a]"
    assert app.client.post("/echo", content=big, headers={"content-type": "application/yaml"}
                           ).json() == {"size": 30_001}
    assert app.media_limits["json"] == DEFAULT_MEDIA_LIMITS["json"]
    with pytest.raises(ValueError, match="Unknown media format 'toml'"):
        dyne.App(media_limits={"toml": MediaLimit()})
    with pytest.raises(TypeError, match="Unknown MediaLimit field"):
        dyne.App(media_limits={"json": {"max_bytes": 1}})
    with pytest.raises(ValueError, match="non-negative"):
        MediaLimit(max_size=-1)


def test_a_limit_of_none_or_zero_is_honoured():
    from dyne.bodies import MediaLimit

    # None: no count (and, for the whole format, no limits at all).
    unlimited = echo_app(media_limits={"json": {"max_items": None}, "msgpack": {"max_items": None},
                                       "yaml": None}).client
    assert unlimited.post("/echo", json=[{}] * 50).json() == {"size": 50}
    assert unlimited.post("/echo", content=msgpack.packb([{}] * 50),
                          headers={"content-type": "application/msgpack"}).json() == {"size": 50}
    big = b"[" + b"a, " * 30_000 + b"a]"  # over YAML's default 64 KiB
    assert unlimited.post("/echo", content=big, headers={"content-type": "application/yaml"}
                          ).json() == {"size": 30_001}
    # Zero is a limit like any other: only an empty body gets through.
    assert MediaLimit(max_size=0, max_items=0) == MediaLimit(0, 0)
    nothing = echo_app(media_limits={"json": MediaLimit(max_size=0)}).client
    assert nothing.post("/echo", content=b"", headers={"content-type": "application/json"}
                        ).json() == {"size": 0}
    assert nothing.post("/echo", json=[]).status_code == 413


def test_media_limit_values_must_be_plain_non_negative_ints():
    from dyne.bodies import MediaLimit

    for bad in (True, "100", 1.5, -1):
        with pytest.raises(ValueError, match="must be a non-negative int or None"):
            MediaLimit(max_size=bad)
        with pytest.raises(ValueError, match="must be a non-negative int or None"):
            MediaLimit(max_items=bad)
    with pytest.raises(TypeError, match="media_limits must be a dict of format -> MediaLimit"):
        dyne.App(media_limits=[("json", MediaLimit())])
    with pytest.raises(TypeError, match=r"media_limits\['json'\] must be a MediaLimit or a dict"):
        dyne.App(media_limits={"json": 100})


def test_size_limit_holds_at_its_boundary_and_for_a_body_read_first():
    app = dyne.App(media_limits={"json": {"max_size": 10}})

    @app.route("/echo", methods=["POST"])
    async def echo(req, resp):
        data = await req.media()
        resp.media = {"size": len(data)}

    @app.route("/read-first", methods=["POST"])
    async def read_first(req, resp):
        raw = await req.content  # the body is read before req.media() sees it
        resp.media = {"bytes": len(raw), "size": len(await req.media())}

    client = app.client
    exactly = b"[1,2,3,4] "  # 10 bytes: at the limit, accepted
    for path in ("/echo", "/read-first"):
        answer = client.post(path, content=exactly, headers={"content-type": "application/json"})
        assert answer.status_code == 200, path
        assert answer.json()["size"] == 4
        over = client.post(path, content=b"[1,2,3,4,5]", headers={"content-type": "application/json"})
        assert over.status_code == 413, path
        assert "Request body larger than the 10-byte limit for json" in over.text


def test_json_count_refusal_names_the_limit():
    client = echo_app(media_limits={"json": {"max_items": 5}}).client
    answer = client.post("/echo", json=[[], [], [], [], []])
    assert answer.status_code == 413
    assert "more than the 5 values allowed for JSON" in answer.text


def test_msgpack_counts_every_map_and_array_while_decoding():
    client = echo_app(media_limits={"msgpack": {"max_items": 10}}).client

    def post(document):
        return client.post("/echo", content=msgpack.packb(document),
                           headers={"content-type": "application/msgpack"})

    padding = "p" * 20  # bodies longer than the limit, so that the count runs
    # 10 containers (the list and 9 inside it): exactly at the limit, accepted.
    assert post([padding, {"a": 1}, {}, [], [1], {"b": [2]}, [], {}, []]).json() == {"size": 9}
    # More than 10, whether maps or arrays, in containers that are each small: refused.
    for many in ([padding, [{}] * 6, [{}] * 6], [padding, [[]] * 6, [[]] * 6]):
        answer = post(many)
        assert answer.status_code == 413
        assert "more than the 10 values allowed for MessagePack" in answer.text
    # A single array or map that claims more entries than the limit, even of
    # plain values (not counted themselves), is refused from its header.
    for wide in ([0] * 11, {str(i): i for i in range(11)}):
        answer = post(wide)
        assert answer.status_code == 413
        assert "more than the 10 values allowed for MessagePack" in answer.text
    # A malformed body stays a 400, not a 413.
    answer = client.post("/echo", content=b"\xc1" * 20, headers={"content-type": "application/msgpack"})
    assert answer.status_code == 400
    assert "Malformed MessagePack" in answer.text


# -- formats per app and per route -------------------------------------------------------------


def test_formats_are_chosen_per_app():
    client = echo_app(media_formats=["json", "form"]).client
    assert client.post("/echo", json={"a": 1}).json() == {"size": 1}
    assert client.post("/echo", data={"a": "1"}).json() == {"size": 1}
    assert client.post("/echo", content=b"a: 1", headers={"content-type": "application/yaml"}
                       ).status_code == 415
    assert client.post("/echo", content=msgpack.packb({"a": 1}),
                       headers={"content-type": "application/msgpack"}).status_code == 415
    with pytest.raises(ValueError, match="Unknown media format"):
        dyne.App(media_formats=["xml"])


def test_formats_are_chosen_per_route():
    app = dyne.App()

    @app.route("/only-json", methods=["POST"], media_formats=["json"])
    async def only_json(req, resp):
        resp.media = await req.media()

    @app.route("/explicit", methods=["POST"], media_formats=["json"])
    async def explicit(req, resp):
        resp.media = await req.media("yaml")  # the view asked for YAML by name

    client = app.client
    assert client.post("/only-json", json={"a": 1}).json() == {"a": 1}
    assert client.post("/only-json", content=b"a: 1", headers={"content-type": "text/yaml"}
                       ).status_code == 415
    assert client.post("/only-json", data={"a": "1"}).status_code == 415
    assert client.post("/explicit", content=b"a: 1").json() == {"a": 1}


def test_one_format_may_be_named_as_a_string():
    client = echo_app(media_formats="JSON").client
    assert client.post("/echo", json={"a": 1}).json() == {"size": 1}
    assert client.post("/echo", content=b"a: 1", headers={"content-type": "application/yaml"}
                       ).status_code == 415


def test_route_formats_apply_to_input_validation_too():
    """``media_formats=`` is in force before any step that reads the body
    (here ``@input``), not only in the view."""
    from marshmallow import Schema, fields

    from dyne.ext.io.marshmallow import input

    class Point(Schema):
        x = fields.Int()

    app = dyne.App()

    @app.route("/point", methods=["POST"], media_formats=["json"], max_body_size=1000)
    @input(Point)
    async def point(req, resp, *, data):
        resp.media = data

    client = app.client
    assert client.post("/point", json={"x": 1}).json() == {"x": 1}
    assert client.post("/point", content=b"x: 1", headers={"content-type": "application/yaml"}
                       ).status_code == 415


# -- decoding off the event loop ------------------------------------------------------------------


def test_big_bodies_are_decoded_in_a_worker_thread():
    import dyne.bodies

    app = dyne.App()
    threads = []

    real = dyne.bodies.DECODERS["json"]

    def spy(body, max_items):
        threads.append(threading.current_thread() is threading.main_thread()
                       or threading.current_thread().name)
        return real(body, max_items)

    dyne.bodies.DECODERS["json"] = spy
    try:
        @app.route("/echo", methods=["POST"])
        async def echo(req, resp):
            resp.media = {"size": len(await req.media())}
            threads.append(threading.current_thread().name)

        client = app.client
        client.post("/echo", json={"small": 1})
        client.post("/echo", json={"big": "x" * 200_000})
    finally:
        dyne.bodies.DECODERS["json"] = real
    small_decoder, small_view, big_decoder, big_view = threads
    assert small_decoder == small_view  # small bodies: on the loop, no thread hop
    assert big_decoder != big_view  # big ones: in another (worker) thread


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=6)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=6), max_leaves=60),
       st.integers(min_value=1, max_value=80))
def test_json_count_never_lets_more_values_through(document, max_items):
    """The pre-count is an upper bound: whatever it lets through holds fewer
    values than the limit; what it refuses is a 413, never another error."""

    from dyne.bodies import decode_json

    def values(node) -> int:
        if isinstance(node, list):
            return 1 + sum(values(item) for item in node)
        if isinstance(node, dict):
            return 1 + sum(values(item) for item in node.values())
        return 1

    body = orjson.dumps(document)
    try:
        decoded = decode_json(body, max_items)
    except HTTPException as exc:
        assert exc.status_code == 413
    else:
        assert decoded == document
        assert values(document) <= max_items


# -- a real server under expensive bodies ------------------------------------------------------------

SERVER_APP = '''
import asyncio
import time

import dyne

app = dyne.App()
worst_stall = [0.0]
watchers = []


async def watch_the_loop():
    """The CPU time the process spends between two turns of this watcher: how
    long a request waits behind other work, whatever the machine's load adds."""
    while True:
        cpu = time.process_time()
        await asyncio.sleep(0.005)
        worst_stall[0] = max(worst_stall[0], time.process_time() - cpu)


@app.on_event("startup")
async def start_watching():
    watchers.append(asyncio.create_task(watch_the_loop()))


@app.route("/stall")
async def stall(req, resp):
    resp.media = {"worst": worst_stall[0]}
    worst_stall[0] = 0.0

@app.route("/ping")
async def ping(req, resp):
    resp.text = "pong"

@app.route("/echo", methods=["POST"])
async def echo(req, resp):
    data = await req.media()
    resp.media = {"size": len(data)}
'''

MB = 1024 * 1024


def _rss(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


PROBE = """
import json, sys, time, pathlib, httpx
url, stop = sys.argv[1], pathlib.Path(sys.argv[2])
latencies = []
with httpx.Client(base_url=url, timeout=120) as client:
    assert client.get("/ping").text == "pong"
    stop.with_suffix(".ready").touch()
    while not stop.exists():
        started = time.perf_counter()
        assert client.get("/ping").text == "pong"
        latencies.append(time.perf_counter() - started)
        time.sleep(0.005)
print(json.dumps(latencies))
"""


class LatencyProbe:
    """GET /ping in a loop from a process of its own (so the test's own
    threads do not add to what it measures), recording each latency."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.stop_file = tmp_path / f"stop-{time.monotonic_ns()}"
        self.process = subprocess.Popen([sys.executable, "-c", PROBE, url, str(self.stop_file)],
                                        stdout=subprocess.PIPE, text=True)
        ready = self.stop_file.with_suffix(".ready")
        deadline = time.monotonic() + 60
        while not ready.exists():  # imported and connected (slow on a busy machine)
            assert self.process.poll() is None and time.monotonic() < deadline, "probe did not start"
            time.sleep(0.02)

    def stop(self) -> list[float]:
        self.stop_file.touch()
        output, _ = self.process.communicate(timeout=150)
        return json.loads(output)


#: Bodies like the probe's (scaled from 15 MB to 3 MB to keep the test short),
#: plus a 1 MB body that is accepted and decoded.
EXPENSIVE_BODIES = {
    "yaml flow list": (b"[" + b"a, " * MB + b"a]", "application/yaml"),
    "msgpack empty maps": (b"\xdd" + (3 * MB).to_bytes(4, "big") + b"\x80" * (3 * MB),
                           "application/msgpack"),
    "json empty objects": (b"[" + b"{}," * MB + b"{}]", "application/json"),
    "json accepted": (orjson.dumps([{"name": "x" * 40} for _ in range(20_000)]),
                      "application/json"),
}
EXPECTED = {"yaml flow list": 413, "msgpack empty maps": 413, "json empty objects": 413,
            "json accepted": 200}


def _attack(url: str, client: httpx.Client, tmp_path: Path, pid: int) -> dict:
    """Each body in turn, then all four at once, while a probe pings."""
    probe = LatencyProbe(url, tmp_path)
    statuses = {}
    for name, (body, content_type) in EXPENSIVE_BODIES.items():
        answer = client.post("/echo", content=body, headers={"content-type": content_type})
        statuses[name] = answer.status_code
    sequential_peak = _rss(pid, "VmHWM")
    answers: list[int] = []

    def send(name: str) -> None:
        body, content_type = EXPENSIVE_BODIES[name]
        with httpx.Client(base_url=url, timeout=120) as other:
            answers.append(other.post("/echo", content=body,
                                      headers={"content-type": content_type}).status_code)

    senders = [threading.Thread(target=send, args=(name,)) for name in EXPENSIVE_BODIES]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=120)
    time.sleep(0.3)
    return {"statuses": statuses, "answers": sorted(answers), "loaded": probe.stop(),
            "sequential_peak": sequential_peak, "peak": _rss(pid, "VmHWM")}


def test_expensive_bodies_do_not_stall_the_server_or_its_memory(tmp_path):
    (tmp_path / "bodyapp.py").write_text(SERVER_APP)
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "bodyapp:app", "--port", str(port),
            "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    largest = max(len(body) for body, _ in EXPENSIVE_BODIES.values())
    together = sum(len(body) for body, _ in EXPENSIVE_BODIES.values())
    with (serve_in_subprocess(args, port, cwd=tmp_path) as process,
          httpx.Client(base_url=url, timeout=120) as client):
        client.get("/ping")
        time.sleep(0.5)
        quiet_stall = client.get("/stall").json()["worst"]
        rss_before = _rss(process.pid, "VmRSS")
        run = _attack(url, client, tmp_path, process.pid)
        stall = client.get("/stall").json()["worst"]
        print(f"\nlongest stall of the event loop, in server CPU time: {stall * 1000:.1f} ms "
              f"(quiet: {quiet_stall * 1000:.1f} ms); ping latency under the bodies: median "
              f"{statistics.median(run['loaded']) * 1000:.1f} ms, worst "
              f"{max(run['loaded']) * 1000:.1f} ms over {len(run['loaded'])} pings; peak RSS "
              f"growth {(run['sequential_peak'] - rss_before) / MB:.1f} MB one at a time (bodies "
              f"up to {largest / MB:.1f} MB), {(run['peak'] - rss_before) / MB:.1f} MB four at "
              f"once ({together / MB:.1f} MB)")

    assert run["statuses"] == EXPECTED
    assert run["answers"] == [200, 413, 413, 413]
    # The bound: nothing waits more than 100 ms of the server's work behind a body.
    # Measured in CPU time, not wall time, so a busy machine (which delays every
    # request alike) does not change it. Before the limits, one of these bodies
    # kept the loop busy for seconds.
    assert stall < 0.1, stall
    # Memory: less than 10x the body size, one at a time and four at once.
    growth, all_at_once = run["sequential_peak"] - rss_before, run["peak"] - rss_before
    assert growth < 10 * largest, growth / MB
    assert all_at_once < 10 * together, all_at_once / MB
