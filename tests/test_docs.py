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

Blocks are found by a CommonMark parser (markdown-it-py), so fences indented
by up to three spaces, ``~~~`` fences, and fences inside list items and block
quotes are run like any other; an indented (four-space) code block is refused,
as is an info string this runner does not know (another language without
``file=``, an unknown option, ``norun``): docs must not show code that is not
checked.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
#: Info-string options the runner understands.
KNOWN_OPTIONS = frozenset({"file"})
#: Languages run (or shown) without ``file=``.
RUN_LANGUAGES = frozenset({"python", "console", "text"})
INDENTED = "(indented code block)"


def code_blocks_of(text: str) -> list[tuple[str, dict[str, str], str, int]]:
    """``(language, options, source, line)`` of every code block CommonMark finds in ``text``."""
    from markdown_it import MarkdownIt

    blocks = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type not in ("fence", "code_block"):
            continue
        line = token.map[0] + 1 if token.map else 0
        if token.type == "code_block":
            blocks.append((INDENTED, {}, token.content, line))
            continue
        info = token.info.strip().split()
        language = info[0] if info else ""
        options = dict(item.split("=", 1) if "=" in item else (item, "") for item in info[1:])
        blocks.append((language, options, token.content, line))
    return blocks


def code_blocks(page: Path) -> list[tuple[str, dict[str, str], str, int]]:
    return code_blocks_of(page.read_text(encoding="utf-8"))


def check_block(where: str, language: str, options: dict[str, str]) -> None:
    """Fail for a block the runner would not run (or write) as the page means it."""
    assert "norun" not in options, f"{where}: every documented block must run"
    if language == INDENTED:
        pytest.fail(f"{where}: indented code block; use a fenced block with a language")
    unknown = set(options) - KNOWN_OPTIONS
    if unknown:
        pytest.fail(f"{where}: unknown option(s) {sorted(unknown)} in the code block's info string")
    if "file" in options:
        if not options["file"]:
            pytest.fail(f"{where}: file= needs a file name")
    elif language not in RUN_LANGUAGES:
        pytest.fail(f"{where}: code block of language {language!r} is neither run nor "
                    "written to a file (give it file=NAME or make it python/console/text)")


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
        if python_only:
            assert "norun" not in options, f"{where}: every documented block must run"
        else:
            check_block(where, language, options)
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


# -- The runner itself ------------------------------------------------------------------

def test_every_fence_commonmark_finds_is_collected():
    text = """Intro.

   ```python
   indented = 3
   ```

~~~python
tilde = True
~~~

1. A step:

   ```python
   in_a_list = 1
   ```

- Run it:
  ```console
  $ echo hi
  hi
  ```

> ```python
> quoted = 1
> ```

````text
```python
not_a_block = "inside a longer fence"
```
````
"""
    found = [(language, source) for language, _, source, _ in code_blocks_of(text)]
    assert found == [
        ("python", "indented = 3\n"), ("python", "tilde = True\n"), ("python", "in_a_list = 1\n"),
        ("console", "$ echo hi\nhi\n"), ("python", "quoted = 1\n"),
        ("text", '```python\nnot_a_block = "inside a longer fence"\n```\n'),
    ]
    assert [line for *_, line in code_blocks_of(text)] == [3, 7, 13, 18, 23, 27]


@pytest.mark.parametrize("info, error", [
    ("python norun", "every documented block must run"),
    ("pyhton", "neither run nor written to a file"),
    ("", "neither run nor written to a file"),
    ("python fiel=app.py", "unknown option"),
    ("toml file=", "file= needs a file name"),
])
def test_blocks_the_runner_would_not_run_fail(info, error, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# Page\n\n```{info}\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises((AssertionError, pytest.fail.Exception), match=error):
        run_page(page, tmp_path)


def test_an_indented_code_block_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n    x = 1\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="indented code block"):
        run_page(page, tmp_path)


def test_blocks_run_in_order_and_fail_on_a_false_assert(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text("""# Page

```text file=note.txt
hello
```

- Then:

  ~~~python
  from pathlib import Path
  assert Path("note.txt").read_text() == "hello\\n"
  assert 1 + 1 == 3, "arithmetic"
  ~~~
""", encoding="utf-8")
    with pytest.raises(AssertionError, match="arithmetic"):
        run_page(page, tmp_path)
