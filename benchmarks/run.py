"""Run every framework through every scenario in one run and report ratios.

    python3 -m benchmarks            # full run (about 13 minutes)
    python3 -m benchmarks --quick    # one short round (about 3 minutes)

Each framework gets its own virtual environment under ``benchmarks/.venvs/``
(pinned by ``benchmarks/requirements/<name>.txt``; dyne is installed editable
from this checkout). All servers are started once, up front, each on its own
port: uvicorn, httptools, uvloop, one worker, no access log. Every answer is
checked against the scenario's expected response before anything is measured.
Then, for each round and each scenario, every framework gets a measured wrk
run (preceded, in the first round, by a warm-up run), the framework order
rotating from one scenario and round to the next so that a burst of load
elsewhere on the machine does not always land on the same one. The ratio to
raw ASGI is taken per round (raw measured in the same round, within a minute)
and the median over rounds is reported, with median requests/second,
latencies, and the server's CPU time per request (read from /proc, much less
sensitive than requests/second to other load on the machine).

Only the standard library is used here, so any Python 3.11+ runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scenarios import ALL_SCENARIOS, SUITES, Scenario, check_negative, check_response

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
REQUIREMENTS = HERE / "requirements"


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    #: Statement whose import time is measured (None: nothing to import).
    import_statement: str | None
    #: Distributions whose versions are recorded.
    packages: tuple[str, ...]
    #: The suites it has apps for (``None``: every one).
    suites: tuple[str, ...] | None = None
    #: The oldest Python it installs on (``None``: any the runner runs on).
    min_python: tuple[int, int] | None = None

    def has_suite(self, suite: str) -> bool:
        return self.suites is None or suite in self.suites


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("raw", "raw ASGI", None, ()),
    Framework("dyne", "dyne", "import dyne", ("dyne", "starlette")),
    Framework("starlette", "Starlette", "from starlette.applications import Starlette",
              ("starlette",)),
    Framework("fastapi", "FastAPI", "from fastapi import FastAPI", ("fastapi", "starlette")),
    Framework("litestar", "Litestar", "from litestar import Litestar", ("litestar", "msgspec")),
    Framework("blacksheep", "BlackSheep", "from blacksheep import Application", ("blacksheep",)),
    Framework("responder", "Responder", "import responder", ("responder", "starlette")),
    # Seed 003's framework (the renamed PyJolt), on its own benchmark only. Its
    # release of seed 003 (0.111.13) needs Python >= 3.12 (later ones 3.13).
    Framework("patera", "Patera", "import patera", ("patera", "patera-database", "sqlalchemy"),
              suites=("users",), min_python=(3, 12)),
)
BY_KEY = {fw.key: fw for fw in FRAMEWORKS}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COMMON_PACKAGES = ("uvicorn", "uvloop", "httptools", "pydantic", "orjson")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- virtual environments ------------------------------------------------------------

def venv_python(key: str) -> Path:
    return VENVS / key / "bin" / "python"


#: Runs on any Python (pyenv may hold a 2.7 too).
_VERSION_CODE = ("import sys; sys.stdout.write('%d %d %s' % "
                 "(sys.version_info[0], sys.version_info[1], sys.version))")
_interpreters: dict[str, tuple[str, str] | None] = {}


def _python_version(python: str) -> tuple[tuple[int, int], str] | None:
    """``((major, minor), sys.version)`` of an interpreter, ``None`` if it does not run
    (a pyenv shim of a version that is not selected, say)."""
    try:
        out = subprocess.run([python, "-c", _VERSION_CODE], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        major, minor, version = out.stdout.strip().split(" ", 2)
        return (int(major), int(minor)), version
    except ValueError:  # it failed, or printed something else
        return None


def _python_candidates(minimum: tuple[int, int]) -> list[str]:
    """Interpreters that may be new enough, oldest first (closest to the runner's)."""
    found: list[str] = []
    for minor in range(minimum[1], 20):
        path = shutil.which(f"python{minimum[0]}.{minor}")
        if path:
            found.append(path)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    with contextlib.suppress(OSError):
        def version_key(entry: Path) -> tuple[int, ...]:
            return tuple(int(part) if part.isdigit() else 0 for part in entry.name.split("."))

        for entry in sorted(pyenv.iterdir(), key=version_key):
            if (entry / "bin" / "python").exists():
                found.append(str(entry / "bin" / "python"))
    return found


def interpreter(key: str) -> tuple[str, str] | None:
    """``(python, version)`` to build ``key``'s venv with: the runner's own Python
    when the framework installs on it, else ``BENCHMARKS_PYTHON_<KEY>``, a
    ``python3.N`` on the PATH or a pyenv version that is new enough (the oldest
    such, the closest to the runner's); ``None`` when there is none."""
    if key in _interpreters:
        return _interpreters[key]
    minimum = BY_KEY[key].min_python
    chosen: tuple[str, str] | None = None
    if minimum is None or sys.version_info[:2] >= minimum:
        chosen = (sys.executable, sys.version)
    else:
        override = os.environ.get(f"BENCHMARKS_PYTHON_{key.upper()}")
        for python in ([override] if override else _python_candidates(minimum)):
            info = _python_version(python)
            if info and info[0] >= minimum:
                chosen = (python, info[1])
                break
    _interpreters[key] = chosen
    return chosen


def unavailable(key: str) -> str | None:
    """Why ``key`` cannot be set up here (``None``: it can)."""
    minimum = BY_KEY[key].min_python
    if interpreter(key) is None and minimum is not None:
        wanted = ".".join(map(str, minimum))
        return (f"needs Python >= {wanted} (the runner is {platform.python_version()}, and no "
                f"python{wanted}+ was found: set BENCHMARKS_PYTHON_{key.upper()})")
    return None


def _stamp(key: str) -> str:
    digest = hashlib.sha256()
    for name in ("common.txt", f"{key}.txt"):
        digest.update((REQUIREMENTS / name).read_bytes())
    if key == "dyne":
        digest.update((ROOT / "pyproject.toml").read_bytes())
    found = interpreter(key)
    digest.update((found[1] if found else sys.version).encode())
    return digest.hexdigest()


def ensure_venv(key: str) -> None:
    """Create (or refresh, when its requirements or Python changed) a framework's venv."""
    venv = VENVS / key
    stamp_file = venv / ".bench-stamp"
    stamp = _stamp(key)
    if stamp_file.exists() and stamp_file.read_text() == stamp and venv_python(key).exists():
        return
    found = interpreter(key)
    if found is None:
        raise RuntimeError(f"cannot set up {key}: {unavailable(key)}")
    log(f"setting up {venv} (Python {found[1].split()[0]}) ...")
    subprocess.run([found[0], "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv_python(key)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS / f"{key}.txt")], check=True)
    if key == "dyne":
        subprocess.run([*pip, "-e", f"{ROOT}[sqlalchemy]"], check=True)
    stamp_file.write_text(stamp)


def versions(key: str) -> dict[str, str]:
    packages = [*BY_KEY[key].packages, *COMMON_PACKAGES]
    code = ("import importlib.metadata as m, json, platform; "
            f"print(json.dumps({{**{{p: m.version(p) for p in {packages!r}}}, "
            "'python': platform.python_version()}))")
    out = subprocess.run([str(venv_python(key)), "-c", code], capture_output=True, text=True,
                         check=True).stdout
    found: dict[str, str] = json.loads(out)
    if key == "dyne":
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"],
                               capture_output=True, text=True).stdout.strip()
        found["dyne"] += f" ({commit}{'+dirty' if dirty else ''})"
        style = subprocess.run(
            [str(venv_python(key)), "-c",
             "import benchmarks.apps.dyne_app as m; print(m.POST_STYLE)"],
            cwd=ROOT, capture_output=True, text=True).stdout.strip()
        found["dyne POST endpoint"] = style or "?"
    return found


def import_time_ms(key: str, repeat: int) -> float | None:
    """Median wall time of the framework's import statement in a fresh interpreter."""
    statement = BY_KEY[key].import_statement
    if statement is None:
        return None
    code = ("import time; t = time.perf_counter(); " + statement +
            "; print(time.perf_counter() - t)")
    python = str(venv_python(key))
    subprocess.run([python, "-c", code], capture_output=True, check=True)  # compile .pyc first
    samples = []
    for _ in range(repeat):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip()) * 1000)
    return statistics.median(samples)


# -- servers -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One uvicorn process serving one app of one framework."""

    def __init__(self, key: str, target: str, log_dir: Path, cpus: set[int] | None = None,
                 module: str = "app", workers: int = 1, server: str = "uvicorn") -> None:
        self.key = key
        self.target = target
        self.port = free_port()
        self.log_path = log_dir / f"{key}-{module}-{target}.log"
        self.idle_rss_kb: int | None = None
        app_path = f"benchmarks.apps.{key}_{module}:{target}"
        if server == "granian":
            command = [
                str(venv_python(key)), "-m", "granian", "--interface", "asgi", app_path,
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
            ]
        else:
            command = [
                str(venv_python(key)), "-m", "uvicorn", app_path,
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                "--log-level", "warning",
            ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                        preexec_fn=_pinned(cpus))

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
            time.sleep(0.1)
        return False

    def processes(self) -> list[int]:
        """The server's process and its descendants (the workers, with --workers N)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def _status_kb(self, field: str) -> int | None:
        """``field`` of /proc/<pid>/status (VmRSS, VmHWM), per worker: the largest
        worker's (the parent of several workers only supervises them)."""
        values = []
        pids = self.processes()
        for pid in pids[1:] if len(pids) > 1 else pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field + ":"):
                        values.append(int(line.split()[1]))
        return max(values) if values else None

    def read_rss_kb(self) -> int | None:
        return self._status_kb("VmRSS")

    def peak_rss_kb(self) -> int | None:
        """The largest worker's peak resident memory so far (VmHWM)."""
        return self._status_kb("VmHWM")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        total = 0
        for pid in self.processes():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _pinned(cpus: set[int] | None) -> Any:
    """A ``preexec_fn`` that keeps the child on ``cpus`` (``None``: anywhere)."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def verify(server: Server, scenario: Scenario) -> str | None:
    """``None`` when the server answers the scenario (and its negative checks) correctly."""
    try:
        status, headers, body = server.request(scenario.method, scenario.path, scenario.body,
                                               scenario.headers)
        problem = check_response(scenario, status, headers, body)
        if problem:
            return problem
        for method, path, bad_body, headers_, allowed in scenario.negative:
            status, _, _ = server.request(method, path, bad_body, headers_)
            problem = check_negative(allowed, status)
            if problem:
                return f"{method} {path}: {problem}"
    except (OSError, http.client.HTTPException) as exc:
        return f"request failed: {exc!r}"
    return None


# -- wrk ---------------------------------------------------------------------------------

_LUA_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"connect\\":%d,\\"read\\":%d," ..
    "\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50_us\\":%d,\\"p90_us\\":%d," ..
    "\\"p99_us\\":%d,\\"mean_us\\":%.1f}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def _lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def write_lua(scenario: Scenario, directory: Path) -> Path:
    lines = [f'wrk.method = "{scenario.method}"']
    if scenario.body:
        lines.append(f"wrk.body = {_lua_string(scenario.body)}")
    for name, value in scenario.headers.items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    path = directory / f"{scenario.name}.lua"
    path.write_text("\n".join(lines) + "\n" + _LUA_REPORT)
    return path


def run_wrk(url: str, script: Path, duration: int, connections: int, threads: int,
            cpus: set[int] | None = None) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60,
                         preexec_fn=_pinned(cpus))
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            data: dict[str, Any] = json.loads(line[8:])
            seconds = data["duration_us"] / 1e6
            data["rps"] = data["requests"] / seconds if seconds else 0.0
            data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
            return data
    raise RuntimeError(f"wrk gave no result for {url}: {out.stdout[-500:]} {out.stderr[-500:]}")


# -- the run -------------------------------------------------------------------------

DEFAULT_CONNECTIONS = 64


def connections_for(scenario: Scenario, args: argparse.Namespace) -> int:
    """wrk's connections for ``scenario``: ``--connections`` when given, else the
    scenario's own (200 for seed 003's users suite), else 64."""
    return args.connections or scenario.connections or DEFAULT_CONNECTIONS


def measure(server: Server, scenario: Scenario, script: Path, args: argparse.Namespace,
            round_index: int, wrk_cpus: set[int] | None) -> dict[str, Any]:
    """One wrk run of ``scenario`` against ``server`` (after a warm-up in the first
    round), with the server's CPU time per request."""
    url = f"http://127.0.0.1:{server.port}{scenario.path}"
    connections = connections_for(scenario, args)
    if args.warmup and round_index == 0:
        run_wrk(url, script, args.warmup, connections, args.threads, wrk_cpus)
    cpu_before = server.cpu_seconds()
    result = run_wrk(url, script, args.duration, connections, args.threads, wrk_cpus)
    cpu = server.cpu_seconds() - cpu_before
    result["cpu_us"] = cpu * 1e6 / result["requests"] if result["requests"] else 0.0
    result["round"] = round_index
    log(f"round {round_index + 1}/{args.rounds} {scenario.name:>12} {server.key:>10}: "
        f"{result['rps']:>9,.0f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
        f"p99 {result['p99_us'] / 1000:6.2f} ms  server CPU {result['cpu_us']:5.0f} us/req"
        + (f"  ERRORS {result['errors']}" if result["errors"] else ""))
    return result


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(samples: dict[str, dict[str, list[dict[str, Any]]]], rounds: int,
              baselines: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Median rps and latencies per (scenario, framework); ratio to raw as the
    median of per-round ratios. A scenario with a baseline (dyne's
    observability scenarios) is compared with the framework's own run of the
    baseline scenario in the same round instead: 0.90 means 10% slower."""
    summary: dict[str, Any] = {}
    for scenario, by_fw in samples.items():
        baseline = (baselines or {}).get(scenario)
        rows = {}
        for key, runs in by_fw.items():
            reference = samples.get(baseline, {}).get(key, []) if baseline else by_fw.get("raw", [])
            raw_by_round = {s["round"]: s["rps"] for s in reference}
            raw_cpu = _median([s["cpu_us"] for s in reference])
            ratios = [s["rps"] / raw_by_round[s["round"]] for s in runs
                      if raw_by_round.get(s["round"])]
            cpu = _median([s["cpu_us"] for s in runs])
            rows[key] = {
                # What the rps ratio would be if every server were CPU-bound
                # (true on a quiet machine): raw's CPU per request over this one's.
                "cpu_ratio": raw_cpu / cpu if raw_cpu and cpu else None,
                "rps": _median([s["rps"] for s in runs]),
                "p50_ms": _median([s["p50_us"] / 1000 for s in runs]),
                "p99_ms": _median([s["p99_us"] / 1000 for s in runs]),
                "ratio": _median(ratios),
                "cpu_us": cpu,
                "errors": sum(s["errors"] for s in runs),
                "rounds": len(runs),
                "rps_samples": [round(s["rps"]) for s in runs],
            }
        summary[scenario] = rows
    return summary


def check_targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, evaluated on this run's ratios."""
    checks: list[dict[str, Any]] = []

    def ratio(scenario: str, key: str, field: str = "ratio") -> float | None:
        row = summary.get(scenario, {}).get(key)
        return row[field] if row else None

    def compare(label: str, scenario: str, other: str, minimum: float = 1.0) -> None:
        ours, theirs = ratio(scenario, "dyne"), ratio(scenario, other)
        if not ours or not theirs:  # not measured, or no request answered
            return
        value = ours / theirs
        ours_cpu, theirs_cpu = ratio(scenario, "dyne", "cpu_ratio"), ratio(scenario, other, "cpu_ratio")
        by_cpu = ours_cpu / theirs_cpu if ours_cpu and theirs_cpu else None
        checks.append({"target": label, "value": round(value, 3), "needed": minimum,
                       "ok": value >= minimum,
                       "by_cpu": None if by_cpu is None else round(by_cpu, 3)})

    for scenario in ("hello", "path"):
        compare(f"dyne >= 1.0x Starlette on {scenario}", scenario, "starlette")
    for scenario in summary:
        for other in ("fastapi", "litestar", "responder", "patera"):
            compare(f"dyne ahead of {BY_KEY[other].title} on {scenario}", scenario, other)
    def at_least(label: str, scenario: str, minimum: float) -> None:
        value, by_cpu = ratio(scenario, "dyne"), ratio(scenario, "dyne", "cpu_ratio")
        if value:
            checks.append({"target": label, "value": round(value, 3), "needed": minimum,
                           "ok": value >= minimum,
                           "by_cpu": None if by_cpu is None else round(by_cpu, 3)})

    at_least("dyne validated POST >= 0.85 of raw", "post", 0.85)
    # The TechEmpower suite (issue 21's targets).
    for scenario in ("db", "queries", "fortunes", "updates"):
        at_least(f"dyne within 10% of raw ASGI + asyncpg on {scenario}", scenario, 0.9)
    for scenario in ("db-orm", "fortunes-orm"):
        for other in ("fastapi", "litestar"):
            compare(f"dyne batteries >= 1.5x {BY_KEY[other].title}'s ORM path on {scenario}",
                    scenario, other, 1.5)
    first, last = ratio("first", "dyne"), ratio("last", "dyne")
    if first and last:
        value = last / first
        first_cpu, last_cpu = ratio("first", "dyne", "cpu_ratio"), ratio("last", "dyne", "cpu_ratio")
        checks.append({"target": "dyne 500 routes: last within 10% of first",
                       "value": round(value, 3), "needed": 0.9, "ok": value >= 0.9,
                       "by_cpu": round(last_cpu / first_cpu, 3) if first_cpu and last_cpu else None})
    return checks


def _cell_ratio(field: str) -> Any:
    return lambda row: "n/a" if row is None or row[field] is None else f"{row[field]:.2f}"


def _cell_rps(row: dict[str, Any] | None) -> str:
    if row is None or row["rps"] is None:
        return "n/a"
    flag = " (errors!)" if row["errors"] else ""
    return f"{row['rps']:,.0f} ({row['p50_ms']:.2f} / {row['p99_ms']:.2f}){flag}"


def _cell_cpu(row: dict[str, Any] | None) -> str:
    return "n/a" if row is None or row["cpu_us"] is None else f"{row['cpu_us']:.0f}"


def _server_text(meta: dict[str, Any]) -> str:
    server = meta.get("server", "uvicorn")
    workers = meta.get("workers", 1)
    stack = "uvicorn + httptools + uvloop" if server == "uvicorn" else "granian + uvloop"
    return f"{stack}, {workers} worker{'s' if workers != 1 else ''}"


def _connections_text(connections: int | dict[str, int]) -> str:
    """``-c64``, or per scenario when they differ (older reports hold one number)."""
    if isinstance(connections, int):
        return f"-c{connections}"
    values = sorted(set(connections.values()))
    if len(values) == 1:
        return f"-c{values[0]}"
    return "; ".join(f"-c{value} for " + ", ".join(s for s, c in connections.items() if c == value)
                     for value in values)


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    summary = report["summary"]
    frameworks = list(meta["frameworks"])
    lines = [
        f"Run of {meta['started']}: {meta['rounds']} round(s) x {meta['duration_s']} s per "
        f"measurement (after a {meta['warmup_s']} s warm-up), wrk -t{meta['threads']} "
        f"{_connections_text(meta['connections'])}, {_server_text(meta)}, no access log"
        f"{' (servers and wrk pinned to separate CPUs)' if meta.get('pinned') else ''}; "
        f"{meta['cpus']} CPUs, load average {meta['loadavg_start']} at start, "
        f"{meta['loadavg_end']} at end; took {meta['elapsed_s']:.0f} s.",
    ]
    tables = [
        ("Ratio to raw ASGI (median of per-round ratios; higher is better):", _cell_ratio("ratio")),
        ("Requests per second, median (p50 / p99 latency in ms):", _cell_rps),
        ("Server CPU time per request, median, in microseconds (lower is better; less sensitive "
         "to other load on the machine than req/s):", _cell_cpu),
        ("The ratio to raw ASGI estimated from CPU time (raw's CPU per request over the "
         "framework's): what the ratio would be with every server CPU-bound, as on a quiet "
         "machine.", _cell_ratio("cpu_ratio")),
    ]
    for title, cell in tables:
        lines += ["", title, "",
                  "| Framework | " + " | ".join(SCENARIO_TITLES[s] for s in summary) + " |",
                  "| --- |" + " ---: |" * len(summary)]
        for key in frameworks:
            cells = [cell(summary[scenario].get(key)) for scenario in summary]
            lines.append(f"| {BY_KEY[key].title} | " + " | ".join(cells) + " |")
    lines += ["", "| Framework | version | import time (ms) | idle worker RSS (MiB) | "
              "peak worker RSS under load (MiB) |",
              "| --- | --- | ---: | ---: | ---: |"]
    for key in frameworks:
        imp = report["import_ms"].get(key)
        rss = report["idle_rss_kb"].get(key)
        peak = report.get("peak_rss_kb", {}).get(key)
        version = report["versions"].get(key, {}).get(key, "") if key != "raw" else "-"
        python = report["versions"].get(key, {}).get("python")
        if python and python != meta.get("python"):
            version += f" (Python {python})"
        lines.append(f"| {BY_KEY[key].title} | {version} | "
                     f"{'-' if imp is None else f'{imp:.0f}'} | "
                     f"{'-' if rss is None else f'{rss / 1024:.1f}'} | "
                     f"{'-' if peak is None else f'{peak / 1024:.1f}'} |")
    style = report["versions"].get("dyne", {}).get("dyne POST endpoint")
    if style and "post" in summary:
        lines += ["", f"dyne's validated POST endpoint: {style}."]
    if report["failures"]:
        lines += ["", "Not measured (wrong answer or server failure):", ""]
        lines += [f"- {BY_KEY[k].title} / {s}: {why}" for (k, s, why) in report["failures"]]
    if meta.get("unavailable"):
        lines += ["", "Not set up here, so not measured:", ""]
        lines += [f"- {BY_KEY[k].title}: {why}" for k, why in meta["unavailable"].items()]
    if report["targets"]:
        lines += ["", "Targets (from the req/s ratios; in brackets, the same from CPU time):", ""]
        for check in report["targets"]:
            mark = "ok" if check["ok"] else "MISSED"
            by_cpu = "" if check.get("by_cpu") is None else f" [{check['by_cpu']:.2f}]"
            lines.append(f"- {mark}: {check['target']}: {check['value']:.2f}{by_cpu}, needs "
                         f">= {check['needed']:.2f}")
    return "\n".join(lines) + "\n"


SCENARIO_TITLES = {s.name: s.title for s in ALL_SCENARIOS}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1 round, 2 s runs, 1 s warm-up (for iterating)")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, quick 1)")
    parser.add_argument("--duration", type=int, help="seconds per measurement (default 3, quick 2)")
    parser.add_argument("--warmup", type=int,
                        help="seconds of warm-up before a server's first measurement of a "
                             "scenario (default 2, quick 1)")
    parser.add_argument("--connections", type=int, default=None,
                        help="wrk connections for every scenario (default: the scenario's own, "
                             "200 for the users suite, else 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: 2-core machine)")
    parser.add_argument("--frameworks", default=None,
                        help="comma-separated subset (raw is always included; default: every "
                             "framework that has apps for the suite)")
    parser.add_argument("--suite", choices=sorted(SUITES), default="default",
                        help="default: the synthetic scenarios; tfb: the TechEmpower test types "
                             "on PostgreSQL (TFB_DATABASE_URL), seeded first; users: seed 003's "
                             "list of users from SQLite at 200 connections (a seeded temporary file)")
    parser.add_argument("--scenarios", default=None,
                        help="comma-separated subset of the suite's scenarios")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes per server (default 1)")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="the ASGI server every framework runs under (default uvicorn)")
    parser.add_argument("--pin", action="store_true",
                        help="pin the servers to the last CPU and wrk to the others (for a quiet "
                             "machine: less scheduler noise; on a busy one it can make things worse)")
    parser.add_argument("--check", action="store_true",
                        help="only start the servers and check every answer (no load)")
    parser.add_argument("--no-setup", action="store_true", help="do not create or refresh venvs")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="print the Markdown report of a saved JSON result and exit")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.duration = args.duration or (2 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    keys = ([k.strip() for k in args.frameworks.split(",") if k.strip()] if args.frameworks
            else [fw.key for fw in FRAMEWORKS if fw.has_suite(args.suite)])
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown framework(s): {', '.join(unknown)}")
    elsewhere = [k for k in keys if not BY_KEY[k].has_suite(args.suite)]
    if elsewhere:
        parser.error(f"no {args.suite} suite for: {', '.join(elsewhere)} (only "
                     + "; ".join(f"{k}: {', '.join(BY_KEY[k].suites or ())}" for k in elsewhere)
                     + ")")
    args.frameworks = ["raw", *[k for k in BY_KEY if k in keys and k != "raw"]]
    suite = SUITES[args.suite]
    names = ([s.strip() for s in args.scenarios.split(",") if s.strip()] if args.scenarios
             else [s.name for s in suite])
    args.scenarios = [s for s in suite if s.name in names]
    if not args.scenarios:
        parser.error("no known scenario selected")
    return args


def _loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def rerender(path: Path) -> str:
    """The Markdown of a saved JSON report, recomputed from its samples."""
    report = json.loads(path.read_text())
    report["summary"] = summarize(report["samples"], report["meta"]["rounds"])
    report["targets"] = check_targets(report["summary"]) if "dyne" in report["meta"]["frameworks"] else []
    return markdown(report)


def server_groups(scenarios: list[Scenario], keys: list[str]) -> list[tuple[str, str]]:
    """The apps (module, target) to start, one group at a time, in order: the one
    that the most frameworks serve first, since its servers' memory is the one
    reported (every framework's on the same app: the users suite's aiosqlite
    apps, not the ORM ones that only some frameworks have)."""
    def served_by(group: tuple[str, str]) -> int:
        return sum(any(s.applies_to(k) for s in scenarios if (s.module, s.target) == group)
                   for k in keys)

    return sorted({(s.module, s.target) for s in scenarios}, key=lambda g: (-served_by(g), g))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        print(rerender(args.render))
        return 0
    if shutil.which("wrk") is None:
        log("wrk is not installed (apt-get install wrk)")
        return 2
    started = time.monotonic()
    keys: list[str] = args.frameworks
    scenarios: list[Scenario] = args.scenarios
    estimate = len(keys) * len(scenarios) * ((args.duration + 0.3) * args.rounds + args.warmup)
    log(f"{len(keys)} frameworks x {len(scenarios)} scenarios x {args.rounds} round(s): "
        f"about {estimate / 60:.1f} min of load, plus setup")

    missing = {key: why for key in keys if (why := unavailable(key))}
    for key, why in missing.items():
        log(f"{BY_KEY[key].title} is not measured: {why}")
    keys = [key for key in keys if key not in missing]
    if not args.no_setup:
        for key in keys:
            ensure_venv(key)
    version_info = {key: versions(key) for key in keys}
    import_ms: dict[str, float | None] = {}
    if not args.check:
        log("measuring import times ...")
        import_ms = {key: import_time_ms(key, 7) for key in keys}

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.output
    log_dir = out_dir / "logs" / stamp
    log_dir.mkdir(parents=True, exist_ok=True)
    targets = server_groups(scenarios, keys)
    users_dir: tempfile.TemporaryDirectory[str] | None = None
    if args.suite == "tfb":
        from .tfb_db import seed

        log(f"seeding {seed()} ...")
    elif args.suite == "users":
        from . import users_db

        # A fresh SQLite file for this run, named to the servers (they inherit the
        # environment) before any of them starts.
        users_dir = tempfile.TemporaryDirectory(prefix="dyne-bench-users-")
        os.environ[users_db.ENV] = users_db.seed(str(Path(users_dir.name) / "users.sqlite3"))
        log(f"seeded {os.environ[users_db.ENV]}")
    server_cpus: set[int] | None = None
    wrk_cpus: set[int] | None = None
    available = sorted(os.sched_getaffinity(0))
    if args.pin and len(available) >= 2:
        server_cpus, wrk_cpus = {available[-1]}, set(available[:-1])
    servers: dict[tuple[str, str], Server] = {}
    failures: list[tuple[str, str, str]] = []
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {s.name: {} for s in scenarios}
    idle_rss: dict[str, int | None] = {}
    peak_rss: dict[str, int | None] = {}
    loadavg_start = _loadavg()
    first_target = targets[0]
    scripts_dir = tempfile.TemporaryDirectory()
    scripts = {s.name: write_lua(s, Path(scripts_dir.name)) for s in scenarios}
    try:
        # One group of servers at a time (the frameworks' apps of one target): the
        # servers of one target all run together, so each scenario's frameworks are
        # measured side by side, and the idle ones of other targets hold no database
        # connections meanwhile.
        for group_index, (module, target) in enumerate(targets):
            group = [s for s in scenarios if (s.module, s.target) == (module, target)]
            for key in keys:
                if any(s.applies_to(key) for s in group):
                    servers[key, module, target] = Server(
                        key, target, log_dir, server_cpus, module=module, workers=args.workers,
                        server=args.server)
            started_here = [(k, server) for (k, m, t), server in servers.items()
                            if (m, t) == (module, target)]
            for key, server in started_here:
                if not server.wait_ready(90):
                    log(f"{key}/{module}:{target} did not start:\n{server.log_tail()}")
            time.sleep(1.0 + args.workers)
            if (module, target) == first_target:
                idle_rss.update({key: server.read_rss_kb() for key, server in started_here})

            measurable: dict[str, list[str]] = {}
            for scenario in group:
                measurable[scenario.name] = []
                for key in (k for k in keys if scenario.applies_to(k)):
                    problem = verify(servers[key, module, target], scenario)
                    if problem:
                        failures.append((key, scenario.name, problem))
                        log(f"  {key} / {scenario.name}: WRONG ANSWER, not measured: {problem}")
                    else:
                        measurable[scenario.name].append(key)
            if not args.check:
                for round_index in range(args.rounds):
                    for scenario_index, scenario in enumerate(group):
                        order = measurable[scenario.name]
                        shift = (round_index + scenario_index + group_index) % max(len(order), 1)
                        for key in order[shift:] + order[:shift]:
                            result = measure(servers[key, module, target], scenario,
                                             scripts[scenario.name], args, round_index, wrk_cpus)
                            samples[scenario.name].setdefault(key, []).append(result)
                if (module, target) == first_target:
                    peak_rss.update({key: server.peak_rss_kb() for key, server in started_here})
            for _key, server in started_here:
                server.stop()
    finally:
        for server in servers.values():
            server.stop()
        scripts_dir.cleanup()
        if users_dir is not None:
            users_dir.cleanup()
    if args.check:
        log(f"checked {len(scenarios)} scenarios x {len(keys)} frameworks: "
            f"{len(failures)} wrong answer(s)")
        return 1 if failures else 0

    summary = summarize(samples, args.rounds, {s.name: s.baseline for s in scenarios})
    report: dict[str, Any] = {
        "meta": {
            "started": stamp, "rounds": args.rounds, "duration_s": args.duration,
            "warmup_s": args.warmup, "threads": args.threads,
            "connections": {s.name: connections_for(s, args) for s in scenarios},
            "frameworks": keys, "scenarios": [s.name for s in scenarios],
            "unavailable": missing,
            "suite": args.suite, "workers": args.workers, "server": args.server,
            "pinned": bool(server_cpus),
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "loadavg_start": loadavg_start,
            "loadavg_end": _loadavg(), "elapsed_s": time.monotonic() - started,
        },
        "versions": version_info,
        "import_ms": import_ms,
        "idle_rss_kb": idle_rss,
        "peak_rss_kb": peak_rss,
        "summary": summary,
        "samples": samples,
        "failures": failures,
    }
    report["targets"] = check_targets(summary) if "dyne" in keys else []
    text = markdown(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (stamp, "latest"):
        (out_dir / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (out_dir / f"{name}.md").write_text(text)
    print(text)
    log(f"written to {out_dir / (stamp + '.md')} and .json ({report['meta']['elapsed_s']:.0f} s)")
    return 1 if failures else 0
