"""The noise sweep's HTML report: its grid as a table and its plot, in one self-contained file."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write
from pseudorel.report.html import Markup, page, section, table


def write_noise_report(path: Path, title: str, summary: pd.DataFrame, plot_png: Path) -> Path:
    """``summary``: one row per (loss, ratio) with mean, std and count of test nDCG@10 over seeds."""
    data = base64.b64encode(Path(plot_png).read_bytes()).decode()
    image = Markup(f'<figure><img alt="nDCG@10 vs noise ratio" src="data:image/png;base64,{data}"></figure>')
    rows = [[r.loss, float(r.ratio), float(r.mean), float(r.std), int(r.count)] for r in summary.itertuples()]
    grid = table(["loss", "noise ratio", "test nDCG@10 (mean)", "std over seeds", "seeds"], rows)
    body = [
        section("Test nDCG@10 against label noise", image, "plot"),
        section("Grid", grid, "grid"),
    ]
    with atomic_write(path) as f:
        f.write(page(title, body, subtitle="Train labels from qrels with injected noise; test qrels for the metric."))
    return path
