"""Shared helpers for benchmark scripts: machine facts and result files (JSON + Markdown)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pseudorel._io import atomic_write

RESULTS = Path(__file__).parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import subprocess

    import torch

    from pseudorel.machine import cpu_summary

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "cpu_flags": cpu_summary()["flags"],
        "commit": commit,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


class Report:
    """Collects results and rewrites ``bench/results/<name>.json`` and ``.md`` after each step.

    Every top-level result (a row: an experiment, a collection) carries its own provenance under
    ``provenance[key]``: the command, commit, date and wall time of the run that made it.
    ``keep_previous`` starts from the results already in the JSON file (a rerun with ``--only``
    updates some rows and keeps the others, each with its own provenance); a row this run
    replaces moves, with its provenance, to ``bench/results/archive/<name>.jsonl``."""

    def __init__(self, name: str, keep_previous: bool = False):
        self.name = name
        self.started = time.perf_counter()
        machine_facts = machine()
        self.meta = {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_facts,
            "commit": machine_facts["commit"],
        }
        self.data: dict = {}
        self.provenance: dict = {}
        self._previous: dict = {}
        self._replaced: tuple[dict, dict] | None = None  # a file this run starts anew: archived at its first save
        path = RESULTS / f"{name}.json"
        if path.is_file():
            earlier = json.loads(path.read_text())
            earlier.pop("meta", None)
            provenance = earlier.pop("provenance", {})
            if keep_previous:
                self.data, self.provenance = earlier, provenance
                self._previous = json.loads(json.dumps(self.data))
            else:
                self._replaced = (rows(earlier), provenance)

    def _same_run(self, provenance: dict) -> bool:
        return all(provenance.get(k) == self.meta[k] for k in ("command", "commit", "date"))

    def _stamp(self) -> None:
        """This run's provenance on every row it made or changed; rows of earlier runs it replaces
        go to the archive (a row this run saved before and now updates does not)."""
        if self._replaced is not None:
            earlier, provenance = self._replaced
            for key, value in earlier.items():
                if key in provenance and not self._same_run(provenance[key]):
                    _archive(self.name, key, value, provenance[key])
            self._replaced = None
        mine = {k: self.meta[k] for k in ("command", "commit", "date", "wall_seconds")}
        previous = rows(self._previous)
        current = rows(self.data)
        for key, value in current.items():
            before = previous.get(key)
            if before is not None and json.loads(json.dumps(value)) == before and key in self.provenance:
                continue
            if before is not None and key in self.provenance and not self._same_run(self.provenance[key]):
                _archive(self.name, key, before, self.provenance[key])
            self.provenance[key] = mine
        self._previous = json.loads(json.dumps(self.data))
        self.provenance = {k: v for k, v in self.provenance.items() if k in current}

    def save(self, markdown: str, complete: bool = False) -> None:
        self.meta["wall_seconds"] = round(time.perf_counter() - self.started, 1)
        self.meta["complete"] = complete
        self._stamp()
        payload = {**self.data, "provenance": self.provenance, "meta": self.meta}
        with atomic_write(RESULTS / f"{self.name}.json") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        with atomic_write(RESULTS / f"{self.name}.md") as f:
            f.write(render_header(self.name, payload) + markdown)


def against_baseline(evaluations: dict, baseline: str, p_key: str, measure: str = "nDCG@10") -> dict[str, dict]:
    """Each run's mean scores plus ``p_key``: the paired randomization p of its ``measure`` against
    the ``baseline`` run's (``evaluations``: run name -> ``evaluate_run`` result)."""
    from pseudorel.evaluation import paired_test

    base = evaluations[baseline].column(measure)
    return {
        key: {**e.aggregate, p_key: paired_test(base, e.column(measure), measure).p_value}
        for key, e in evaluations.items()
    }


def rows(data: dict) -> dict:
    """The rows of a result: each top-level entry, or for a table of experiments or collections
    (a dict of dicts) each of its entries, named ``table/entry``."""
    found = {}
    for key, value in data.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            found.update({f"{key}/{sub}": v for sub, v in value.items()})
        else:
            found[key] = value
    return found


def _archive(name: str, key: str, value, provenance: dict) -> None:
    """A superseded row, appended to ``results/archive/<name>.jsonl`` with the run that made it."""
    folder = RESULTS / "archive"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{name}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"row": key, "provenance": provenance, "value": value}) + "\n")


def render_header(name: str, payload: dict) -> str:
    """The Markdown header of a result file, from its JSON: the machine of the latest run, and
    which run (command, commit, date, wall time) made each row."""
    m = payload["meta"]
    facts = m["machine"]
    header = (
        f"# {name}\n\n"
        f"- machine: {facts['cores']} cores ({facts['cpu']}), torch {facts['torch']}"
        f" with {facts['torch_threads']} threads; CPU flags {', '.join(facts.get('cpu_flags', []))}\n"
        f"- latest run: `{m['command']}` at {m.get('commit') or facts.get('commit', 'unknown')}, {m['date']}, "
        f"{m['wall_seconds']} s{'' if m.get('complete') else ' (partial: still running or interrupted)'}\n\n"
    )
    runs: dict[tuple, list[str]] = {}
    for key, p in payload.get("provenance", {}).items():
        runs.setdefault((p["command"], p["commit"], p["date"], p.get("wall_seconds")), []).append(key)
    if runs:
        header += "| rows | made by | commit | date | wall time (s) |\n|---|---|---|---|---|\n"
        for (command, commit, date, wall), keys in runs.items():
            header += f"| {', '.join(keys)} | `{command}` | {commit} | {date} | {wall} |\n"
        header += "\n"
    return header


def run_table(runs: dict[str, dict], first_column: str, p_key: str, p_title: str) -> str:
    """A Markdown table of runs: nDCG@10, R@100 and the p-value stored under ``p_key`` (blank
    where a run has none)."""
    lines = [f"| {first_column} | nDCG@10 | R@100 | {p_title} |", "|---|---|---|---|"]
    for key, row in runs.items():
        p = row.get(p_key)
        lines.append(f"| {key} | {row['nDCG@10']:.4f} | {row['R@100']:.4f} | {'' if p is None else f'{p:.3g}'} |")
    return "\n".join(lines)
