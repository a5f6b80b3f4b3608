"""TREC run files: ``qid Q0 docid rank score tag``."""

from __future__ import annotations

import math
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.readers import _iter_lines
from pseudorel.data.types import Run
from pseudorel.errors import InputError


def write_run(run: Run, path: str | Path, tag: str = "pseudorel") -> None:
    """Write a run atomically, each query's documents by descending score."""
    with atomic_write(path) as f:
        for qid, docs in run.items():
            ranked = sorted(docs.items(), key=lambda item: (-item[1], item[0]))
            for rank, (doc_id, score) in enumerate(ranked, start=1):
                f.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {tag}\n")


def read_run(path: str | Path) -> Run:
    """Read a TREC run file (6 whitespace-separated columns)."""
    path = Path(path)
    run: Run = {}
    for number, line in _iter_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise InputError(path, f"expected 6 columns (qid Q0 docid rank score tag), found {len(parts)}", number)
        qid, _, doc_id, _, score, _ = parts
        try:
            value = float(score)
        except ValueError:
            raise InputError(path, f"score '{score}' is not a number", number) from None
        if not math.isfinite(value):
            raise InputError(path, f"score '{score}' is not a finite number", number)
        run.setdefault(qid, {})[doc_id] = value
    if not run:
        raise InputError(path, "empty run file")
    return run
