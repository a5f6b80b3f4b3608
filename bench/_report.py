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

    ``keep_previous`` starts from the results already in the JSON file (a bench rerun with
    ``--only`` updates some experiments and keeps the others); the earlier runs' commands,
    dates and wall times are kept under ``meta.earlier``."""

    def __init__(self, name: str, keep_previous: bool = False):
        self.name = name
        self.started = time.perf_counter()
        self.meta = {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
        }
        self.data: dict = {}
        path = RESULTS / f"{name}.json"
        if keep_previous and path.is_file():
            self.data = json.loads(path.read_text())
            old = self.data.pop("meta", {})
            earlier = old.pop("earlier", [])
            self.meta["earlier"] = [*earlier, {k: old[k] for k in ("command", "date", "wall_seconds") if k in old}]

    def save(self, markdown: str, complete: bool = False) -> None:
        self.meta["wall_seconds"] = round(time.perf_counter() - self.started, 1)
        self.meta["complete"] = complete
        payload = {**self.data, "meta": self.meta}
        with atomic_write(RESULTS / f"{self.name}.json") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        m = self.meta
        header = (
            f"# {self.name}\n\n"
            f"- command: `{m['command']}`\n- date: {m['date']}\n"
            f"- machine: {m['machine']['cores']} cores ({m['machine']['cpu']}), torch {m['machine']['torch']}"
            f" with {m['machine']['torch_threads']} threads; CPU flags {', '.join(m['machine'].get('cpu_flags', []))}\n"
            f"- commit: {m['machine'].get('commit', 'unknown')}\n"
            f"- wall time: {m['wall_seconds']} s{'' if complete else ' (partial: still running or interrupted)'}\n"
        )
        for e in m.get("earlier", []):
            header += (
                f"- earlier results kept from: `{e.get('command')}` ({e.get('date')}, {e.get('wall_seconds')} s)\n"
            )
        header += "\n"
        with atomic_write(RESULTS / f"{self.name}.md") as f:
            f.write(header + markdown)


def run_table(runs: dict[str, dict], first_column: str, p_key: str, p_title: str) -> str:
    """A Markdown table of runs: nDCG@10, R@100 and the p-value stored under ``p_key`` (blank
    where a run has none)."""
    lines = [f"| {first_column} | nDCG@10 | R@100 | {p_title} |", "|---|---|---|---|"]
    for key, row in runs.items():
        p = row.get(p_key)
        lines.append(f"| {key} | {row['nDCG@10']:.4f} | {row['R@100']:.4f} | {'' if p is None else f'{p:.3g}'} |")
    return "\n".join(lines)
