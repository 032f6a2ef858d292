"""Reading the app's log files from the end, and counting recent errors.

``tail_lines`` reads a file backwards in blocks, so the newest records come
first and a large log is never loaded whole: it stops after ``max_bytes``.
Lines are parsed as JSON lines (``"FORMAT": "json"``) when they look like
JSON, else as dyne's text format (``time | LEVEL | logger | [request id |] message``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ErrorCounter", "LogRecord", "parse_line", "search_logs", "tail_lines"]

LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")
_RANK = {name: rank for rank, name in enumerate(LEVELS)}
_TEXT_LEVEL = re.compile(r"\|\s*(TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL)\s*\|")
BLOCK = 64 * 1024


@dataclass
class LogRecord:
    """One line of a log file."""

    source: str
    line: str
    level: str = ""
    time: str = ""
    message: str = ""
    request_id: str = ""
    logger: str = ""


def tail_lines(path: Path, max_bytes: int = 16 * 1024 * 1024) -> Iterator[str]:
    """The lines of ``path``, last first, reading at most ``max_bytes`` from the end."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError:
        return
    try:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        floor = max(0, position - max_bytes)
        rest = b""
        while position > floor:
            size = min(BLOCK, position - floor)
            position -= size
            handle.seek(position)
            chunk = handle.read(size) + rest
            lines = chunk.split(b"\n")
            rest = lines[0]
            for raw in reversed(lines[1:]):
                if raw.strip():
                    yield raw.decode("utf-8", "replace")
        if rest.strip() and floor == 0:
            yield rest.decode("utf-8", "replace")
    finally:
        handle.close()


def parse_line(source: str, line: str) -> LogRecord:
    record = LogRecord(source=source, line=line, message=line)
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict):
            record.level = str(data.get("level", "")).upper()
            record.time = str(data.get("time", ""))
            record.message = str(data.get("message", ""))
            record.request_id = str(data.get("request_id", "") or "")
            record.logger = str(data.get("logger", ""))
            return record
    parts = [part.strip() for part in line.split(" | ")]
    match = _TEXT_LEVEL.search(line)
    if match:
        record.level = match.group(1)
        if len(parts) >= 2:
            record.time = parts[0]
    if len(parts) >= 5:  # time | level | logger | request id | message
        record.logger, record.request_id = parts[2], parts[3]
        record.message = " | ".join(parts[4:])
    elif len(parts) >= 4:
        record.logger = parts[2]
        record.message = " | ".join(parts[3:])
    return record


def search_logs(files: list[Path], *, level: str = "", text: str = "", request_id: str = "",
                limit: int = 200, max_bytes: int = 16 * 1024 * 1024) -> list[LogRecord]:
    """Matching records of ``files``, newest first (per file, files in order)."""
    minimum = _RANK.get(level.upper(), 0) if level else 0
    needle = text.lower()
    found: list[LogRecord] = []
    for path in files:
        for line in tail_lines(path, max_bytes):
            if needle and needle not in line.lower():
                continue
            if request_id and request_id not in line:
                continue
            record = parse_line(path.name, line)
            if level and _RANK.get(record.level, -1) < minimum:
                continue
            if request_id and record.request_id and record.request_id != request_id:
                continue
            found.append(record)
            if len(found) >= limit:
                return found
    return found


class ErrorCounter:
    """A loguru sink at ``ERROR`` that remembers when errors were logged (the
    dashboard's "errors in the last hour"). It only runs for error records."""

    def __init__(self, keep: int = 10_000) -> None:
        self.times: deque[float] = deque(maxlen=keep)
        self.handler_id: int | None = None

    def write(self, message: Any) -> None:
        self.times.append(time.time())

    def since(self, seconds: float) -> int:
        limit = time.time() - seconds
        return sum(1 for moment in self.times if moment >= limit)

    def start(self) -> None:
        from loguru import logger

        if self.handler_id is None:
            self.handler_id = logger.add(self.write, level="ERROR", format="{message}")

    def stop(self) -> None:
        from loguru import logger

        handler_id, self.handler_id = self.handler_id, None
        if handler_id is not None:
            try:
                logger.remove(handler_id)
            except ValueError:
                pass
