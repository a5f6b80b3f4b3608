"""Entailment gate: each sentence of the answer must be entailed by a passage the answer cites.
Score: the least-supported sentence's best entailment probability."""

from __future__ import annotations

from pseudorel.data.types import Document
from pseudorel.writeback.candidate import Candidate
from pseudorel.writeback.gates import GateResult
from pseudorel.writeback.gates.nli import Entailment


class EntailmentGate:
    name = "entailment"

    def __init__(self, entail: Entailment, threshold: float = 0.5):
        self.entail, self.threshold = entail, threshold

    def check(self, candidate: Candidate, corpus: dict[str, Document]) -> GateResult:
        passages = [corpus[d].full_text for d in candidate.cited if d in corpus]
        if not candidate.sentences:
            return GateResult(self.name, 0.0, self.threshold, False, "empty answer")
        if not passages:
            return GateResult(self.name, 0.0, self.threshold, False, "the answer cites no document in the corpus")
        scores = [max(self.entail(p, s.text) for p in passages) for s in candidate.sentences]
        worst = min(range(len(scores)), key=scores.__getitem__)
        passed = scores[worst] >= self.threshold
        reason = (
            f"every sentence entailed by a cited passage (weakest {scores[worst]:.2f})"
            if passed
            else f"sentence {worst + 1} not entailed by any cited passage ({scores[worst]:.2f}): "
            f"{candidate.sentences[worst].text[:80]!r}"
        )
        return GateResult(self.name, scores[worst], self.threshold, passed, reason)
