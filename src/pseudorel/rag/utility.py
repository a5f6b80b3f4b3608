"""Task-utility labels (source 002): a document's label is what it does for the downstream task.
For a train claim with a known verdict, each candidate document is given to the LLM alone; its
utility is the probability the LLM then gives the right verdict, beside how far that moves from
the closed-book probability. These labels read the train claims' verdicts: like the supervised
path, a run that uses them is labelled as such. NEI claims are left out (for them a document
that says nothing would be "useful")."""

from __future__ import annotations

import pandas as pd

from pseudorel.data.types import Document
from pseudorel.rag.answer import Answerer
from pseudorel.rag.claims import ClaimLabel


def utility_labels(
    answerer: Answerer,
    claims: dict[str, str],
    labels: dict[str, ClaimLabel],
    candidates: dict[str, list[str]],
    corpus: dict[str, Document],
    max_seconds: float | None = None,
) -> pd.DataFrame:
    """One row per (claim, candidate): ``label`` = P(right verdict | the document alone),
    ``p_closed_book``, ``delta`` (label minus it) and ``correct`` (the verdict is right)."""
    claims = {q: t for q, t in claims.items() if q in labels and labels[q].verdict != "NEI"}
    closed = {a.question_id: a for a in answerer.answer_many([(q, t, None) for q, t in claims.items()])}
    items = [(f"{q}\x01{d}", claims[q], [(d, corpus[d].full_text)]) for q in claims for d in candidates.get(q, [])]
    rows = []
    for answer in answerer.answer_many(items, max_seconds=max_seconds):
        query_id, doc_id = answer.question_id.split("\x01")
        gold = labels[query_id].verdict
        if answer.error is not None:
            continue
        before = closed[query_id].probs.get(gold, 0.0) if closed[query_id].error is None else 0.0
        rows.append(
            {
                "query_id": query_id,
                "query_text": claims[query_id],
                "doc_id": doc_id,
                "label": answer.probs.get(gold, 0.0),
                "p_closed_book": before,
                "delta": answer.probs.get(gold, 0.0) - before,
                "correct": answer.verdict == gold,
                "is_evidence": doc_id in labels[query_id].evidence,
            }
        )
    return pd.DataFrame(rows)
