"""Combine teacher probabilities into one label, and pick the pairs the LLM should judge."""

from __future__ import annotations

import numpy as np


def combine_probs(probs: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
    """Weighted mean of the probabilities each teacher gave (NaN = no opinion), per pair.

    A pair no teacher spoke about gets NaN.
    """
    names = list(probs)
    stacked = np.vstack([np.asarray(probs[n], float) for n in names])
    w = np.array([(weights or {}).get(n, 1.0) for n in names])[:, None] * ~np.isnan(stacked)
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore"):
        return np.where(
            total > 0, np.nansum(np.nan_to_num(stacked) * w, axis=0) / np.where(total > 0, total, 1), np.nan
        )


def select_for_judging(cheap_probs: np.ndarray, budget: int, policy: str = "uncertain", seed: int = 0) -> np.ndarray:
    """Indices of at most ``budget`` pairs: the least certain (probability nearest 0.5) or random."""
    n = len(cheap_probs)
    budget = max(0, min(budget, n))
    if policy == "random":
        return np.sort(np.random.default_rng(seed).choice(n, size=budget, replace=False))
    if policy == "uncertain":
        distance = np.abs(np.nan_to_num(np.asarray(cheap_probs, float), nan=0.5) - 0.5)
        return np.sort(np.argsort(distance, kind="stable")[:budget])
    raise ValueError(f"unknown selection policy '{policy}' (uncertain or random)")
