"""The core's import structure: no import cycle, and no function-local import
of a core module used to dodge one.

The core is ``dyne/*.py`` and ``dyne/middleware`` (extensions under
``dyne.ext`` are separate packages on top of it). Imports are read from the
source: module-level imports (except under ``if TYPE_CHECKING:``, which never
run) form the import graph, which must be acyclic. A function-local import of
another core module is allowed only when it is not hiding a cycle, that is
when the imported module does not (transitively) import the importing one:
such local imports exist to keep ``import dyne`` light (templates, the test
client and the session store load optional libraries), not to break cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dyne

SOURCE = Path(dyne.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


ALL_MODULES = {_module_name(path) for path in SOURCE.rglob("*.py")}


def core_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(SOURCE.rglob("*.py"))
            if "ext" not in path.relative_to(SOURCE).parts}


def _targets(module: str, node: ast.Import | ast.ImportFrom, is_package: bool,
             known: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        base = node.module or ""
        if node.level:
            package = module if is_package else module.rpartition(".")[0]
            parts = package.split(".")
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        submodules = {f"{base}.{alias.name}" for alias in node.names} & ALL_MODULES
        # ``from . import status`` imports the submodule; the package itself
        # is already being imported.
        names = submodules if submodules and len(submodules) == len(node.names) else {base}
        names |= submodules
    return {name for name in names if name in known and name != module}


def imports() -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """``(module-level graph, [(importer, imported, line)] of local imports)``."""
    known = core_modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    local: list[tuple[str, str, int]] = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, in_function: bool, module: str = module,
                  is_package: bool = is_package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue  # never runs
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _targets(module, child, is_package, known):
                        if in_function:
                            local.append((module, target, child.lineno))
                        else:
                            graph[module].add(target)
                else:
                    visit(child, in_function or isinstance(
                        child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
    return graph, local


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A path of imports from ``start`` to ``goal``, if there is one."""
    stack: list[list[str]] = [[start]]
    seen: set[str] = set()
    while stack:
        path = stack.pop()
        if path[-1] == goal:
            return path
        if path[-1] in seen:
            continue
        seen.add(path[-1])
        stack.extend([*path, nxt] for nxt in sorted(graph.get(path[-1], ())))
    return None


def test_the_checker_sees_the_core():
    graph, local = imports()
    assert {"dyne.app", "dyne.routing", "dyne.endpoints", "dyne.scaffold", "dyne.groups",
            "dyne.middleware"} <= set(graph)
    assert "dyne.routing" in graph["dyne.app"]
    assert "dyne.scaffold" in graph["dyne.groups"]
    # Lazy imports are seen too (the test client is loaded on first use).
    assert ("dyne.app", "dyne.testing") in {(a, b) for a, b, _ in local}


def test_no_import_cycle_in_the_core():
    graph, _ = imports()
    cycles = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            back = _reaches(graph, target, module)
            if back is not None:
                cycles.append(" -> ".join([module, *back]))
    assert cycles == []


def test_no_local_import_dodges_a_cycle():
    graph, local = imports()
    dodges = []
    for module, target, line in local:
        back = _reaches(graph, target, module)
        if back is not None:
            dodges.append(f"{module}:{line} imports {target} inside a function; at module level "
                          f"it would close the cycle {' -> '.join([module, *back])}")
    assert dodges == []


# -- strict typing of the core's structure ---------------------------------------------------

STRICT = ["app.py", "routing.py", "endpoints.py", "scaffold.py", "groups.py", "error_handlers.py",
          "staticfiles.py", "extensions.py"]


def test_core_structure_passes_mypy_strict():
    """The modules every extension builds on are checked with ``mypy --strict``."""
    import subprocess
    import sys

    pytest.importorskip("mypy", reason="mypy is a dev dependency")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         *(str(SOURCE / name) for name in STRICT)],
        capture_output=True, text=True, cwd=SOURCE.parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr
