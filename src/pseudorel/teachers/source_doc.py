"""The source-document teacher: a synthetic query's source document is relevant (GPL, InPars).

It speaks only about source documents (probability 1); of every other pair it knows
nothing (NaN), rather than claiming it non-relevant. Real queries get NaN throughout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def source_doc_probs(candidates: pd.DataFrame) -> np.ndarray:
    return np.where(candidates["is_source_doc"].to_numpy(dtype=bool), 1.0, np.nan)
