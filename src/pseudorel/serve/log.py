"""The append-only log of written-back documents: one JSON line per operation (``add`` with the
document and its provenance, ``remove``), appended in one write and fsynced before it counts.

A crash mid-append leaves at most a partial last line; opening the log cuts it off (with a
warning), so the corpus is exactly the operations that completed. A lock file serialises
writers across processes (the service and ``pseudorel corpus revert``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pseudorel._io import append_durably

logger = logging.getLogger("pseudorel")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WrittenLog:
    """``folder/written.jsonl``: the operations, in order (``seq`` from 1)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "written.jsonl"
        self.path.touch(exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def records(self) -> list[dict]:
        """Every complete operation; a torn last line (a crash mid-append) is cut off the file."""
        data = self.path.read_bytes()
        complete, _, torn = data.rpartition(b"\n")
        records = []
        for number, line in enumerate(complete.split(b"\n") if complete else [], start=1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise ValueError(f"{self.path}:{number}: not a log record (the log was edited by hand?)") from None
        if torn:
            logger.warning("%s: cutting off a torn last record (%d bytes) left by a crash", self.path, len(torn))
            with open(self.path, "r+b") as f:
                f.truncate(len(complete) + (1 if complete else 0))
                os.fsync(f.fileno())
        return records

    def append(self, record: dict) -> dict:
        """Append ``record`` (``seq`` and ``time`` added) durably; returns it as written."""
        with self.locked():
            seq = len(self.records()) + 1
            record = {"seq": seq, "time": now(), **record}
            append_durably(self.path, json.dumps(record, ensure_ascii=False) + "\n")
        return record


def live_documents(records: list[dict]) -> dict[str, dict]:
    """The written-back documents still in the corpus: each ``add`` not later ``remove``d."""
    live: dict[str, dict] = {}
    for record in records:
        if record["op"] == "add":
            live[record["id"]] = record
        elif record["op"] == "remove":
            live.pop(record["id"], None)
    return live
