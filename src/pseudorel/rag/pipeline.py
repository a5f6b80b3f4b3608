"""Retrieve, then answer: the documents each question gets from a retriever or a system, and the
LLM's answers with them (or closed book, or behind the uncertainty gate)."""

from __future__ import annotations

import random

from pseudorel.data.types import Document, Run
from pseudorel.rag.answer import Answer, Answerer
from pseudorel.rag.gate import GateChoice, choose_threshold, gated


def top_documents(run: Run, k: int) -> dict[str, list[str]]:
    """Each query's ``k`` best documents (score descending, ties by id)."""
    return {q: [d for d, _ in sorted(docs.items(), key=lambda x: (-x[1], x[0]))[:k]] for q, docs in run.items()}


def seeded_sample(ids: list[str], size: int | None, seed: int) -> list[str]:
    """``size`` ids drawn with ``seed`` (all of them, sorted, when ``size`` is None or larger)."""
    ordered = sorted(ids)
    if size is None or size >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, size))


def answer_with_documents(
    answerer: Answerer,
    questions: dict[str, str],
    documents: dict[str, list[str]] | None,
    corpus: dict[str, Document],
    max_seconds: float | None = None,
) -> list[Answer]:
    """Answers in ``questions``' order; ``documents`` None: closed book."""
    items = [
        (q, text, None if documents is None else [(d, corpus[d].full_text) for d in documents.get(q, [])])
        for q, text in questions.items()
    ]
    return list(answerer.answer_many(items, max_seconds=max_seconds))


def gated_answers(
    answerer: Answerer,
    questions: dict[str, str],
    documents: dict[str, list[str]],
    corpus: dict[str, Document],
    calibration: dict[str, str],
    calibration_documents: dict[str, list[str]],
    max_disagreement: float = 0.01,
) -> tuple[list[Answer], GateChoice, float]:
    """Closed-book answers first; retrieval only below the confidence threshold chosen, without
    labels, on the ``calibration`` questions (answered both ways). Returns the answers, the
    gate's choice and the share of retrieval calls saved on ``questions``."""
    closed_calib = answer_with_documents(answerer, calibration, None, corpus)
    open_calib = answer_with_documents(answerer, calibration, calibration_documents, corpus)
    choice = choose_threshold(closed_calib, open_calib, max_disagreement)
    closed = answer_with_documents(answerer, questions, None, corpus)
    needed = {a.question_id for a in closed if a.confidence is None or a.confidence < choice.threshold}
    retrieved = {
        a.question_id: a
        for a in answer_with_documents(answerer, {q: t for q, t in questions.items() if q in needed}, documents, corpus)
    }
    full = [retrieved.get(a.question_id, a) for a in closed]
    answers, saved = gated(closed, full, choice.threshold)
    return answers, choice, saved
