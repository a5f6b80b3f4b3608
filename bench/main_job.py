"""The README's first command, as a new user runs it: `make adapt DATASET=cranfield` with an
empty pseudorel cache (so nomic-embed-text-v1.5 is fetched and every embedding computed) and a
fresh output folder. Records the wall time, what the command printed (progress bars left out)
and its report.json.

    .venv/bin/python bench/main_job.py [--dataset cranfield]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

ROOT = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"\w/s\]|s/\w+\]|Loading weights|Computing widget|^\s*\{'|^\s*$")  # progress bars, blank lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="cranfield")
    args = parser.parse_args()
    report = Report(f"main_job_{args.dataset}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PSEUDOREL_CACHE_DIR": f"{tmp}/cache", "PSEUDOREL_DATA_DIR": str(SHARED_DATA)}
        command = ["make", "adapt", f"DATASET={args.dataset}", f"OUT={tmp}/runs"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        adapt_report = json.loads(Path(f"{tmp}/runs/{args.dataset}-adapt/report.json").read_text())
        printed = [line.split("\r")[-1] for line in (done.stderr + done.stdout).splitlines()]
        printed = [line.replace(tmp, "<tmp>") for line in printed if not NOISE.search(line.split("\r")[-1])]
    report.data.update(
        {"command": " ".join(command), "empty_cache": True, "wall_seconds": seconds, "adapt": adapt_report}
    )
    lines = [
        f"`{' '.join(command)}` with an empty cache (nomic fetched, every embedding computed): {seconds:.0f} s.",
        "",
        "```",
        *printed,
        "```",
    ]
    report.save("\n".join(lines), complete=True)


if __name__ == "__main__":
    main()
