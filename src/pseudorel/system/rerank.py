"""Re-rank a first-stage run with a cross-encoder."""

from __future__ import annotations

from pseudorel.data.types import Document, Run


def _ranked(run: Run) -> dict[str, list[str]]:
    """Each query's documents by descending score; ties keep the run's own order."""
    return {qid: sorted(docs, key=docs.get, reverse=True) for qid, docs in run.items()}


def cross_encoder_scores(
    run: Run, queries: dict[str, str], corpus: dict[str, Document], model, depth: int = 100, progress: bool = True
) -> Run:
    """The cross-encoder's raw score for each query's top ``depth`` documents of ``run``;
    ``model`` is a folder or a loaded :class:`CrossEncoderTeacher`."""
    from pseudorel.teachers.cross_encoder import CrossEncoderTeacher  # start-up: loads numpy

    teacher = model if isinstance(model, CrossEncoderTeacher) else CrossEncoderTeacher(model)
    pairs = [(qid, d) for qid, docs in _ranked(run).items() for d in docs[:depth]]
    scores = teacher.score([queries[q] for q, _ in pairs], [corpus[d].full_text for _, d in pairs], progress=progress)
    out: Run = {qid: {} for qid in run}
    for (qid, doc_id), score in zip(pairs, scores, strict=True):
        out[qid][doc_id] = float(score)
    return out


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {d: (s - low) / span if span > 0 else 1.0 for d, s in scores.items()}


def blend(first_stage: Run, reranker_scores: Run, depth: int, weight: float = 1.0) -> Run:
    """Each query's top ``depth`` reordered by ``weight * reranker + (1 - weight) * first stage``
    (both min-max normalised over those documents); the documents below ``depth`` keep their
    first-stage order, after every reranked one. ``reranker_scores`` must cover the top ``depth``."""
    out: Run = {}
    for qid, ranked in _ranked(first_stage).items():
        top, rest = ranked[:depth], ranked[depth:]
        ce = _minmax({d: reranker_scores[qid][d] for d in top})
        first = _minmax({d: first_stage[qid][d] for d in top})
        mixed = {d: weight * ce[d] + (1 - weight) * first[d] for d in top}
        floor = min(mixed.values(), default=0.0)
        for position, doc_id in enumerate(rest, start=1):
            mixed[doc_id] = floor - position
        out[qid] = mixed
    return out


def rerank_run(run: Run, queries: dict[str, str], corpus: dict[str, Document], model: str, depth: int = 100) -> Run:
    """Scores each query's top ``depth`` documents with the cross-encoder at ``model``; the
    documents below ``depth`` keep their first-stage order, after every reranked one."""
    return blend(run, cross_encoder_scores(run, queries, corpus, model, depth), depth)
