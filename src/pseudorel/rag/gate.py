"""Uncertainty-gated retrieval: the LLM answers closed book first, and retrieves only when its
own token-probability confidence is below a threshold (arXiv 2501.12835: the model's calibrated
uncertainty beats external heuristics for deciding when to retrieve).

The threshold is chosen without labels, on a small unlabelled sample answered both ways: the
lowest confidence at which skipping retrieval would change at most ``max_disagreement`` of the
sample's answers (the retrieval answer taken as the reference)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pseudorel.rag.answer import Answer


@dataclass(frozen=True)
class GateChoice:
    threshold: float  # retrieve when the closed-book confidence is below it (inf: always)
    saved: float  # share of the calibration sample that would skip retrieval
    disagreement: float  # share of the sample whose answer would change
    sample: int

    def as_dict(self) -> dict:
        return {**self.__dict__, "threshold": None if math.isinf(self.threshold) else self.threshold}


def retrieves(closed: Answer, threshold: float) -> bool:
    """Whether the gate retrieves for a question whose closed-book answer is ``closed``."""
    return closed.error is not None or closed.confidence is None or closed.confidence < threshold


def _same(a: Answer, b: Answer) -> bool:
    return a.verdict == b.verdict if a.verdict is not None or b.verdict is not None else a.text == b.text


def choose_threshold(closed: list[Answer], retrieved: list[Answer], max_disagreement: float = 0.01) -> GateChoice:
    """The lowest threshold whose skipped answers change at most ``max_disagreement`` of the sample."""
    pairs = [(c, r) for c, r in zip(closed, retrieved, strict=True) if c.confidence is not None and r.error is None]
    n = len(pairs)
    best = GateChoice(math.inf, 0.0, 0.0, n)
    if not n:
        return best
    changed = 0
    ranked = sorted(pairs, key=lambda p: -p[0].confidence)
    for position, (c, r) in enumerate(ranked, start=1):
        changed += not _same(c, r)
        tie_next = position < n and ranked[position][0].confidence == c.confidence
        if changed / n <= max_disagreement and not tie_next:
            best = GateChoice(c.confidence, position / n, changed / n, n)
    return best


def gated(closed: list[Answer], retrieved: list[Answer], threshold: float) -> tuple[list[Answer], float]:
    """The answers the gate gives (closed book where confident, else with retrieval) and the share
    of retrieval calls it saved."""
    out = [r if retrieves(c, threshold) else c for c, r in zip(closed, retrieved, strict=True)]
    saved = sum(not retrieves(c, threshold) for c in closed) / max(1, len(closed))
    return out, saved
