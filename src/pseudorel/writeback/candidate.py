"""A candidate for write-back: a generated answer split into sentences, each with the documents it
cites, and what was retrieved for its question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pseudorel.writeback.citations import cited_positions

# a sentence: up to its end mark, with the citation marks that follow it ("... bones. [1]")
_SENTENCE = re.compile(r"[^.!?]+[.!?]+(?:\s*\[[\d,\s]+\])*|[^.!?]+$")
_CITATION = re.compile(r"\s*\[[\d,\s]+\]")


@dataclass(frozen=True)
class Sentence:
    text: str  # without its citation marks
    cited: tuple[str, ...]  # document ids


@dataclass(frozen=True)
class Candidate:
    question: str
    answer: str  # as the LLM wrote it, with [n] marks
    sentences: tuple[Sentence, ...]
    retrieved: tuple[str, ...]  # the documents given to the LLM, in order
    model: str = ""
    meta: dict = field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The answer without citation marks: what would enter the corpus."""
        return " ".join(s.text for s in self.sentences)

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for s in self.sentences for d in s.cited))


def from_answer(question: str, answer: str, retrieved: list[str], model: str = "", **meta) -> Candidate:
    """Split ``answer`` into sentences; ``[n]`` marks cite ``retrieved[n-1]``; a mark on a sentence of
    its own (or a trailing one) attaches to the sentence before it."""
    sentences: list[Sentence] = []
    for piece in (m.group().strip() for m in _SENTENCE.finditer(answer.strip())):
        positions = cited_positions(piece, len(retrieved))
        text = _CITATION.sub("", piece).strip()
        cited = tuple(retrieved[n - 1] for n in positions)
        if not text and sentences:  # a bare citation: it belongs to the previous sentence
            last = sentences.pop()
            sentences.append(Sentence(last.text, tuple(dict.fromkeys(last.cited + cited))))
        elif text:
            sentences.append(Sentence(text, cited))
    return Candidate(question, answer, tuple(sentences), tuple(retrieved), model, dict(meta))


def with_ids(question: str, sentences: list[tuple[str, list[str]]], retrieved: list[str], **meta) -> Candidate:
    """A candidate whose sentences cite document ids directly (hand-made and generated cases)."""
    parts = tuple(Sentence(text, tuple(cited)) for text, cited in sentences)
    answer = " ".join(
        f"{t} [{', '.join(str(retrieved.index(d) + 1) if d in retrieved else d for d in c)}]" for t, c in sentences
    )
    return Candidate(question, answer, parts, tuple(retrieved), meta.pop("model", ""), meta)
