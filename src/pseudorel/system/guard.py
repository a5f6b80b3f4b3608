"""The no-harm guard: held-out pseudo-labels decide whether a learned part replaces what it
would replace. Reads no qrels.

The held-out queries are a seeded sample of the label table's queries (real and synthetic
sampled separately, so real queries are represented where there are any) that no student
trains on. A system's score on one of them is nDCG@k with the teacher's relevance judgment of
each candidate as its gain (pseudo-nDCG); a part is kept only if it raises the mean and a paired
randomization test puts the gain past ``alpha`` (one-sided).

The gains leave out the source-document teacher ("a synthetic query's source document is
relevant"): a title or a sentence copied from a document finds that document by its words, so
crediting it rewards lexical matching, and on Cranfield (synthetic queries only) it made the
guard ship a BM25-heavy fusion that was worse on the test qrels than the zero-shot hybrid
(0.4090 vs 0.4218). What remains is what the reading teachers say: the rank fusion, a
cross-encoder teacher, the LLM judge.

In sampled mode (the expensive teacher read only a sample, so it cannot be shipped) the gains are
the teacher's top 10 candidates of each held-out query graded by rank (10 down to 1): the
candidates come from the cheap first stage, and the teacher's calibrated probabilities over them
are so flat that the zero-shot hybrid already scores about 0.99 against them (Cranfield: 0.9892),
which leaves no room to tell a student that moves the top of the ranking towards the full
teacher from one that does not.

Caveat, stated because it shapes every decision: a part can only win by agreeing with the
teacher more than what it replaces. The teacher's own ranking (its retrievers, fused as it fuses
them) scores nearly 1 on its own labels, so nothing learned can replace it; what can is a first
stage closer to a stronger teacher (one that reads the pairs: an LLM judge, a cross-encoder).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pseudorel.data.types import Run
from pseudorel.significance import paired_test
from pseudorel.teachers.combine import combine_probs
from pseudorel.teachers.registry import LLM_JUDGE, TEACHERS


@dataclass(frozen=True)
class GuardSettings:
    fraction: float = 0.1  # of the real and of the synthetic queries, each
    max_queries: int = 200
    alpha: float = 0.05  # one-sided significance a part must reach to replace another
    k: int = 10
    seed: int = 0


@dataclass
class Decision:
    part: str
    candidate: str
    baseline: str
    score: float
    baseline_score: float
    p_value: float
    kept: bool
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def held_out_query_ids(labels: pd.DataFrame, settings: GuardSettings) -> list[str]:
    """A seeded sample of the label table's queries: ``fraction`` of the real ones (at most half
    of ``max_queries``) and of the synthetic ones (the rest)."""
    first = labels.drop_duplicates("query_id")
    real = sorted(first.loc[first["query_source"] == "log", "query_id"])
    synthetic = sorted(first.loc[first["query_source"] != "log", "query_id"])
    rng = random.Random(settings.seed)
    n_real = min(math.ceil(len(real) * settings.fraction), settings.max_queries // 2) if real else 0
    n_syn = min(math.ceil(len(synthetic) * settings.fraction), settings.max_queries - n_real) if synthetic else 0
    return sorted(rng.sample(real, n_real) + rng.sample(synthetic, n_syn))


def relevance_gains(labels: pd.DataFrame) -> np.ndarray:
    """Per pair: the reading teachers' probabilities combined as the label pipeline combines them
    (the LLM judge weighted as all the others together), without the source-document teacher."""

    reading = [t.column for t in TEACHERS.values() if t.judges_relevance and t != LLM_JUDGE]
    teachers = {c: labels[c].to_numpy(dtype=float) for c in reading if c in labels}
    if not teachers:  # a table made elsewhere: only its combined label is known
        return labels["label"].to_numpy(dtype=float)
    weights = None
    if LLM_JUDGE.column in labels:
        weights = {LLM_JUDGE.column: float(len(teachers))}
        teachers[LLM_JUDGE.column] = labels[LLM_JUDGE.column].to_numpy(dtype=float)
    return combine_probs(teachers, weights)


def pseudo_qrels(labels: pd.DataFrame, query_ids, by_rank: int | None = None) -> dict[str, dict[str, float]]:
    """The teacher's relevance judgment of every candidate of ``query_ids``, as graded gains; with
    ``by_rank``, its top ``by_rank`` candidates of each query instead, graded by rank (``by_rank``
    for the first down to 1), the rest 0."""
    rows = labels[labels["query_id"].isin(set(query_ids))]
    gains = relevance_gains(rows)
    out: dict[str, dict[str, float]] = {}
    for qid, doc_id, gain in zip(rows["query_id"], rows["doc_id"], gains, strict=True):
        if not np.isnan(gain):
            out.setdefault(qid, {})[doc_id] = float(gain)
    if by_rank is not None:
        for qid, docs in out.items():
            top = sorted(docs, key=lambda d: (-docs[d], d))[:by_rank]
            out[qid] = {d: float(by_rank - i) for i, d in enumerate(top)}
    return out


def pseudo_ndcg(run: Run, qrels: dict[str, dict[str, float]], k: int = 10) -> dict[str, float]:
    """Per query of ``qrels``: nDCG@k of ``run`` with the pseudo-labels as gains (0 for an
    unlabelled document; a query the run misses scores 0)."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = {}
    for qid, gains in qrels.items():
        docs = run.get(qid, {})
        top = sorted(docs, key=lambda d: (-docs[d], d))[:k]
        dcg = sum(gains.get(d, 0.0) * discounts[i] for i, d in enumerate(top))
        ideal = sorted(gains.values(), reverse=True)[:k]
        idcg = float(np.dot(ideal, discounts[: len(ideal)]))
        scores[qid] = dcg / idcg if idcg > 0 else 0.0
    return scores


def mean(scores: dict[str, float]) -> float:
    return float(np.mean(list(scores.values()))) if scores else 0.0


def decide(
    part: str, candidate: str, scores: dict[str, float], baseline: str, base: dict[str, float], alpha: float
) -> Decision:
    """Keep ``candidate`` over ``baseline`` only if it is better on the held-out pseudo-labels
    with one-sided p < ``alpha`` (paired randomization test)."""

    test = paired_test(base, scores, "pseudo-nDCG")
    better = test.delta > 0
    p = test.p_value / 2 if better else 1 - test.p_value / 2
    kept = better and p < alpha
    verdict = "kept" if kept else "dropped"
    why = "better" if kept else ("not significantly better" if better else "not better")
    reason = (
        f"held-out pseudo-nDCG {test.mean_b:.4f} vs {test.mean_a:.4f} for {baseline} "
        f"({test.n_queries} queries, one-sided p = {p:.3g}): {why}, {verdict}"
    )
    return Decision(part, candidate, baseline, test.mean_b, test.mean_a, p, kept, reason)
