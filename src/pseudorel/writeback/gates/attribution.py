"""Attribution gate: every cited id exists and was retrieved for this question, every sentence
cites at least one document, and each sentence's own citations support it (entailment of the
sentence by its own cited passages). Score: the weakest sentence's support; 0 on a broken rule."""

from __future__ import annotations

from pseudorel.data.types import Document
from pseudorel.writeback.candidate import Candidate
from pseudorel.writeback.gates import GateResult
from pseudorel.writeback.gates.nli import Entailment


class AttributionGate:
    name = "attribution"

    def __init__(self, entail: Entailment, threshold: float = 0.5):
        self.entail, self.threshold = entail, threshold

    def check(self, candidate: Candidate, corpus: dict[str, Document]) -> GateResult:
        def fail(reason: str) -> GateResult:
            return GateResult(self.name, 0.0, self.threshold, False, reason)

        unknown = [d for d in candidate.cited if d not in corpus]
        if unknown:
            return fail(f"cites unknown document(s) {', '.join(unknown[:3])}")
        foreign = [d for d in candidate.cited if d not in candidate.retrieved]
        if foreign:
            return fail(f"cites document(s) not retrieved for this question: {', '.join(foreign[:3])}")
        bare = [i + 1 for i, s in enumerate(candidate.sentences) if not s.cited]
        if bare or not candidate.sentences:
            return fail(f"sentence(s) {bare} cite nothing" if bare else "empty answer")
        scores = [max(self.entail(corpus[d].full_text, s.text) for d in s.cited) for s in candidate.sentences]
        worst = min(range(len(scores)), key=scores.__getitem__)
        if scores[worst] < self.threshold:
            return GateResult(
                self.name,
                scores[worst],
                self.threshold,
                False,
                f"sentence {worst + 1}'s citations do not support it ({scores[worst]:.2f})",
            )
        return GateResult(self.name, scores[worst], self.threshold, True, "every sentence supported by its citations")
