"""The query-likelihood teacher's column of the label table: which pairs it scores within its
budget, and how its scores become probabilities without qrels."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pseudorel.data.types import Document
from pseudorel.llm.backend import ResponseCache
from pseudorel.teachers.calibration import PlattCalibrator
from pseudorel.teachers.query_likelihood import QueryLikelihoodTeacher
from pseudorel.teachers.registry import QUERY_LIKELIHOOD, score_column

logger = logging.getLogger("pseudorel")


def select_for_ql(frame: pd.DataFrame, budget: int, depth: int, seed: int = 0) -> np.ndarray:
    """Row indices of whole queries, in a seeded order, until ``budget`` pairs: each query's
    top-``depth`` candidates by fused rank and its source document. Whole lists, because the
    teacher's scores are compared within a query."""
    rank = frame["fused_rank"].fillna(np.inf) if "fused_rank" in frame else pd.Series(0, index=frame.index)
    keep = (rank <= depth) | frame["is_source_doc"].astype(bool)
    groups = frame.index[keep].groupby(frame.loc[keep, "query_id"])
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    chosen: list[int] = []
    for qid in order:
        if len(chosen) + len(groups[qid]) > budget:
            break
        chosen += list(groups[qid])
    return np.sort(np.asarray(chosen, dtype=int))


def centred_by_query(query_ids: pd.Series, scores: np.ndarray) -> np.ndarray:
    """Each score minus the mean of its query's scores: a query's own likelihood (short common
    words score high on every passage) cancels, what a passage adds remains."""
    series = pd.Series(scores, index=query_ids.index)
    return (series - series.groupby(query_ids).transform("mean")).to_numpy()


def query_likelihood_labels(
    frame: pd.DataFrame, corpus: dict[str, Document], scorer, settings, workdir, progress: bool = True
) -> tuple[pd.DataFrame, dict]:
    """``frame`` with ``score_ql`` (mean query-token log-probability, NaN where not scored) and
    ``prob_ql`` (centred per query, then Platt-calibrated on synthetic queries' source documents)."""
    teacher = QueryLikelihoodTeacher(scorer, settings.ql, ResponseCache(Path(workdir) / "query_likelihood.sqlite"))
    teacher.check()  # an unreachable server or a model without logprobs fails here, at once
    rows = select_for_ql(frame, settings.ql_budget, settings.ql_depth, settings.seed)
    start = time.perf_counter()
    queries = frame["query_text"].to_numpy()[rows].tolist()
    passages = [corpus[d].full_text for d in frame["doc_id"].to_numpy()[rows]]
    scored = teacher.score(queries, passages, settings.ql_seconds, progress)
    raw = np.full(len(frame), np.nan)
    raw[rows] = scored
    centred = centred_by_query(frame["query_id"], raw)
    done = ~np.isnan(centred)
    fit = done & (frame["query_source"] != "log").to_numpy()
    positives = frame["is_source_doc"].to_numpy(dtype=int)
    prob = np.full(len(frame), np.nan)
    if fit.any() and 0 < positives[fit].sum() < fit.sum():
        prob[done] = PlattCalibrator().fit(centred[fit], positives[fit]).predict(centred[done])
    else:
        logger.warning("query likelihood: too few scored synthetic queries to calibrate; its scores are not used")
    stats = {
        "requested": len(rows),
        "scored": int(done.sum()),
        "failed_or_unscored": int(len(rows) - done.sum()),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return frame.assign(**{score_column(QUERY_LIKELIHOOD.name): raw, QUERY_LIKELIHOOD.column: prob}), stats
