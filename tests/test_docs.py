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

Checks the reader does not need to see (asserts, test-only setup such as
environment variables or temporary directories) go in a hidden block: an HTML
comment whose first line is exactly ``<!-- check`` and whose last line is
exactly ``-->``, holding one or more fenced blocks and nothing else::

    <!-- check
    ```python
    assert response.text == "Hello, john!"
    ```
    -->

MkDocs and GitHub do not show HTML comments, but this runner runs the fences
inside as if they were visible: in document order, in the page's namespace,
with the same info-string rules (a hidden ``text`` block is refused, as it
would check nothing). A malformed hidden block (other text beside the fences,
no fence, a missing ``-->``) fails the page, and so does any other HTML
comment holding a fence (a misspelt ``<!-- chek``), so a check cannot be
skipped silently. When a page shows an output (a ``# "Hello, john!"`` comment,
a ``text`` block), a hidden block asserts exactly that output.

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
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
#: Info-string options the runner understands.
KNOWN_OPTIONS = frozenset({"file"})
#: Languages run (or shown) without ``file=``.
RUN_LANGUAGES = frozenset({"python", "console", "text"})
INDENTED = "(indented code block)"


class Block(NamedTuple):
    language: str
    options: dict[str, str]
    source: str
    line: int
    hidden: bool = False


#: First and last line of a hidden block of checks.
HIDDEN_OPEN = "<!-- check"
HIDDEN_CLOSE = "-->"


class MalformedHiddenBlock(Exception):
    """An HTML comment meant as (or looking like) a hidden block that the runner cannot run."""


def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def _fence(token, line: int, hidden: bool = False) -> Block:
    info = token.info.strip().split()
    language = info[0] if info else ""
    options = dict(item.split("=", 1) if "=" in item else (item, "") for item in info[1:])
    return Block(language, options, token.content, line, hidden)


def code_blocks_of(text: str) -> list[Block]:
    """Every code block CommonMark finds in ``text``, hidden ones (``<!-- check``) included."""
    blocks = []
    for token in _parser().parse(text):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "html_block":
            blocks.extend(hidden_blocks_of(token.content, line))
        elif token.type == "code_block":
            blocks.append(Block(INDENTED, {}, token.content, line))
        elif token.type == "fence":
            blocks.append(_fence(token, line))
    return blocks


def hidden_blocks_of(html: str, line: int) -> list[Block]:
    """The fences of a ``<!-- check`` ... ``-->`` HTML block that starts at ``line``.

    Raises MalformedHiddenBlock for a check block that is not exactly one comment
    of fences, and for any other HTML block holding a fence.
    """
    lines = html.rstrip("\n").split("\n")
    if lines[0].rstrip() != HIDDEN_OPEN:
        if "```" in html or "~~~" in html:
            raise MalformedHiddenBlock(
                f"line {line}: an HTML block holding a code fence must start with "
                f"exactly {HIDDEN_OPEN!r} on its own line")
        return []
    if len(lines) < 2 or lines[-1].strip() != HIDDEN_CLOSE:
        raise MalformedHiddenBlock(
            f"line {line}: a hidden block must end with {HIDDEN_CLOSE!r} on its own line "
            "(is it closed, or does a line inside contain '-->'?)")
    inner = "\n".join(lines[1:-1]) + "\n"
    blocks = []
    for token in _parser().parse(inner):
        if token.type == "fence":
            blocks.append(_fence(token, line + 1 + token.map[0], hidden=True))
        elif token.nesting >= 0 and token.type != "inline":
            inner_line = line + 1 + (token.map[0] if token.map else 0)
            raise MalformedHiddenBlock(
                f"line {inner_line}: a hidden block holds only fenced code blocks, "
                f"not {token.type}")
    if not blocks:
        raise MalformedHiddenBlock(f"line {line}: a hidden block holds no fenced code block")
    return blocks


def code_blocks(page: Path) -> list[Block]:
    try:
        return code_blocks_of(page.read_text(encoding="utf-8"))
    except MalformedHiddenBlock as error:
        pytest.fail(f"{page.name}: {error}")


def check_block(where: str, language: str, options: dict[str, str], hidden: bool = False) -> None:
    """Fail for a block the runner would not run (or write) as the page means it."""
    assert "norun" not in options, f"{where}: every documented block must run"
    if hidden and language == "text" and "file" not in options:
        pytest.fail(f"{where}: a hidden text block checks nothing; hidden blocks are for checks")
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
    for language, options, source, line, hidden in code_blocks(page):
        where = f"{page.name}:{line}" + (" (hidden check)" if hidden else "")
        if python_only:
            assert "norun" not in options, f"{where}: every documented block must run"
        else:
            check_block(where, language, options, hidden)
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
    found = [(block.language, block.source) for block in code_blocks_of(text)]
    assert found == [
        ("python", "indented = 3\n"), ("python", "tilde = True\n"), ("python", "in_a_list = 1\n"),
        ("console", "$ echo hi\nhi\n"), ("python", "quoted = 1\n"),
        ("text", '```python\nnot_a_block = "inside a longer fence"\n```\n'),
    ]
    assert [block.line for block in code_blocks_of(text)] == [3, 7, 13, 18, 23, 27]
    assert not any(block.hidden for block in code_blocks_of(text))


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


# -- Hidden checks (<!-- check ... -->) -------------------------------------------------

HIDDEN_PAGE = """# Page

```python
greeting = "hello"
```

<!-- check
```python
assert greeting == "hello"
seen = ["first check"]
```

~~~python
seen.append("second check")
~~~
-->

1. In a list:

   <!-- check
   ```python
   seen.append("in a list")
   ```
   -->

```python
seen.append("visible after")
```

<!-- A plain comment is left alone. -->
"""

#: A file block right before a hidden one: MkDocs must render the file block as code
#: (superfences' relaxed_headers) or the hidden block's fence pairs up with it and shows.
FILE_THEN_HIDDEN = """
```text file=note.txt
from a file block
```

<!-- check
```python
assert open("note.txt").read() == "from a file block\\n"  # hidden after a file block
```
-->
"""


def test_hidden_blocks_are_collected_in_document_order():
    blocks = code_blocks_of(HIDDEN_PAGE)
    assert [(block.source.strip(), block.hidden) for block in blocks] == [
        ('greeting = "hello"', False),
        ('assert greeting == "hello"\nseen = ["first check"]', True),
        ('seen.append("second check")', True),
        ('seen.append("in a list")', True),
        ('seen.append("visible after")', False),
    ]
    assert [block.line for block in blocks] == [3, 8, 13, 21, 26]


def test_hidden_blocks_run_in_the_page_namespace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text(HIDDEN_PAGE + """
<!-- check
```python
assert seen == ["first check", "second check", "in a list", "visible after"], seen
```
-->
""", encoding="utf-8")
    run_page(page, tmp_path)


def test_a_failing_hidden_check_fails_the_page(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text("""# Page

```python
answer = 41
```

<!-- check
```python
assert answer == 42, "the hidden check ran"
```
-->
""", encoding="utf-8")
    with pytest.raises(AssertionError, match="the hidden check ran"):
        run_page(page, tmp_path)


def test_a_hidden_file_block_is_written_and_a_hidden_console_block_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text("""# Page

<!-- check
```text file=data.txt
from a hidden file
```

```console
$ python -c "print(open('data.txt').read())"
from a hidden file
```
-->
""", encoding="utf-8")
    run_page(page, tmp_path)
    assert (tmp_path / "data.txt").read_text() == "from a hidden file\n"


@pytest.mark.parametrize("comment, error", [
    ("<!-- check\n```python\nx = 1\n```\n", "must end with '-->'"),
    ("<!-- check\n```python\nx = '-->'\n```\n-->\n", "must end with '-->'"),
    ("<!-- check\nassert x == 1\n-->\n", "holds only fenced code blocks, not paragraph_open"),
    ("<!-- check\n```python\nx = 1\n```\nAnd some prose.\n-->\n", "holds only fenced code blocks"),
    ("<!-- check\n    x = 1\n-->\n", "holds only fenced code blocks, not code_block"),
    ("<!-- check\n\n-->\n", "holds no fenced code block"),
    ("<!-- chek\n```python\nx = 1\n```\n-->\n", "must start with exactly '<!-- check'"),
    ("<!--\n```python\nx = 1\n```\n-->\n", "must start with exactly '<!-- check'"),
    ("<!-- check ```python\nx = 1\n```\n-->\n", "must start with exactly '<!-- check'"),
])
def test_a_malformed_hidden_block_fails_the_page(comment, error, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# Page\n\n{comment}", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=error):
        run_page(page, tmp_path)


def test_a_hidden_text_block_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n<!-- check\n```text\nnothing checked\n```\n-->\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="hidden text block checks nothing"):
        run_page(page, tmp_path)


def test_hidden_blocks_are_not_shown_by_mkdocs(tmp_path):
    """The built page keeps a hidden block inside an HTML comment, out of the search index."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(HIDDEN_PAGE + FILE_THEN_HIDDEN, encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    extensions = config[config.index("markdown_extensions:"):config.index("\nnav:")]
    (tmp_path / "mkdocs.yml").write_text(f"site_name: t\nplugins:\n  - search\n{extensions}",
                                         encoding="utf-8")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    visible = html
    while "<!--" in visible:
        start = visible.index("<!--")
        visible = visible[:start] + visible[visible.index("-->", start) + 3:]
    assert "greeting" in visible and "visible after" in visible
    assert "second check" in html and "second check" not in visible
    assert "in a list" in html and "in a list" not in visible
    assert "from a file block" in visible and "```" not in visible
    assert "hidden after a file block" in html and "hidden after a file block" not in visible
    search = (tmp_path / "site" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "greeting" in search and "second check" not in search
