"""The append-only log of written-back documents: one JSON line per operation (``add`` with the
document and its provenance, ``remove``), appended in one write and fsynced before it counts.

A crash mid-append leaves at most a partial last line. Readers skip it and never change the
file; the next writer, holding the lock, cuts it off. A last line that parses is a complete
record, newline or not: it is kept (the writer adds the missing newline). A lock file
serialises writers across processes (every service on the state, ``pseudorel corpus revert``),
and ids are handed out under that lock, from the log itself, so two writers never share one."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pseudorel._io import append_durably
from pseudorel.errors import InputError

logger = logging.getLogger("pseudorel")

OPS = ("add", "remove")
REPAIR = "restore the file from a backup, or delete that line if you know what it held"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_record(record, path: Path, line: int) -> dict:
    """``record`` if it is an operation this log writes, else an :class:`InputError` naming the line."""
    if not isinstance(record, dict):
        raise InputError(path, f"not a log record (a JSON object): {REPAIR}", line)
    if record.get("op") not in OPS or not isinstance(record.get("id"), str) or not record["id"]:
        raise InputError(path, f"a log record needs 'op' (add or remove) and a string 'id': {REPAIR}", line)
    if record["op"] == "add" and not isinstance(record.get("text"), str):
        raise InputError(path, f"an 'add' record needs a string 'text': {REPAIR}", line)
    if not isinstance(record.get("provenance", {}), dict):
        raise InputError(path, f"'provenance' must be a JSON object: {REPAIR}", line)
    return record


class WrittenLog:
    """``folder/written.jsonl``: the operations, in order (``seq`` from 1)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "written.jsonl"
        self.path.touch(exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)  # the folder may have been deleted meanwhile
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> tuple[list[dict], int, bool]:
        """(the complete records, the length of the file's good part, whether it lacks its last newline)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0, False
        complete, _, tail = data.rpartition(b"\n")
        lines = complete.split(b"\n") if complete else []
        records = []
        for number, line in enumerate(lines, start=1):
            try:
                records.append(check_record(json.loads(line), self.path, number))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError(self.path, f"not a log record (not JSON): {REPAIR}", number) from None
        good = len(complete) + (1 if complete else 0)
        if not tail:
            return records, good, False
        try:
            records.append(check_record(json.loads(tail), self.path, len(lines) + 1))
            return records, len(data), True  # complete, only its newline missing
        except (json.JSONDecodeError, UnicodeDecodeError):
            logger.warning("%s: skipping a torn last record (%d bytes) left by a crash", self.path, len(tail))
            return records, good, False

    def records(self) -> list[dict]:
        """Every complete operation (reading never changes the file)."""
        return self._read()[0]

    def stamp(self) -> tuple[int, int]:
        """(size, mtime) of the log: a change another process made shows here; (0, 0) where it is gone."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return 0, 0
        return stat.st_size, stat.st_mtime_ns

    def append(self, record: dict | Callable[[list[dict]], dict]) -> dict:
        """Append ``record`` (``seq`` and ``time`` added) durably; returns it as written. ``record``
        may be a function of the records already there (called under the lock: an id it picks from
        them is the writer's alone)."""
        with self.locked():
            records, good, newline_missing = self._read()
            if self.path.exists() and self.path.stat().st_size > good:
                with open(self.path, "r+b") as f:  # a torn last record: only what did not parse
                    f.truncate(good)
                    os.fsync(f.fileno())
            if newline_missing:
                append_durably(self.path, "\n")
            made = record(records) if callable(record) else record
            made = {"seq": len(records) + 1, "time": now(), **made}
            append_durably(self.path, json.dumps(made, ensure_ascii=False, allow_nan=False) + "\n")
        return made


def live_documents(records: list[dict]) -> dict[str, dict]:
    """The written-back documents still in the corpus: each ``add`` not later ``remove``d."""
    live: dict[str, dict] = {}
    for record in records:
        if record["op"] == "add":
            live[record["id"]] = record
        elif record["op"] == "remove":
            live.pop(record["id"], None)
    return live
