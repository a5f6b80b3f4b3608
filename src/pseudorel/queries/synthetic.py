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
# lower-cased corpora (Cranfield) have no capital to start a sentence, and sometimes a space
# before the stop ("... slipstream . an experimental ...")
_LOWER_SENTENCE_END = re.compile(r"\s*[.!?]\s+(?=[a-z0-9(\"'])")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-cased text with collapsed whitespace: the key for deduplication."""
    return _SPACE.sub(" ", text.lower()).strip(" .")


def sentences(text: str) -> list[str]:
    pattern = _LOWER_SENTENCE_END if text == text.lower() else _SENTENCE_END
    return [s.strip() for s in pattern.split(text) if s.strip()]


def title_queries(doc: Document, rng: random.Random, count: int) -> list[str]:
    return [doc.title.strip()] if doc.title.strip() else []


def ict_queries(doc: Document, rng: random.Random, count: int, min_words: int = 5, max_words: int = 40) -> list[str]:
    """Up to ``count`` distinct random sentences of the body, of a sensible length."""
    usable = [s for s in sentences(doc.text) if min_words <= len(s.split()) <= max_words]
    return rng.sample(usable, min(count, len(usable)))


def span_queries(doc: Document, rng: random.Random, count: int, min_words: int = 4, max_words: int = 10) -> list[str]:
    words = doc.text.split()
    if len(words) < min_words:
        return []
    spans = []
    for _ in range(count):
        length = rng.randint(min_words, min(max_words, len(words)))
        start = rng.randint(0, len(words) - length)
        spans.append(" ".join(words[start : start + length]))
    return spans


GENERATORS = {"title": title_queries, "ict": ict_queries, "span": span_queries}


def synthetic_queries(
    corpus: dict[str, Document],
    kinds: Iterable[str] = ("title", "ict"),
    seed: int = 0,
    max_docs: int | None = None,
    per_document: int = 1,
) -> list[Query]:
    """Up to ``per_document`` queries of each kind per document (documents sampled with
    ``seed`` if ``max_docs``); a document has one title, so more than one query per document
    comes from its sentences (``ict``) and spans.

    Queries whose normalised text repeats an earlier one are dropped. The first query of a
    kind from a document has id ``kind:doc_id``, the n-th (n > 1) ``kind:doc_id#n``.
    """
    kinds = list(kinds)
    if per_document < 1:
        raise ValueError(f"per_document must be at least 1, got {per_document}")
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
            made = 0
            for text in GENERATORS[kind](corpus[doc_id], rng, per_document):
                if not text or normalize(text) in seen:
                    continue
                seen.add(normalize(text))
                made += 1
                suffix = "" if made == 1 else f"#{made}"
                out.append(Query(f"{kind}:{doc_id}{suffix}", text, kind, doc_id))
    return out
