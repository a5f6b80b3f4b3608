"""Downstream scores of claim verification: verdict accuracy and macro-F1, evidence recall@k,
and per-claim correctness for paired significance between retrievers."""

from __future__ import annotations

from pseudorel.rag.answer import Answer
from pseudorel.rag.claims import ClaimLabel
from pseudorel.rag.prompts import VERDICTS


def correctness(answers: list[Answer], labels: dict[str, ClaimLabel]) -> dict[str, float]:
    """1.0 where the verdict is right, 0.0 where it is wrong or missing (a failed answer counts wrong)."""
    return {
        a.question_id: float(a.verdict == labels[a.question_id].verdict) for a in answers if a.question_id in labels
    }


def verdict_metrics(answers: list[Answer], labels: dict[str, ClaimLabel]) -> dict:
    from sklearn.metrics import f1_score

    scored = [a for a in answers if a.question_id in labels]
    gold = [labels[a.question_id].verdict for a in scored]
    predicted = [a.verdict or "none" for a in scored]
    present = [v for v in VERDICTS if v in gold]
    return {
        "claims": len(scored),
        "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(1, len(scored)),
        "macro_f1": float(f1_score(gold, predicted, labels=present, average="macro", zero_division=0))
        if scored
        else 0.0,
        "failed": sum(a.error is not None for a in scored),
        "predicted": {v: predicted.count(v) for v in (*VERDICTS, "none")},
    }


def evidence_recall(documents: dict[str, list[str]], labels: dict[str, ClaimLabel], k: int) -> float | None:
    """Mean share of each claim's evidence documents among its first ``k`` documents (claims with evidence)."""
    shares = [
        len(set(documents.get(q, [])[:k]) & set(label.evidence)) / len(label.evidence)
        for q, label in labels.items()
        if label.evidence and q in documents
    ]
    return sum(shares) / len(shares) if shares else None
