"""Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009)."""

from __future__ import annotations

from collections.abc import Sequence

from pseudorel.data.types import Run


def reciprocal_rank_fusion(
    runs: Sequence[Run], k: int = 60, top_k: int = 100, weights: Sequence[float] | None = None
) -> Run:
    """Fuse runs by sum_r w_r / (k + rank_r(d)); ranks start at 1, ties broken by doc id."""
    weights = list(weights) if weights is not None else [1.0] * len(runs)
    if len(weights) != len(runs):
        raise ValueError("one weight per run")
    fused: Run = {}
    for run, weight in zip(runs, weights, strict=True):
        for qid, docs in run.items():
            target = fused.setdefault(qid, {})
            ranked = sorted(docs.items(), key=lambda item: (-item[1], item[0]))
            for rank, (doc_id, _) in enumerate(ranked, start=1):
                target[doc_id] = target.get(doc_id, 0.0) + weight / (k + rank)
    return {
        qid: dict(sorted(docs.items(), key=lambda item: (-item[1], item[0]))[:top_k]) for qid, docs in fused.items()
    }


def normalized_score_fusion(runs: Sequence[Run], weights: Sequence[float], top_k: int = 100) -> Run:
    """Fuse runs by sum_r w_r * minmax_r(score), each run's scores min-max normalised per query
    (a document a run did not return gets 0 from it); ties broken by doc id."""
    if len(weights) != len(runs):
        raise ValueError("one weight per run")
    fused: Run = {}
    for run, weight in zip(runs, weights, strict=True):
        for qid, docs in run.items():
            target = fused.setdefault(qid, {})
            if not docs:
                continue
            low, high = min(docs.values()), max(docs.values())
            span = high - low
            for doc_id, score in docs.items():
                norm = (score - low) / span if span > 0 else 1.0
                target[doc_id] = target.get(doc_id, 0.0) + weight * norm
    return {
        qid: dict(sorted(docs.items(), key=lambda item: (-item[1], item[0]))[:top_k]) for qid, docs in fused.items()
    }


FUSION_METHODS = ("rrf", "interpolate")


def fuse(runs: Sequence[Run], method: str = "rrf", weights: Sequence[float] | None = None, top_k: int = 100) -> Run:
    """``rrf`` (weighted reciprocal rank fusion, k = 60) or ``interpolate`` (weighted min-max scores)."""
    weights = list(weights) if weights is not None else [1.0] * len(runs)
    if method == "rrf":
        return reciprocal_rank_fusion(runs, top_k=top_k, weights=weights)
    if method == "interpolate":
        return normalized_score_fusion(runs, weights, top_k=top_k)
    raise ValueError(f"unknown fusion method '{method}' ({' or '.join(FUSION_METHODS)})")
