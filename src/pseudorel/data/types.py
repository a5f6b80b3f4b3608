"""Plain containers for corpora, queries, qrels and runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: query id -> doc id -> graded relevance
Qrels = dict[str, dict[str, int]]
#: query id -> doc id -> retrieval score
Run = dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    text: str
    # where the text came from, as the corpus file gives it (``pseudorel ingest``: source file,
    # page, headings, offsets); carried to the system folder and shown by the service
    metadata: dict | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def full_text(self) -> str:
        """Title and body joined as BEIR does for neural models."""
        if self.title and self.text:
            return f"{self.title} {self.text}"
        return self.title or self.text


@dataclass
class Dataset:
    """A corpus with optional queries and qrels per split (a BEIR folder, or parts of one)."""

    name: str
    corpus: dict[str, Document]
    queries: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, Qrels] = field(default_factory=dict)
    path: Path | None = None

    def split_queries(self, split: str) -> dict[str, str]:
        """The queries judged in ``split`` (those with text), in qrels order."""
        return {qid: self.queries[qid] for qid in self.qrels.get(split, {}) if qid in self.queries}
