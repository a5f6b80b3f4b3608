"""The rank-fusion teacher: how highly several retrievers rank a pair, as one score.

score(q, d) = sum_r 1 / (k + rank_r(q, d)), a retriever that did not return d adding 0
(reciprocal rank fusion, Cormack et al. 2009). Cheap, and often a strong first guess; but
it measures association, not relevance, so it is calibrated and checked by a reading teacher.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rank_fusion_scores(candidates: pd.DataFrame, k: int = 60) -> np.ndarray:
    """RRF over every ``rank_<retriever>`` column of a mined candidate table."""
    columns = [c for c in candidates.columns if c.startswith("rank_")]
    if not columns:
        raise ValueError("candidate table has no rank_<retriever> columns")
    ranks = candidates[columns].to_numpy(dtype=float)
    return np.nansum(1.0 / (k + ranks), axis=1)  # NaN ranks (not retrieved) drop out of the sum
