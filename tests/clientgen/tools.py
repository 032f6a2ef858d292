"""Checkers for generated clients: mypy --strict, and tsc and node for TypeScript.

TypeScript's compiler comes from the npm registry, installed with npm into
``.cache/typescript`` in the checkout (gitignored) the first time; node and
npm must be installed (``apt-get install nodejs npm``): without them the
TypeScript tests skip, and fail under ``DYNE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, require_tool

TYPESCRIPT_VERSION = "5.9.3"
TYPESCRIPT_DIR = ROOT / ".cache" / "typescript"
#: What the generated client needs: fetch, FormData, Blob (the DOM library
#: declares them; Node 18+ has them all as globals).
TSC_OPTIONS = ["--strict", "--target", "es2022", "--lib", "es2022,dom"]


def mypy_strict(*files: Path) -> None:
    """``mypy --strict`` on ``files``; fails with mypy's report."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             "--cache-dir", "/dev/null", *map(str, files)],
                            capture_output=True, text=True, timeout=300, cwd=files[0].parent)
    assert result.returncode == 0, result.stdout + result.stderr


def node() -> str:
    return require_tool("node", "apt-get install nodejs (Node 18 or later)")


def tsc() -> list[str]:
    """The command running TypeScript's compiler, installed from the npm registry if needed."""
    node_path = node()
    compiler = TYPESCRIPT_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    package = TYPESCRIPT_DIR / "node_modules" / "typescript" / "package.json"
    if not compiler.is_file() or f'"version": "{TYPESCRIPT_VERSION}"' not in package.read_text():
        npm = require_tool("npm", "apt-get install npm")
        TYPESCRIPT_DIR.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([npm, "install", "--prefix", str(TYPESCRIPT_DIR), "--no-audit",
                                 "--no-fund", "--no-save", f"typescript@{TYPESCRIPT_VERSION}"],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"npm install typescript failed:\n{result.stderr}"
    return [node_path, str(compiler)]


def typecheck_typescript(*files: Path) -> None:
    """``tsc --noEmit --strict`` on ``files``; fails with the compiler's report."""
    result = subprocess.run([*tsc(), "--noEmit", *TSC_OPTIONS, "--module", "es2022",
                             *map(str, files)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def compile_typescript(out_dir: Path, *files: Path) -> None:
    """Compile ``files`` to CommonJS JavaScript in ``out_dir``, for node."""
    result = subprocess.run([*tsc(), *TSC_OPTIONS, "--module", "commonjs", "--outDir", str(out_dir),
                             *map(str, files)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (out_dir / "package.json").write_text('{"type": "commonjs"}\n')
