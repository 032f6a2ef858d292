"""The files page's path handling: every path stays inside the configured root."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from dyne.exceptions import HTTPException

__all__ = ["Entry", "list_directory", "resolve_inside"]


@dataclass
class Entry:
    name: str
    path: str
    is_dir: bool
    size: int
    modified: str


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative``, resolved (symlinks followed), or a 400 when that
    leaves ``root``: ``..``, absolute paths, backslashes, NUL bytes, symlinks
    pointing out. A missing path is a 404."""
    if len(relative) > 1024 or "\x00" in relative or "\\" in relative:
        raise HTTPException(400, "Invalid path")
    if relative.startswith("/") or any(part == ".." for part in relative.split("/")):
        raise HTTPException(400, "Paths are relative to the files root, without '..'")
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and not target.is_relative_to(base):
        raise HTTPException(400, "That path leads outside the files root")
    if not target.exists():
        raise HTTPException(404, "No such file or directory")
    return target


def list_directory(root: Path, directory: Path, limit: int = 1000) -> list[Entry]:
    """The directory's entries that stay inside ``root``: directories first, by name."""
    base = root.resolve()
    entries = []
    for child in sorted(directory.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))[:limit]:
        try:
            resolved = child.resolve()
            if not resolved.is_relative_to(base):
                continue  # a symlink pointing out of the root
            stat = resolved.stat()
        except OSError:
            continue
        modified = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC)
        entries.append(Entry(name=child.name, path=str(child.relative_to(base)), is_dir=resolved.is_dir(),
                             size=stat.st_size, modified=modified.isoformat(sep=" ", timespec="seconds")))
    return entries
