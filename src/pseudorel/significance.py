"""Paired significance tests between two systems' per-query scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PairedTest:
    measure: str
    n_queries: int
    mean_a: float
    mean_b: float
    p_value: float
    method: str

    @property
    def delta(self) -> float:
        return self.mean_b - self.mean_a


def paired_test(
    scores_a: dict[str, float],
    scores_b: dict[str, float],
    measure: str = "",
    method: str = "randomization",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedTest:
    """Two-sided paired test on the union of queries (a query missing from one side scores 0).

    ``randomization``: Fisher's sign-flip permutation test (Smucker et al., CIKM 2007);
    ``t``: Student's paired t-test.
    """
    qids = sorted(set(scores_a) | set(scores_b))
    a = np.array([scores_a.get(q, 0.0) for q in qids], dtype=np.float64)
    b = np.array([scores_b.get(q, 0.0) for q in qids], dtype=np.float64)
    diff = b - a
    if not len(qids) or np.allclose(diff, 0):
        p = 1.0
    elif method == "t":
        from scipy.stats import ttest_rel

        p = float(ttest_rel(b, a).pvalue)
    elif method == "randomization":
        rng = np.random.default_rng(seed)
        signs = rng.choice((-1.0, 1.0), size=(n_resamples, len(diff)))
        observed = abs(diff.mean())
        extreme = np.sum(np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12)
        p = float((extreme + 1) / (n_resamples + 1))
    else:
        raise ValueError(f"unknown method '{method}' (randomization or t)")
    return PairedTest(
        measure, len(qids), float(a.mean()) if len(a) else 0.0, float(b.mean()) if len(b) else 0.0, p, method
    )
