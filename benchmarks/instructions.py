"""Count the instructions a real server spends per request, under valgrind.

    python3 -m benchmarks.instructions dyne hello path post
    python3 -m benchmarks.instructions dyne hello --root /path/to/other/checkout
    python3 -m benchmarks.instructions raw,dyne,starlette post

Each framework's app is served by uvicorn (httptools, uvloop, one worker, as in
the load runs) under ``valgrind --tool=callgrind``, and a client on loopback
sends it ``--requests`` keep-alive requests one after the other. The server is
run twice, with a warm-up only and with the warm-up plus the measured
requests; the difference over the measured requests is the server's user-space
instructions per request: uvicorn's HTTP parsing and the framework together.

Unlike requests per second, the count hardly moves with other load on the
machine (a few tenths of a percent between runs here: the event loop does not
always poll the same number of times), so it settles questions such as
"is this change within 2%?" on a busy machine. It does not count time in the
kernel (the same system calls for every framework, see ``strace -c``) nor the
cost of cache misses, so it is not a substitute for the load runs: it is the
steady half of the picture. Valgrind runs the server about 50x slower: a count
of 2000 requests takes a minute or two.

``--root`` measures another checkout's dyne and apps (its ``src`` and
``benchmarks``) with the same interpreter, to compare two versions.

Only the standard library is used here; valgrind comes from Debian's packages.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .run import venv_python
from .scenarios import BY_NAME, Scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request_bytes(scenario: Scenario) -> bytes:
    headers = [f"{scenario.method} {scenario.path} HTTP/1.1", "Host: 127.0.0.1"]
    headers += [f"{name}: {value}" for name, value in scenario.headers.items()]
    if scenario.body:
        headers.append(f"Content-Length: {len(scenario.body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + scenario.body


def _drive(port: int, request: bytes, count: int, timeout: float = 300.0) -> None:
    """Send ``count`` requests on one keep-alive connection, each after the
    previous answer; the first answer must be a 2xx."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {port} never accepted a connection") from None
            time.sleep(0.2)
    sock.settimeout(120)
    buffer = b""
    with sock:
        for index in range(count):
            sock.sendall(request)
            while True:
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                if sep:
                    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    length = int(match.group(1)) if match else 0
                    if len(rest) >= length:
                        if index == 0 and not re.match(rb"HTTP/1\.1 2\d\d", head):
                            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
                        buffer = rest[length:]
                        break
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("the server closed the connection")
                buffer += chunk


def _server_instructions(python: Path, app: str, root: Path, request: bytes, count: int) -> int:
    """Instructions of one server run answering ``count`` requests."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(root / "src")]))
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               str(python), "-m", "uvicorn", app, "--port", str(port), "--no-access-log",
               "--log-level", "warning", "--loop", "uvloop", "--http", "httptools", "--lifespan", "on"]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        _drive(port, request, count)
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=300)
    found = re.search(r"Collected\s*:\s*(\d+)", errors)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{errors[-2000:]}")
    return int(found.group(1))


def per_request(framework: str, scenario: Scenario, requests: int, warmup: int,
                root: Path = ROOT) -> float:
    """Server instructions per request of ``framework`` answering ``scenario``."""
    app = f"benchmarks.apps.{framework}_{scenario.module}:{scenario.target}"
    python = venv_python(framework)
    if not python.exists():
        raise RuntimeError(f"no venv for {framework}: run `python3 -m benchmarks --check` first")
    request = _request_bytes(scenario)
    base = _server_instructions(python, app, root, request, warmup)
    full = _server_instructions(python, app, root, request, warmup + requests)
    return (full - base) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frameworks", help="comma-separated (raw, dyne, starlette...)")
    parser.add_argument("scenarios", nargs="+")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose dyne and apps are measured")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    unknown = [name for name in args.scenarios if name not in BY_NAME]
    if unknown:
        sys.exit(f"unknown scenario(s): {', '.join(unknown)}")
    for name in args.scenarios:
        scenario = BY_NAME[name]
        for framework in args.frameworks.split(","):
            if not scenario.applies_to(framework):
                continue
            count = per_request(framework, scenario, args.requests, args.warmup, args.root.resolve())
            print(f"{framework:>10} {name:>16}: {count / 1000:8.1f} k instructions/request",
                  flush=True)


if __name__ == "__main__":
    main()
