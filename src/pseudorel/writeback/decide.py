"""Write-back: every candidate answer goes through every gate; the decision (answer, gate scores,
verdict, reason) is appended to a JSONL log; an accepted answer enters the live corpus with its
provenance (question, cited sources, model, time, gate scores), tagged ``wb:`` so evaluation can
include or exclude it, and ``pseudorel corpus revert`` can take it out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pseudorel._io import append_durably
from pseudorel.llm.factory import make_backend
from pseudorel.system.live import LiveIndex
from pseudorel.system.written_log import now
from pseudorel.writeback.candidate import Candidate
from pseudorel.writeback.gates import GateResult
from pseudorel.writeback.gates.attribution import AttributionGate
from pseudorel.writeback.gates.entailment import EntailmentGate
from pseudorel.writeback.gates.nli import LLMEntailment
from pseudorel.writeback.gates.novelty import MinHashIndex, NoveltyGate


@dataclass
class Decision:
    candidate: Candidate
    results: list[GateResult]
    accepted: bool
    reason: str
    doc_id: str | None = None
    meta: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "time": now(),
            "question": self.candidate.question,
            "answer": self.candidate.answer,
            "cited": list(self.candidate.cited),
            "retrieved": list(self.candidate.retrieved),
            "gates": [r.as_dict() for r in self.results],
            "accepted": self.accepted,
            "reason": self.reason,
            "doc_id": self.doc_id,
            **self.meta,
        }


def default_gates(index: LiveIndex, entail, entailment: float = 0.5, attribution: float = 0.5) -> list:
    """Entailment and attribution on ``entail`` (an NLI callable), novelty on the live corpus."""

    minhash = MinHashIndex(index.current.system.corpus)
    return [
        EntailmentGate(entail, entailment),
        AttributionGate(entail, attribution),
        NoveltyGate(minhash, index.nearest_cosine),
    ]


class WriteBack:
    """Runs the gates and writes what passes (``gated=False``: writes everything, for comparison)."""

    def __init__(self, index: LiveIndex, gates: list, decisions: str | Path, gated: bool = True):
        self.index, self.gates, self.gated = index, gates, gated
        self.decisions = Path(decisions)
        self.decisions.parent.mkdir(parents=True, exist_ok=True)

    def evaluate(self, candidate: Candidate) -> list[GateResult]:
        corpus = self.index.refresh().system.corpus
        return [gate.check(candidate, corpus) for gate in self.gates]

    def consider(self, candidate: Candidate, results: list[GateResult] | None = None, **meta) -> Decision:
        results = results if results is not None else self.evaluate(candidate)
        failed = [r for r in results if not r.passed]
        accepted = not failed or not self.gated
        reason = "; ".join(f"{r.gate}: {r.reason}" for r in failed) or "passed every gate"
        if failed and not self.gated:
            reason = "gates off (would have failed: " + reason + ")"
        decision = Decision(candidate, results, accepted, reason, meta=meta)
        if accepted:
            provenance = {
                "question": candidate.question,
                "answer": candidate.answer,
                "cited": list(candidate.cited),
                "retrieved": list(candidate.retrieved),
                "model": candidate.model,
                "gates": {r.gate: round(r.score, 4) for r in results},
                "gated": self.gated,
            }
            record = self.index.add(candidate.question, candidate.text, provenance)
            decision.doc_id = record["id"]
            for gate in self.gates:
                if hasattr(gate, "remember"):  # a gate that keeps its own view of the corpus
                    gate.remember(record["id"], candidate.text)
        append_durably(self.decisions, json.dumps(decision.as_dict(), ensure_ascii=False) + "\n")
        return decision


def gated_writer(index, llm: str, llm_model: str = "default", gated: bool = True):
    """The write-back of ``index``: the LLM as NLI for entailment and attribution, novelty on the
    corpus; decisions logged to ``<state>/decisions.jsonl``, LLM answers cached beside it."""

    backend = make_backend(llm, index.log.folder / "llm-cache.sqlite", model=llm_model)
    return WriteBack(index, default_gates(index, LLMEntailment(backend)), index.log.folder / "decisions.jsonl", gated)
