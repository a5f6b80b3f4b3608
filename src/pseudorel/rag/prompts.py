"""Prompts per task and what is read from the answers.

``claim``: verify a claim against the documents; the answer's first word is the verdict (true,
false or unknown: SciFact's SUPPORT, CONTRADICT, NEI), read from the first token's
probabilities. ``question``: answer an open question from the documents. In both, documents
are shown as [1]..[k] and the answer cites them so; citations are mapped back to document ids.
"""

from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("SUPPORT", "CONTRADICT", "NEI")
#: first answer tokens (lower-cased, stripped) and the verdict each one gives
VERDICT_TOKENS = {
    "true": "SUPPORT",
    "yes": "SUPPORT",
    "false": "CONTRADICT",
    "no": "CONTRADICT",
    "unknown": "NEI",
    "unk": "NEI",
    "uncertain": "NEI",
}


@dataclass(frozen=True)
class Task:
    with_documents: str  # system prompt when documents are given
    closed_book: str  # system prompt without documents
    item: str  # what the question is called in the user turn
    verdicts: bool  # whether the first answer word is a verdict


TASKS = {
    "claim": Task(
        with_documents=(
            "You are an expert scientific fact-checker. Read the numbered abstracts, then decide whether the "
            "claim is true (an abstract supports it), false (an abstract contradicts it) or unknown (no abstract "
            "says). Answer with one word, true, false or unknown, then the numbers of the abstracts you used in "
            "square brackets, e.g. 'true [2]'."
        ),
        closed_book=(
            "You are an expert scientific fact-checker. Say whether the claim is true, false or unknown (you "
            "cannot tell). Answer with one word: true, false or unknown."
        ),
        item="Claim",
        verdicts=True,
    ),
    "question": Task(
        with_documents=(
            "Answer the question using only the numbered documents. After each sentence, cite the numbers of "
            "the documents it comes from in square brackets, e.g. [1]. If the documents do not answer it, "
            "say that you do not know."
        ),
        closed_book="Answer the question in one or two sentences. If you do not know, say so.",
        item="Question",
        verdicts=False,
    ),
}


def truncate(text: str, words: int | None) -> str:
    parts = text.split()
    return text if words is None or len(parts) <= words else " ".join(parts[:words]) + " ..."


def messages(task: str, question: str, passages: list[str] | None, words: int | None) -> list[dict]:
    """Chat messages for ``question`` with ``passages`` (None: closed book, no retrieval)."""
    spec = TASKS[task]
    if passages is None:
        return [
            {"role": "system", "content": spec.closed_book},
            {"role": "user", "content": f"{spec.item}: {question}\nAnswer:"},
        ]
    shown = "\n".join(f"[{i}] {truncate(p, words)}" for i, p in enumerate(passages, start=1))
    return [
        {"role": "system", "content": spec.with_documents},
        {"role": "user", "content": f"Documents:\n{shown}\n\n{spec.item}: {question}\nAnswer:"},
    ]
