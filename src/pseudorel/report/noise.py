"""The noise sweep's HTML report: its grid as a table and its plot, in one self-contained file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write
from pseudorel.report.html import image, page, section, table


def write_noise_report(path: Path, title: str, summary: pd.DataFrame, plot_png: Path) -> Path:
    """``summary``: one row per (loss, ratio) with mean, std and count of test nDCG@10 over seeds."""
    plot = image(Path(plot_png).read_bytes(), "Test nDCG@10 against the noise ratio, one line per loss")
    rows = [[r.loss, float(r.ratio), float(r.mean), float(r.std), int(r.count)] for r in summary.itertuples()]
    grid = table(["loss", "noise ratio", "test nDCG@10 (mean)", "std over seeds", "seeds"], rows)
    body = [
        section("Test nDCG@10 against label noise", plot, "plot"),
        section("Grid", grid, "grid"),
    ]
    with atomic_write(path) as f:
        f.write(page(title, body, subtitle="Train labels from qrels with injected noise; test qrels for the metric."))
    return path
