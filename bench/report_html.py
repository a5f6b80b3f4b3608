"""The HTML report of a real adapt run, with its evaluation section, and a PNG of its first screen.

For each adapt output folder under bench/cache/system (made by bench/system.py with adapt's
defaults): the test runs of the zero-shot and adapted systems are computed and saved in the
folder's evaluation/ (test qrels read for the report only), the report is written to
bench/results/report_<collection>.html, and headless Chromium screenshots its first screen.

    .venv/bin/python bench/report_html.py [--folders scifact+nomic]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA

from pseudorel.data import load_beir
from pseudorel.evaluation.adapted import evaluate_students
from pseudorel.report import build_report

CACHE = Path(__file__).parent / "cache" / "system"
RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folders", nargs="+", default=["scifact+nomic"])
    args = parser.parse_args()
    for folder in args.folders:
        collection = folder.split("+")[0]
        test = load_beir(SHARED_DATA / collection, splits=["test"])
        # reranker=None: BM25 >> reranker is left out of the report's table (the guard dropped it)
        evaluate_students(test, CACHE / folder, "test", reranker=False)
        html = build_report(CACHE / folder, RESULTS / f"report_{collection}.html")
        png = html.with_suffix(".png")
        chromium = shutil.which("chromium") or "chromium"
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}"]
        subprocess.run([*command, "--window-size=1280,1000", html.resolve().as_uri()], check=True, capture_output=True)
        print(html, png)


if __name__ == "__main__":
    main()
