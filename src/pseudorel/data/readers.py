"""Readers for corpora, queries and qrels in JSONL, CSV, TSV and TREC formats.

Every reader validates as it goes and raises :class:`InputError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pseudorel.data.types import Document, Qrels
from pseudorel.errors import InputError

logger = logging.getLogger("pseudorel")

_ID_KEYS = ("_id", "id", "docid", "doc_id", "qid", "query_id", "query-id", "corpus-id")
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_FIELD_LIMIT = 1 << 30  # csv's default (131,072 characters) is shorter than some documents
_WARNED: set[tuple[str, int]] = set()  # (corpus file, empty documents) already reported


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, decoded line) and name the line of any non-UTF-8 byte."""
    if not path.is_file():
        raise InputError(path, "file not found")
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(path, "file is UTF-16 encoded; convert it to UTF-8", 1)
        f.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)
        for number, raw in enumerate(f, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(
                    path,
                    f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); re-save the file as UTF-8",
                    number,
                ) from None


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line of a JSONL file."""
    path = Path(path)
    for number, line in _iter_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(path, f"malformed JSON: {e.msg} (column {e.colno})", number) from None
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", number)
        yield number, obj


def _iter_table(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a CSV/TSV file with or without a header row.

    Without a recognised header, 2 columns read as (id, text), 3 as (id, title, text).
    """
    delimiter = _TABLE_SUFFIXES[path.suffix.lower()]
    lines = _iter_lines(path)
    text = io.StringIO("".join(line for _, line in lines))
    # TSV has no quoting: a stray '"' must not swallow the lines after it
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(text, delimiter=delimiter, quoting=quoting, strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise InputError(path, f"unreadable row: {e}", start) from None
        number = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            lowered = [c.strip().lower() for c in row]
            if any(c in _ID_KEYS for c in lowered):
                header = lowered
                continue
            header = {2: ["_id", "text"], 3: ["_id", "title", "text"]}.get(len(row), [])
            if not header:
                raise InputError(
                    path, f"no header row and {len(row)} columns; expected id,text or id,title,text", number
                )
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} columns, found {len(row)}", number)
        yield number, dict(zip(header, row, strict=True))


def _iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    path = Path(path)
    if path.suffix.lower() in _TABLE_SUFFIXES:
        return _iter_table(path)
    return iter_jsonl(path)


def _record_id(path: Path, number: int, record: dict[str, Any]) -> str:
    for key in _ID_KEYS:
        if key in record:
            value = record[key]
            if isinstance(value, (str, int)) and str(value).strip():
                value = str(value).strip()
                if any(c.isspace() for c in value):
                    raise InputError(
                        path, f"id '{value}' contains white space, which TREC run files cannot hold", number
                    )
                return value
            raise InputError(path, f"empty or invalid '{key}'", number)
    raise InputError(path, "missing '_id'", number)


def _text_field(path: Path, number: int, record: dict[str, Any], key: str, required: bool) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise InputError(path, f"missing '{key}'", number)
        return ""
    if not isinstance(value, str):
        raise InputError(path, f"'{key}' must be a string, got {type(value).__name__}", number)
    return value


def read_corpus(path: str | Path) -> dict[str, Document]:
    """Read a corpus (BEIR ``corpus.jsonl``, or a CSV/TSV with id, [title,] text columns)."""
    path = Path(path)
    corpus: dict[str, Document] = {}
    first_line: dict[str, int] = {}
    empty = 0
    for number, record in _iter_records(path):
        doc_id = _record_id(path, number, record)
        if doc_id in corpus:
            raise InputError(path, f"duplicate document id '{doc_id}' (first on line {first_line[doc_id]})", number)
        title = _text_field(path, number, record, "title", required=False)
        text = _text_field(path, number, record, "text", required=True)
        if not (title.strip() or text.strip()):
            empty += 1
        metadata = record.get("metadata")
        corpus[doc_id] = Document(
            title=title, text=text, metadata=metadata if isinstance(metadata, dict) and metadata else None
        )
        first_line[doc_id] = number
    if not corpus:
        raise InputError(path, "empty corpus: no documents found")
    if empty and (str(path), empty) not in _WARNED:  # once per file, however often a run reads it
        _WARNED.add((str(path), empty))
        logger.warning("%s: %d document(s) have neither title nor text", path, empty)
    return corpus


def read_queries(path: str | Path) -> dict[str, str]:
    """Read queries (BEIR ``queries.jsonl``, or CSV/TSV with id and text). No qrels needed."""
    path = Path(path)
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, record in _iter_records(path):
        query_id = _record_id(path, number, record)
        if query_id in queries:
            raise InputError(path, f"duplicate query id '{query_id}' (first on line {first_line[query_id]})", number)
        text = _text_field(path, number, record, "text", required=True)
        if not text.strip():
            raise InputError(path, f"query '{query_id}' has empty text", number)
        queries[query_id] = text
        first_line[query_id] = number
    if not queries:
        raise InputError(path, "no queries found")
    return queries


def _parse_qrels_line(path: Path, number: int, line: str) -> tuple[str, str, int] | None:
    parts = line.split()
    if not parts:
        return None
    if len(parts) == 4:  # TREC: qid iteration docid grade
        qid, _, doc_id, grade = parts
    elif len(parts) == 3:  # BEIR TSV: query-id corpus-id score
        qid, doc_id, grade = parts
    else:
        raise InputError(path, f"expected 3 (BEIR) or 4 (TREC) columns, found {len(parts)}", number)
    try:
        value = float(grade)
    except ValueError:
        if number == 1:
            return None  # header row
        raise InputError(path, f"relevance grade '{grade}' is not a number", number) from None
    if not value.is_integer():
        raise InputError(path, f"relevance grade '{grade}' is not a whole number", number)
    return qid, doc_id, int(value)


def read_qrels(
    path: str | Path,
    queries: dict[str, str] | None = None,
    corpus: dict[str, Document] | None = None,
) -> Qrels:
    """Read qrels in BEIR TSV (with header) or TREC format.

    Judgments of unknown documents are kept (they still count against recall) and
    judgments of unknown queries are dropped (they cannot be run); both are counted
    and reported as a warning.
    """
    path = Path(path)
    qrels: Qrels = {}
    unknown_docs = unknown_queries = conflicts = 0
    for number, line in _iter_lines(path):
        parsed = _parse_qrels_line(path, number, line)
        if parsed is None:
            continue
        qid, doc_id, grade = parsed
        if queries is not None and qid not in queries:
            unknown_queries += 1
            continue
        if corpus is not None and doc_id not in corpus:
            unknown_docs += 1
        judged = qrels.setdefault(qid, {})
        if doc_id in judged and judged[doc_id] != grade:
            conflicts += 1
        judged[doc_id] = grade
    if conflicts:
        logger.warning(
            "%s: %d (query, document) pair(s) judged twice with different grades (the last kept)", path, conflicts
        )
    if unknown_queries:
        logger.warning("%s: %d judgment(s) name unknown queries (dropped)", path, unknown_queries)
    if unknown_docs:
        logger.warning("%s: %d judgment(s) name documents not in the corpus (kept)", path, unknown_docs)
    if not qrels:
        raise InputError(path, "no judgments found")
    return qrels
