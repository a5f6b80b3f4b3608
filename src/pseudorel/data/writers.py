"""Write a corpus as BEIR JSONL (atomically)."""

from __future__ import annotations

import json
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.types import Document


def write_corpus(corpus: dict[str, Document], path: str | Path) -> None:
    """One ``{"_id", "title", "text"}`` object a line (and ``metadata`` where a document has it), in
    the corpus's order."""
    with atomic_write(path) as f:
        for doc_id, doc in corpus.items():
            record = {"_id": doc_id, "title": doc.title, "text": doc.text}
            if doc.metadata:
                record["metadata"] = doc.metadata
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
