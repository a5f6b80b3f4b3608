"""LLM-written queries (doc2query / InPars style): n per document, deduplicated, within a budget.

The model sees the passage and writes one query per request, framed in the corpus's own
terms (``domain``: a search query, a scientific claim, a question or a topic; see
``teachers/prompts.py``); ``n`` requests per document
use increasing seeds so answers differ; duplicates (after normalising case and spacing) are
dropped. Answers are cached by the backend, so a rerun costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pseudorel._io import bars
from pseudorel.data.types import Document
from pseudorel.llm.backend import ChatBackend, LLMError
from pseudorel.queries.synthetic import normalize
from pseudorel.queries.types import Query
from pseudorel.teachers.prompts import DOMAINS, truncate_words, writer_prompt


def llm_queries(
    backend: ChatBackend,
    corpus: dict[str, Document],
    doc_ids: Iterable[str],
    n: int = 1,
    max_words: int = 200,
    max_tokens: int = 32,
    max_seconds: float | None = None,
    domain: str = "generic",
    progress: bool = False,
) -> tuple[list[Query], dict]:
    """Queries for ``doc_ids`` and statistics (generated, duplicates, failed, seconds)."""
    from tqdm.auto import tqdm

    doc_ids = list(doc_ids)
    system = writer_prompt(domain)
    label = DOMAINS[domain].passage.capitalize()
    start = time.perf_counter()
    seen: set[str] = set()
    out: list[Query] = []
    stats = {"requests": 0, "duplicates": 0, "failed": 0}
    for doc_id in tqdm(doc_ids, desc="LLM queries", unit="doc", disable=not bars(progress)):
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
        passage = truncate_words(corpus[doc_id].full_text, max_words)
        if not passage.strip():
            stats["failed"] += 1
            continue
        for k in range(n):
            request = {
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"{label}: {passage}"}],
                "max_tokens": max_tokens,
                "temperature": 0.0 if k == 0 else 0.8,
                "seed": k,
            }
            stats["requests"] += 1
            try:
                text = backend.chat(request)["choices"][0]["message"]["content"]
            except (LLMError, KeyError, IndexError, TypeError):
                stats["failed"] += 1
                continue
            text = " ".join(str(text).strip().strip('"').split())
            key = normalize(text)
            if not key or key in seen:
                stats["duplicates"] += bool(key)
                continue
            seen.add(key)
            out.append(Query(f"llm:{doc_id}:{k}", text, "llm", doc_id))
    stats["generated"] = len(out)
    stats["seconds"] = time.perf_counter() - start
    return out, stats
