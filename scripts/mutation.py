"""Mutation testing of dyne's security-relevant modules with mutmut.

    .venv/bin/python scripts/mutation.py                 # every target
    .venv/bin/python scripts/mutation.py filenames urls  # some of them
    .venv/bin/python scripts/mutation.py --jobs 4        # more parallel workers

Each target is one module and the tests that exercise it. mutmut mutates the
module (an operator flipped, a constant changed, a call's argument dropped...)
and runs those tests against every mutant: a mutant the tests still pass with
"survived", and is a behaviour no test pins. Each target runs in its own scratch
copy of the checkout under ``.mutation/<target>/`` (mutmut reads its settings
from the copy's ``pyproject.toml``), so targets do not disturb each other or the
working tree. The score and the surviving mutants are recorded in
``docs/architecture.md`` ("Mutation testing"); ``mutmut show <name>`` in the
target's folder prints a mutant's diff.

Workers are forked from a clean fork server (``process_isolation``): forked
straight from a process where a test client already started its event-loop
thread, the tests would wait forever and every mutant would count as killed by
the per-test timeout. mutmut's own CPU-time limits are loosened (a busy machine
makes them fire for mutants the tests do not kill), and any mutant still
reported as a timeout is rerun here with pytest directly and reported as what it is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")

#: name -> (module to mutate, tests that exercise it, extra pytest arguments)
TARGETS: dict[str, tuple[str, list[str], list[str]]] = {
    "filenames": ("src/dyne/ext/io/files.py", ["tests/ext/io/test_files.py"], []),
    "urls": ("src/dyne/ext/auth/urls.py",
             ["tests/ext/auth/test_urls.py", "tests/ext/auth/session/test_manager.py"], []),
    "signing": ("src/dyne/ext/auth/helpers/signing.py", ["tests/ext/auth/helpers/test_signing.py"], []),
    "sessions": ("src/dyne/sessions.py", ["tests/test_sessions.py"], []),
    "digest": ("src/dyne/ext/auth/stateless/digest.py", ["tests/ext/auth/stateless/test_digest.py"], []),
    "staticfiles": ("src/dyne/staticfiles.py", ["tests/test_staticfiles.py"], ["-m", "not server"]),
    "bodies": ("src/dyne/bodies.py", ["tests/test_bodies.py"], []),
    "routing": ("src/dyne/routing.py", ["tests/test_routing.py", "tests/test_redirects.py"], []),
    "transactions": ("src/dyne/ext/db/alchemical/transaction.py",
                     ["tests/ext/db/alchemical/test_transaction.py"], ["-k", "sqlite or not postgresql"]),
}


def prepare(name: str) -> Path:
    module, tests, extra = TARGETS[name]
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for part in ("src", "tests", "benchmarks", "examples", "docs"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__", ".venvs"))
    settings = f"""

[tool.mutmut]
source_paths = ["src/"]
only_mutate = [{json.dumps(module)}]
pytest_add_cli_args_test_selection = {json.dumps(tests)}
pytest_add_cli_args = {json.dumps(["-p", "no:cacheprovider", "-x", "-q", *extra])}
timeout_multiplier = 100.0
# Fork each mutant's worker from a clean server process: a worker forked from a
# process whose test client already runs its event-loop thread would wait forever.
process_isolation = "forkserver"
"""
    (folder / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + settings)
    return folder


def rerun_with_pytest(folder: Path, mutant: str) -> str:
    """``killed`` or ``survived``: the mutant applied to a copy, its tests run by pytest."""
    module, tests, extra = TARGETS[folder.name]
    original = (folder / module).read_text()
    try:
        subprocess.run([str(MUTMUT), "apply", mutant], cwd=folder, check=True, capture_output=True)
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                 "--timeout", "300", *extra, *tests],
                                cwd=folder, capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(folder / "src")})
        return "survived" if result.returncode == 0 else "killed"
    finally:
        (folder / module).write_text(original)


def run(name: str, jobs: int) -> dict[str, object]:
    folder = prepare(name)
    started = time.monotonic()
    subprocess.run([str(MUTMUT), "run", "--max-children", str(jobs)], cwd=folder,
                   stdout=subprocess.DEVNULL, check=False)
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=folder,
                             capture_output=True, text=True, check=True).stdout
    outcome: dict[str, str] = {}
    for line in listing.splitlines():
        mutant, _, status = line.strip().rpartition(": ")
        if mutant:
            outcome[mutant] = status
    for mutant, status in outcome.items():
        if status == "timeout":
            outcome[mutant] = rerun_with_pytest(folder, mutant) + " (rerun after a timeout)"
    counts: dict[str, int] = {}
    for status in outcome.values():
        key = status.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    tested = counts.get("killed", 0) + counts.get("survived", 0)
    return {
        "target": name,
        "module": TARGETS[name][0],
        "mutants": len(outcome),
        "counts": counts,
        "score": round(100 * counts.get("killed", 0) / tested, 1) if tested else None,
        "survivors": sorted(m for m, s in outcome.items() if s.startswith("survived")),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], default=[])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for name in args.targets or list(TARGETS):
        report = run(name, args.jobs)
        print(json.dumps(report, indent=2), flush=True)


if __name__ == "__main__":
    main()
