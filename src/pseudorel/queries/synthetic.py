"""Cheap self-supervised queries that need no LLM: a document's title, one of its sentences
(inverse cloze task, Lee et al., ACL 2019) or a random span of its words.

They are weak stand-ins for real queries (lexically easy for BM25), but they come with a
known positive, the source document, which the calibration and round-trip gates rely on.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from pseudorel.data.types import Document
from pseudorel.queries.types import Query

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-cased text with collapsed whitespace: the key for deduplication."""
    return _SPACE.sub(" ", text.lower()).strip(" .")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def title_query(doc_id: str, doc: Document, rng: random.Random) -> str | None:
    return doc.title.strip() or None


def ict_query(doc_id: str, doc: Document, rng: random.Random, min_words: int = 5, max_words: int = 40) -> str | None:
    """A random sentence of the body, of a sensible length."""
    usable = [s for s in sentences(doc.text) if min_words <= len(s.split()) <= max_words]
    return rng.choice(usable) if usable else None


def span_query(doc_id: str, doc: Document, rng: random.Random, min_words: int = 4, max_words: int = 10) -> str | None:
    words = doc.text.split()
    if len(words) < min_words:
        return None
    length = rng.randint(min_words, min(max_words, len(words)))
    start = rng.randint(0, len(words) - length)
    return " ".join(words[start : start + length])


GENERATORS = {"title": title_query, "ict": ict_query, "span": span_query}


def synthetic_queries(
    corpus: dict[str, Document],
    kinds: Iterable[str] = ("title", "ict"),
    seed: int = 0,
    max_docs: int | None = None,
) -> list[Query]:
    """One query of each kind per document (documents sampled with ``seed`` if ``max_docs``).

    Queries whose normalised text repeats an earlier one are dropped.
    """
    kinds = list(kinds)
    unknown = set(kinds) - set(GENERATORS)
    if unknown:
        raise ValueError(f"unknown query kind(s) {sorted(unknown)}; use {sorted(GENERATORS)}")
    rng = random.Random(seed)
    doc_ids = list(corpus)
    if max_docs is not None and max_docs < len(doc_ids):
        doc_ids = sorted(rng.sample(doc_ids, max_docs), key=doc_ids.index)
    seen: set[str] = set()
    out: list[Query] = []
    for doc_id in doc_ids:
        for kind in kinds:
            text = GENERATORS[kind](doc_id, corpus[doc_id], rng)
            if not text or normalize(text) in seen:
                continue
            seen.add(normalize(text))
            out.append(Query(f"{kind}:{doc_id}", text, kind, doc_id))
    return out
