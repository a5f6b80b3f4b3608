"""Label-free warnings, in plain words, where the run's own signals say a part is doubtful."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pseudorel.teachers.registry import teacher_of

DISAGREEMENT = 0.3  # rank correlation between two teachers below this: they disagree
CONFIDENT = 0.5


def student_warnings(cards: dict[str, dict]) -> list[str]:
    out = []
    for name, card in cards.items():
        start, best = card.get("held_out_metric_at_start"), card.get("best_held_out_metric")
        if card.get("kept_untrained_query_tower") or (start is not None and (best is None or best <= start)):
            out.append(
                f"The {name} never beat its untrained self on held-out pseudo-labels "
                f"(untrained {_num(start)}, best trained {_num(best)}): training did not help it."
            )
    return out


def guard_warnings(decisions: list[dict]) -> list[str]:
    out = []
    for d in decisions:
        if d["part"] == "reranker" and not d["kept"]:
            out.append(
                f"The reranker agrees less with the held-out pseudo-labels than its first stage "
                f"({_num(d['score'])} vs {_num(d['baseline_score'])}); it was left out of the system."
            )
        if d["part"] == "system" and not d["kept"]:
            out.append("No learned part beat the zero-shot baseline: the system shipped is that baseline.")
    return out


def teacher_warnings(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    out = []
    for column in columns:
        values = frame[column].dropna()
        if len(values) and values.max() < CONFIDENT:
            out.append(
                f"Teacher '{teacher_of(column)}' gives no pair a probability of {CONFIDENT} or more: "
                "its calibration found no confident positives, so it cannot say what is relevant."
            )
    agreement = teacher_agreement(frame, columns)
    for (a, b), rho in agreement.items():
        if rho < DISAGREEMENT:
            out.append(
                f"Teachers '{a}' and '{b}' disagree (rank correlation {rho:.2f} on the pairs both scored): "
                "the labels are uncertain where they differ."
            )
    return out


def teacher_agreement(frame: pd.DataFrame, columns: list[str]) -> dict[tuple[str, str], float]:
    """Spearman rank correlation of every two teachers on the pairs both scored (at least 20)."""
    out = {}
    for i, a in enumerate(columns):
        for b in columns[i + 1 :]:
            both = frame[[a, b]].dropna()
            if len(both) >= 20 and both[a].nunique() > 1 and both[b].nunique() > 1:
                rho = both[a].rank().corr(both[b].rank())
                out[(teacher_of(a), teacher_of(b))] = float(rho)
    return out


def _num(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4f}"
