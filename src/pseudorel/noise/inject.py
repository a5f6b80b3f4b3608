"""Label-noise injection: corrupt a fraction of queries' positives, and record which.

For a fraction ``ratio`` of the queries (chosen with ``seed``), every relevant document is
replaced by a non-relevant one: the highest-ranked non-relevant document of a ranking
(``bm25`` or ``dense``: "semantically similar non-relevant"), or a random one (``random``).
A replacement is never a document the clean labels call relevant for that query.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pseudorel.data.types import Qrels, Run

NOISE_KINDS = ("random", "bm25", "dense")


@dataclass(frozen=True)
class Corruption:
    query_id: str
    original: str
    replacement: str
    fallback: bool = False  # the ranking ran out of non-relevant documents: a random one was used


def inject_noise(
    qrels: Qrels,
    ratio: float,
    kind: str = "bm25",
    seed: int = 0,
    ranking: Run | None = None,
    doc_ids: list[str] | None = None,
) -> tuple[Qrels, list[Corruption]]:
    """Noisy copy of ``qrels`` and the list of corruptions.

    ``ranking`` (query -> doc -> score) is needed for the hard kinds; ``doc_ids`` (the corpus)
    for ``random``, and as a fallback (recorded) when a ranking has too few non-relevant
    documents. Queries without relevant documents are never selected. The number of
    corrupted queries is round(ratio * eligible queries).
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"noise ratio must be in [0, 1], got {ratio}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind '{kind}' (one of {', '.join(NOISE_KINDS)})")
    if kind != "random" and ranking is None:
        raise ValueError(f"'{kind}' noise needs a ranking of candidates per query")
    if kind == "random" and not doc_ids:
        raise ValueError("'random' noise needs the corpus' document ids")
    rng = random.Random(seed)
    eligible = sorted(q for q, docs in qrels.items() if any(g > 0 for g in docs.values()))
    chosen = set(rng.sample(eligible, round(ratio * len(eligible))))
    noisy: Qrels = {q: dict(docs) for q, docs in qrels.items()}
    corruptions: list[Corruption] = []
    for qid in eligible:
        if qid not in chosen:
            continue
        relevant = [d for d, g in qrels[qid].items() if g > 0]
        replacements = _replacements(qid, set(relevant), len(relevant), kind, rng, ranking, doc_ids)
        ranked = len(replacements)
        if ranked < len(relevant) and doc_ids:
            replacements += _replacements(
                qid, set(relevant) | set(replacements), len(relevant) - ranked, "random", rng, None, doc_ids
            )
        if len(replacements) < len(relevant):
            raise ValueError(f"query {qid}: not enough non-relevant candidates to corrupt its labels")
        for i, (original, replacement) in enumerate(zip(relevant, replacements, strict=False)):
            grade = noisy[qid].pop(original)
            noisy[qid][replacement] = grade
            corruptions.append(Corruption(qid, original, replacement, fallback=kind != "random" and i >= ranked))
    return noisy, corruptions


def _replacements(qid, relevant: set[str], n: int, kind: str, rng, ranking, doc_ids) -> list[str]:
    if kind == "random":
        out: list[str] = []
        while len(out) < n:
            doc = rng.choice(doc_ids)
            if doc not in relevant and doc not in out:
                out.append(doc)
        return out
    ranked = sorted(ranking.get(qid, {}).items(), key=lambda x: (-x[1], x[0]))
    return [d for d, _ in ranked if d not in relevant][:n]
