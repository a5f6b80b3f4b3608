"""Fusing runs: reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009) and weighted
min-max score interpolation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pseudorel.data.types import Run

FUSION_METHODS = ("rrf", "interpolate")


def _weighted_sum(
    runs: Sequence[Run],
    weights: Sequence[float],
    contribution: Callable[[dict[str, float]], dict[str, float]],
    top_k: int,
) -> Run:
    """Per query, sum_r w_r * contribution_r(d); the top ``top_k``, ties broken by doc id."""
    if len(weights) != len(runs):
        raise ValueError("one weight per run")
    fused: Run = {}
    for run, weight in zip(runs, weights, strict=True):
        for qid, docs in run.items():
            target = fused.setdefault(qid, {})
            for doc_id, value in contribution(docs).items():
                target[doc_id] = target.get(doc_id, 0.0) + weight * value
    return {
        qid: dict(sorted(docs.items(), key=lambda item: (-item[1], item[0]))[:top_k]) for qid, docs in fused.items()
    }


def reciprocal_rank_fusion(
    runs: Sequence[Run], k: int = 60, top_k: int = 100, weights: Sequence[float] | None = None
) -> Run:
    """Fuse runs by sum_r w_r / (k + rank_r(d)); ranks start at 1, ties broken by doc id."""

    def reciprocal_ranks(docs: dict[str, float]) -> dict[str, float]:
        ranked = sorted(docs.items(), key=lambda item: (-item[1], item[0]))
        return {doc_id: 1.0 / (k + rank) for rank, (doc_id, _) in enumerate(ranked, start=1)}

    weights = list(weights) if weights is not None else [1.0] * len(runs)
    return _weighted_sum(runs, weights, reciprocal_ranks, top_k)


def normalized_score_fusion(runs: Sequence[Run], weights: Sequence[float], top_k: int = 100) -> Run:
    """Fuse runs by sum_r w_r * minmax_r(score), each run's scores min-max normalised per query
    (a document a run did not return gets 0 from it); ties broken by doc id."""

    def minmax(docs: dict[str, float]) -> dict[str, float]:
        if not docs:
            return {}
        low, high = min(docs.values()), max(docs.values())
        return {d: (s - low) / (high - low) if high > low else 1.0 for d, s in docs.items()}

    return _weighted_sum(runs, list(weights), minmax, top_k)


def fuse(runs: Sequence[Run], method: str = "rrf", weights: Sequence[float] | None = None, top_k: int = 100) -> Run:
    """``rrf`` (weighted reciprocal rank fusion, k = 60) or ``interpolate`` (weighted min-max scores)."""
    weights = list(weights) if weights is not None else [1.0] * len(runs)
    if method == "rrf":
        return reciprocal_rank_fusion(runs, top_k=top_k, weights=weights)
    if method == "interpolate":
        return normalized_score_fusion(runs, weights, top_k=top_k)
    raise ValueError(f"unknown fusion method '{method}' ({' or '.join(FUSION_METHODS)})")
