"""bench/_report.py: a rerun replaces rows and moves the earlier runs' rows to the archive, never its own."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _report


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(_report, "RESULTS", tmp_path)
    facts = {"cores": 2, "cpu": "test", "torch": "-", "torch_threads": 1, "commit": "abc1234"}
    monkeypatch.setattr(_report, "machine", lambda: facts)
    return tmp_path


def run(name: str, date: str, keep_previous: bool = False) -> _report.Report:
    report = _report.Report(name, keep_previous=keep_previous)
    report.meta["date"] = date
    return report


def archived(results: Path, name: str) -> list[tuple[str, str]]:
    path = results / "archive" / f"{name}.jsonl"
    if not path.is_file():
        return []
    return [(r["row"], r["provenance"]["date"]) for r in map(json.loads, path.read_text().splitlines())]


def test_a_run_updating_its_own_rows_archives_nothing(results):
    first = run("x", "run 1")
    first.data = {"collections": {"a": {"v": 1}}}
    first.save("")
    first.data["collections"]["a"]["v"] = 2
    first.data["collections"]["b"] = {"v": 1}
    first.save("", complete=True)
    assert archived(results, "x") == []
    saved = json.loads((results / "x.json").read_text())
    assert set(saved["provenance"]) == {"collections/a", "collections/b"}


def test_a_new_run_archives_every_row_it_replaces(results):
    first = run("x", "run 1")
    first.data = {"collections": {"a": {"v": 1}, "b": {"v": 1}}}
    first.save("", complete=True)
    second = run("x", "run 2")
    second.data = {"collections": {"a": {"v": 3}}}
    second.save("", complete=True)
    assert sorted(archived(results, "x")) == [("collections/a", "run 1"), ("collections/b", "run 1")]
    assert json.loads((results / "x.json").read_text())["provenance"]["collections/a"]["date"] == "run 2"


def test_keep_previous_archives_only_the_rows_it_changes(results):
    first = run("x", "run 1")
    first.data = {"collections": {"a": {"v": 1}, "b": {"v": 1}}}
    first.save("", complete=True)
    second = run("x", "run 2", keep_previous=True)
    second.data["collections"]["a"] = {"v": 2}
    second.save("", complete=True)
    assert archived(results, "x") == [("collections/a", "run 1")]
    provenance = json.loads((results / "x.json").read_text())["provenance"]
    assert provenance["collections/b"]["date"] == "run 1" and provenance["collections/a"]["date"] == "run 2"
