"""Re-rank a first-stage run with a cross-encoder."""

from __future__ import annotations

from pseudorel.data.types import Document, Run


def rerank_run(run: Run, queries: dict[str, str], corpus: dict[str, Document], model: str, depth: int = 100) -> Run:
    """Scores each query's top ``depth`` documents with the cross-encoder at ``model``; the
    documents below ``depth`` keep their first-stage order, after every reranked one."""
    from pseudorel.teachers.cross_encoder import CrossEncoderTeacher

    teacher = CrossEncoderTeacher(model)
    ranked = {qid: sorted(docs, key=docs.get, reverse=True) for qid, docs in run.items()}
    pairs = [(qid, d) for qid, docs in ranked.items() for d in docs[:depth]]
    scores = teacher.score([queries[q] for q, _ in pairs], [corpus[d].full_text for _, d in pairs])
    out: Run = {}
    for (qid, doc_id), score in zip(pairs, scores, strict=True):
        out.setdefault(qid, {})[doc_id] = float(score)
    for qid, docs in ranked.items():
        reranked = out.setdefault(qid, {})
        floor = min(reranked.values(), default=0.0)
        for position, doc_id in enumerate(docs[depth:], start=1):
            reranked[doc_id] = floor - position
    return out
