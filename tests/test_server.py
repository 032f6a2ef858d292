"""Server limits of ``dyne run`` and ``app.run()`` (``dyne.server``), checked
against real servers on loopback."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, serve_in_subprocess, service_unavailable

APP = '''
import asyncio, os
import dyne

app = dyne.App(static_dir=None)

@app.route("/", methods=["GET", "POST"])
async def home(req, resp):
    resp.text = "ok"

@app.route("/pid")
async def pid(req, resp):
    resp.text = str(os.getpid())

@app.route("/slow")
async def slow(req, resp):
    await asyncio.sleep(float(req.params.get("s", "1")))
    resp.text = "slow"

@app.route("/hang")
async def hang(req, resp):
    await asyncio.sleep(3600)

if __name__ == "__main__":
    import sys
    app.run(port=int(sys.argv[1]), log_level="warning", max_header_size=int(sys.argv[2]))
'''

DYNE = os.path.join(os.path.dirname(sys.executable), "dyne")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "limitsapp.py").write_text(APP)
    return tmp_path


def dyne_run(project: Path, *options: str):
    port = free_port()
    args = [DYNE, "--app", "limitsapp:app", "--port", str(port), "run", *options]
    return port, serve_in_subprocess(args, port, env={"DYNE_APP": "", "PORT": ""}, cwd=project)


def raw_request(port: int, head: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def test_defaults_are_as_documented():
    from dyne.server import DEFAULT_LIMITS, ServerLimits, uvicorn_options

    documented = ServerLimits(workers=1, graceful_timeout=30, keep_alive_timeout=5,
                              header_timeout=10, max_header_size=65536,
                              limit_concurrency=1000, backlog=2048)
    assert documented == DEFAULT_LIMITS
    options = uvicorn_options(DEFAULT_LIMITS)
    assert (options["timeout_keep_alive"], options["timeout_graceful_shutdown"],
            options["limit_concurrency"]) == (5, 30, 1000)
    with pytest.raises(ValueError, match="max_header_size must be a positive number"):
        ServerLimits(max_header_size=0)


def test_oversized_request_head_is_431(project):
    port, server = dyne_run(project)
    with server:
        big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
        answer = raw_request(port, big)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
        # Headers under the limit are fine, and the server still answers.
        fine = b"GET / HTTP/1.1\r\nHost: x\r\nX-Fine: " + b"a" * 30_000 + b"\r\nConnection: close\r\n\r\n"
        assert raw_request(port, fine).startswith(b"HTTP/1.1 200 ")
        # A big body after small headers is not a big head.
        assert httpx.post(f"http://127.0.0.1:{port}/", content=b"x" * 300_000).status_code == 200


def test_max_header_size_is_an_option(project):
    port, server = dyne_run(project, "--max-header-size", "2000")
    with server:
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n"
        assert raw_request(port, head).startswith(b"HTTP/1.1 431 ")


def test_app_run_applies_the_limits(project):
    port = free_port()
    args = [sys.executable, "limitsapp.py", str(port), "4000"]
    with serve_in_subprocess(args, port, cwd=project, env={"PORT": ""}):
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n"
        assert raw_request(port, head).startswith(b"HTTP/1.1 431 ")
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "ok"


def test_slow_header_senders_are_cut_off(project):
    port, server = dyne_run(project, "--header-timeout", "1")
    with server, socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        try:
            for _ in range(40):  # one header line every 0.2 s, for up to 8 s
                sock.sendall(b"X-Slow: y\r\n")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = sock.recv(65536)
        except ConnectionResetError:
            pass
        elapsed = time.monotonic() - started
        assert elapsed < 4, elapsed
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:100]


def test_idle_connections_are_closed(project):
    port, server = dyne_run(project, "--header-timeout", "1", "--keep-alive-timeout", "1")
    with server:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
            started = time.monotonic()
            assert silent.recv(1) == b""  # never sent a byte: closed
            assert time.monotonic() - started < 4
        with socket.create_connection(("127.0.0.1", port), timeout=10) as kept:
            kept.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"\r\n\r\nok"):  # the whole response, however split
                chunk = kept.recv(65536)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            assert kept.recv(1) == b""  # idle after its answer: closed
            assert time.monotonic() - started < 4


def test_a_hung_request_does_not_hold_up_shutdown(project):
    port, server = dyne_run(project, "--graceful-timeout", "1")
    with server as process:
        hung = threading.Thread(target=lambda: raw_request(port, b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n",
                                                           timeout=30), daemon=True)
        hung.start()
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        assert time.monotonic() - started < 8


def test_concurrency_limit_answers_503(project):
    port, server = dyne_run(project, "--limit-concurrency", "2")
    with server:
        results: list[int] = []

        def slow() -> None:
            results.append(httpx.get(f"http://127.0.0.1:{port}/slow?s=2", timeout=30).status_code)

        threads = [threading.Thread(target=slow) for _ in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        for thread in threads:
            thread.join(timeout=30)
        assert 503 in results and 200 in results, results


def test_workers(project):
    port, server = dyne_run(project, "--workers", "2")
    with server:
        pids = set()
        deadline = time.monotonic() + 30
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                pids.add(httpx.get(f"http://127.0.0.1:{port}/pid", timeout=5,
                                   headers={"Connection": "close"}).text)
            except httpx.TransportError:
                time.sleep(0.1)
        assert len(pids) == 2, pids


def test_app_run_refuses_workers():
    import dyne

    with pytest.raises(ValueError, match="dyne run --workers"):
        dyne.App(static_dir=None).run(workers=2)


def test_workers_and_reload_do_not_mix(project):
    result = subprocess.run([DYNE, "--app", "limitsapp:app", "--debug", "run", "--workers", "2"],
                            cwd=project, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DYNE_APP": "", "PORT": ""})
    assert result.returncode != 0
    assert "--workers cannot be combined with auto-reload" in result.stderr




# -- dyne run --server granian ------------------------------------------------------------


def granian_run(project: Path, *options: str):
    if importlib.util.find_spec("granian") is None:
        service_unavailable("granian", 'not installed (pip install -e ".[full,dev]")')
    return dyne_run(project, "--server", "granian", *options)


def test_granian_serves_the_app_with_the_head_limits(project):
    port, server = granian_run(project, "--max-header-size", "16384")
    with server:
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "ok"
        assert httpx.post(f"http://127.0.0.1:{port}/", content=b"x" * 100_000).text == "ok"
        big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        assert raw_request(port, big).startswith(b"HTTP/1.1 431 ")


def test_granian_cuts_off_slow_header_senders(project):
    port, server = granian_run(project, "--header-timeout", "1")
    with server, socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(40):  # one header line every 0.2 s, for up to 8 s
                sock.sendall(b"X-Slow: y\r\n")
                time.sleep(0.2)
            answer = sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            answer = b""
        assert time.monotonic() - started < 6
        assert b"200 OK" not in answer


def test_granian_trusts_forwarded_headers_from_the_trusted_proxy_only(project):
    (project / "whoami.py").write_text(
        "import dyne\napp = dyne.App()\n\n@app.route('/')\ndef who(req, resp):\n"
        "    resp.media = {'client': req.client.host, 'scheme': req.url.scheme}\n")
    port = free_port()
    args = [DYNE, "--app", "whoami:app", "--port", str(port), "run", "--server", "granian"]
    if importlib.util.find_spec("granian") is None:
        service_unavailable("granian", 'not installed (pip install -e ".[full,dev]")')
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with serve_in_subprocess(args, port, env={"DYNE_APP": "", "PORT": ""}, cwd=project):
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url, headers=forged).json() == {"client": "203.0.113.9", "scheme": "https"}
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
            assert other.get(url, headers=forged).json() == {"client": "127.0.0.2",
                                                              "scheme": "http"}


def test_granian_shuts_down_on_sigterm_despite_a_hung_request(project):
    port, server = granian_run(project, "--graceful-timeout", "1")
    with server as process:
        hung = threading.Thread(target=lambda: raw_request(port, b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n",
                                                           timeout=30), daemon=True)
        hung.start()
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert time.monotonic() - started < 10


def test_granian_missing_is_a_clear_error(project, monkeypatch):
    from click.testing import CliRunner

    from dyne import cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "granian" else real_find_spec(name, *a))
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli.cli, ["--app", "limitsapp:app", "run", "--server", "granian"])
    assert result.exit_code != 0
    assert 'pip install "dyne[granian]"' in result.output
