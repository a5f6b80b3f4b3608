"""A query with where it came from: a user's log, or a document it was made from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.readers import iter_jsonl, read_queries
from pseudorel.errors import InputError

#: Query sources: real queries without judgments, and synthetic ones made from a document.
SOURCES = ("log", "title", "ict", "span", "llm")


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    text: str
    source: str = "log"
    doc_id: str | None = None  # the document a synthetic query was made from

    @property
    def synthetic(self) -> bool:
        return self.doc_id is not None


def queries_from_log(path: str | Path) -> list[Query]:
    """Real queries (JSONL/CSV/TSV) with no judgments: the first-class input of a user without qrels."""
    return [Query(qid, text, "log") for qid, text in read_queries(path).items()]


def write_queries(queries: list[Query], path: str | Path) -> None:
    """JSONL with ``_id``, ``text``, ``source`` and ``doc_id``; written atomically."""
    with atomic_write(path) as f:
        for q in queries:
            row = asdict(q)
            row["_id"] = row.pop("id")
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_query_file(path: str | Path) -> list[Query]:
    """Read queries written by :func:`write_queries` (or any JSONL with ``_id`` and ``text``)."""
    out = []
    first_line: dict[str, int] = {}
    for number, row in iter_jsonl(path):
        if "_id" not in row or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise InputError(path, "each query needs '_id' and non-empty 'text'", number)
        query_id = str(row["_id"])
        if query_id in first_line:
            raise InputError(path, f"duplicate query id '{query_id}' (first on line {first_line[query_id]})", number)
        first_line[query_id] = number
        source = row.get("source", "log")
        if source not in SOURCES:
            raise InputError(path, f"unknown query source '{source}' (one of {', '.join(SOURCES)})", number)
        out.append(Query(str(row["_id"]), row["text"], source, row.get("doc_id")))
    return out
