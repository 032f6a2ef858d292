"""Every code block in docs/*.md (and the README's Python blocks) runs here.

A page's blocks run in order, in one namespace, in a fresh temporary working
directory, so a later block can use what an earlier one defined:

* ```python blocks are executed; their ``assert`` lines are the checks.
* ```<lang> file=NAME blocks (``dotenv``, ``toml``, ``html``...) are written to
  NAME in the working directory, for later blocks to use.
* ```console blocks: each ``$ command`` line is run with the project's Python
  environment on PATH and must succeed; other lines are text the output must
  contain.
* ```text blocks are diagrams and sample output, not code.

A block whose info string includes ``norun`` fails this test: docs must not
show code that is not checked.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def code_blocks(page: Path) -> list[tuple[str, dict[str, str], str, int]]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for found in FENCE.finditer(text):
        info = found.group(1).strip().split()
        language = info[0] if info else ""
        options = dict(item.split("=", 1) if "=" in item else (item, "") for item in info[1:])
        line = text.count("\n", 0, found.start()) + 1
        blocks.append((language, options, found.group(2), line))
    return blocks


def run_page(page: Path, workdir: Path, python_only: bool = False) -> None:
    # The page's namespace is a real module while it runs, as a user's app.py
    # would be: libraries such as Strawberry look classes' modules up in sys.modules.
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        _run_blocks(page, workdir, module.__dict__, python_only)
    finally:
        sys.modules.pop(module.__name__, None)


def _run_blocks(page: Path, workdir: Path, namespace: dict, python_only: bool) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for language, options, source, line in code_blocks(page):
        where = f"{page.name}:{line}"
        assert "norun" not in options, f"{where}: every documented block must run"
        if "file" in options:
            target = workdir / options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
        elif language == "python":
            # dont_inherit: run the example as a user would, without this
            # module's `from __future__ import annotations` (pydantic and ORM
            # models read annotations).
            code = compile(source, f"<{where}>", "exec", dont_inherit=True)
            exec(code, namespace)
        elif language == "console" and not python_only:
            run_console(source, where, workdir, env)
        elif language == "text":
            continue
        elif not python_only:
            pytest.fail(f"{where}: code block of language {language!r} is neither run nor "
                        "written to a file (give it file=NAME or make it python/console)")
    app = namespace.get("app")
    client = getattr(app, "_client", None)
    if client is not None:
        client.close()


def run_console(source: str, where: str, workdir: Path, env: dict[str, str]) -> None:
    output = ""
    for raw in source.splitlines():
        if raw.startswith("$ "):
            command = raw[2:]
            result = subprocess.run(shlex.split(command), cwd=workdir, env=env, capture_output=True,
                                    text=True, timeout=120)
            assert result.returncode == 0, f"{where}: `{command}` failed:\n{result.stderr}"
            output = result.stdout + result.stderr
        elif raw.strip():
            assert raw.strip() in output, f"{where}: expected {raw.strip()!r} in:\n{output}"


@pytest.mark.parametrize("page", DOC_PAGES, ids=[p.name for p in DOC_PAGES])
def test_doc_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    environment = dict(os.environ)
    try:
        run_page(page, tmp_path)
    finally:  # a page may set environment variables, as its readers would
        os.environ.clear()
        os.environ.update(environment)


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_page(ROOT / "README.md", tmp_path, python_only=True)


def test_every_page_has_examples():
    assert DOC_PAGES, "docs/ has no pages"
    for page in DOC_PAGES:
        if page.name != "index.md":
            assert code_blocks(page), f"{page.name} has no code examples"
