"""The Cranfield collection from its public source (Glasgow IR test collections, ``cran.tar.gz``)
in BEIR layout.

The archive holds three files in SMART format: ``cran.all.1400`` (documents: ``.I`` id, ``.T``
title, ``.A`` authors, ``.B`` bibliography, ``.W`` text, which repeats the title), ``cran.qry``
(queries: ``.I``, ``.W``) and ``cranqrel`` (``query document code`` lines). The queries' ``.I``
numbers are not the numbers ``cranqrel`` uses: it numbers queries 1..225 in file order, and so
does this conversion. Codes run backwards (1: a complete answer .. 4: of minimum interest,
5 or -1: of no interest); the BEIR grade is 5 - code, and 0 for "of no interest".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.errors import InputError

URL = "http://ir.dcs.gla.ac.uk/resources/test_collections/cran/cran.tar.gz"
MD5 = "1730f7be572d95a5a4b56c59a7b900a5"  # as published by ir_datasets for this file

_RECORD = re.compile(r"^\.I\s+(\d+)\s*$", re.MULTILINE)
_FIELD = re.compile(r"^\.([A-Z])\s*$", re.MULTILINE)


def smart_records(path: Path) -> list[tuple[str, dict[str, str]]]:
    """``(id, {field letter: text})`` for each record of a SMART-format file, in file order."""
    text = path.read_text(encoding="latin-1")
    starts = list(_RECORD.finditer(text))
    if not starts:
        raise InputError(path, "no '.I' records: not a SMART-format file")
    records = []
    for k, start in enumerate(starts):
        body = text[start.end() : starts[k + 1].start() if k + 1 < len(starts) else len(text)]
        marks = list(_FIELD.finditer(body))
        fields = {
            m.group(1): " ".join(body[m.end() : marks[j + 1].start() if j + 1 < len(marks) else len(body)].split())
            for j, m in enumerate(marks)
        }
        records.append((start.group(1), fields))
    return records


def grade(code: int) -> int:
    return 0 if code < 1 or code >= 5 else 5 - code


def to_beir(source: Path, target: Path) -> None:
    """Write ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv`` under ``target`` from the
    unpacked archive in ``source``."""
    source = Path(source)
    found = {p.name: p for p in source.rglob("*") if p.is_file()}
    missing = [name for name in ("cran.all.1400", "cran.qry", "cranqrel") if name not in found]
    if missing:
        raise InputError(source, f"not the Cranfield archive: {', '.join(missing)} missing")
    with atomic_write(target / "corpus.jsonl") as f:
        for doc_id, fields in smart_records(found["cran.all.1400"]):
            record = {"_id": str(int(doc_id)), "title": fields.get("T", ""), "text": fields.get("W", "")}
            f.write(json.dumps(record) + "\n")
    queries = smart_records(found["cran.qry"])
    with atomic_write(target / "queries.jsonl") as f:
        for number, (_, fields) in enumerate(queries, start=1):
            f.write(json.dumps({"_id": str(number), "text": fields.get("W", "")}) + "\n")
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    with atomic_write(target / "qrels" / "test.tsv") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for line_number, line in enumerate(found["cranqrel"].read_text(encoding="latin-1").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 3 or not all(re.fullmatch(r"-?\d+", p) for p in parts[:3]):
                raise InputError(found["cranqrel"], f"line {line_number}: expected 'query document code', got {line!r}")
            query, doc, code = (int(p) for p in parts[:3])
            if not 1 <= query <= len(queries):
                raise InputError(found["cranqrel"], f"line {line_number}: query {query} is not in cran.qry")
            f.write(f"{query}\t{doc}\t{grade(code)}\n")
