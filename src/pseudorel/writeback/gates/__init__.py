"""The write-back gates, one module each: a score, a threshold and a reason.

- ``entailment``: every sentence is entailed by the passages the answer cites.
- ``attribution``: every cited id exists and was retrieved for this question, every sentence
  cites something, and each sentence's own citations support it.
- ``novelty``: the answer is not a near-duplicate of a document already in the corpus
  (embedding similarity and MinHash over word shingles).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateResult:
    gate: str
    score: float  # higher passes (novelty: 1 - similarity)
    threshold: float
    passed: bool
    reason: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)
