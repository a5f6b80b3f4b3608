"""The report's plots (matplotlib, Agg): every axis labelled, readable at a glance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pseudorel.teachers.registry import teacher_of


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def teacher_histograms(frame: pd.DataFrame, columns: list[str]):
    plt = _plt()
    fig, axes = plt.subplots(1, len(columns), figsize=(3.2 * len(columns), 2.6), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        values = frame[column].dropna().to_numpy()
        ax.hist(values, bins=20, range=(0, 1), color="#4c72b0")
        ax.set_title(f"{teacher_of(column)} ({len(values)} pairs)", fontsize=9)
        ax.set_xlabel("probability of relevance")
        ax.set_ylabel("pairs")
        ax.set_yscale("log")
    fig.tight_layout()
    return fig


def calibration_curves(frame: pd.DataFrame, columns: list[str], bins: int = 10):
    """Per teacher: in bins of its probability, the share of synthetic queries' candidates that
    are the query's source document (the only label-free positives there are)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    synthetic = frame[frame["query_source"] != "log"]
    edges = np.linspace(0, 1, bins + 1)
    for column in columns:
        rows = synthetic.dropna(subset=[column])
        if rows.empty:
            continue
        which = np.clip(np.digitize(rows[column], edges) - 1, 0, bins - 1)
        share = pd.Series(rows["is_source_doc"].astype(float).to_numpy()).groupby(which).mean()
        mid = pd.Series(rows[column].to_numpy()).groupby(which).mean()
        ax.plot(mid, share, marker="o", label=teacher_of(column))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    ax.set_xlabel("teacher probability (bin mean)")
    ax.set_ylabel("share that is the source document")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_curves(curves: dict[str, dict]):
    """Held-out pseudo-label metric per evaluation step; step 0 is the untrained model; the
    checkpoint kept is circled."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.0), squeeze=False)
    for ax, (name, card) in zip(axes[0], curves.items(), strict=True):
        steps, values = zip(*card["held_out_curve"], strict=True)
        ax.plot(steps, values, marker=".", label="held-out pseudo-label metric")
        ax.axhline(values[0], ls="--", color="grey", lw=1, label="untrained (step 0)")
        best = card.get("best_step")
        if best in steps:
            ax.plot([best], [values[steps.index(best)]], "o", ms=12, mfc="none", color="#c62828", label="kept")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("training step")
        ax.set_ylabel("held-out metric (higher is better)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def wins_losses(deltas: dict[str, float], name: str, baseline: str):
    """Per query, nDCG@10 of ``name`` minus ``baseline``, sorted."""
    plt = _plt()
    values = np.sort(np.array(list(deltas.values())))
    fig, ax = plt.subplots(figsize=(7, 2.8))
    colors = np.where(values > 0, "#2e7d32", np.where(values < 0, "#c62828", "#999999"))
    ax.bar(np.arange(len(values)), values, color=colors, width=1.0)
    ax.axhline(0, color="black", lw=0.8)
    wins, losses = int((values > 0).sum()), int((values < 0).sum())
    ax.set_title(
        f"{name} vs {baseline}: {wins} queries gain, {losses} lose, {len(values) - wins - losses} tie", fontsize=9
    )
    ax.set_xlabel("queries (sorted by difference)")
    ax.set_ylabel("Δ nDCG@10")
    fig.tight_layout()
    return fig
