"""Re-rank a first-stage run with a cross-encoder."""

from __future__ import annotations

from pseudorel.data.types import Document, Run


def rerank_run(run: Run, queries: dict[str, str], corpus: dict[str, Document], model: str, depth: int = 100) -> Run:
    """Scores each query's top ``depth`` documents with the cross-encoder at ``model``."""
    from pseudorel.teachers.cross_encoder import CrossEncoderTeacher

    teacher = CrossEncoderTeacher(model)
    pairs = [(qid, d) for qid, docs in run.items() for d in sorted(docs, key=docs.get, reverse=True)[:depth]]
    scores = teacher.score([queries[q] for q, _ in pairs], [corpus[d].full_text for _, d in pairs])
    out: Run = {}
    for (qid, doc_id), score in zip(pairs, scores, strict=True):
        out.setdefault(qid, {})[doc_id] = float(score)
    return out
