"""Load a dataset from a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

from pathlib import Path

from pseudorel.data.readers import _iter_lines, read_corpus, read_qrels, read_queries
from pseudorel.data.types import Dataset
from pseudorel.errors import InputError


def available_splits(folder: str | Path) -> list[str]:
    """Split names that have a qrels file in a BEIR folder."""
    qrels_dir = Path(folder) / "qrels"
    return sorted(p.stem for p in qrels_dir.glob("*.tsv")) if qrels_dir.is_dir() else []


def split_query_ids(folder: str | Path, split: str) -> list[str]:
    """The query ids of a split, in file order. Only the id column is read: no judgment is
    looked at, so a label-free pipeline can take a dataset's train queries as unlabeled input."""
    path = Path(folder) / "qrels" / f"{split}.tsv"
    if not path.is_file():
        found = ", ".join(available_splits(folder)) or "none"
        raise InputError(path, f"no qrels for split '{split}' (splits found: {found})")
    ids: dict[str, None] = {}
    for number, line in _iter_lines(path):
        parts = line.split()
        if not parts or (number == 1 and parts[0] == "query-id"):
            continue
        ids[parts[0]] = None
    return list(ids)


def load_beir(folder: str | Path, splits: list[str] | None = None, name: str | None = None) -> Dataset:
    """Read a BEIR folder. ``splits=None`` loads every qrels split present; ``[]`` loads none."""
    folder = Path(folder)
    corpus_path = folder / "corpus.jsonl"
    if not corpus_path.is_file():
        raise InputError(folder, "not a BEIR folder: corpus.jsonl is missing")
    corpus = read_corpus(corpus_path)
    queries_path = folder / "queries.jsonl"
    queries = read_queries(queries_path) if queries_path.is_file() else {}
    wanted = available_splits(folder) if splits is None else splits
    if wanted and not queries_path.is_file():
        raise InputError(queries_path, f"missing: the qrels of split '{wanted[0]}' need the queries they judge")
    qrels = {}
    for split in wanted:
        path = folder / "qrels" / f"{split}.tsv"
        if not path.is_file():
            found = ", ".join(available_splits(folder)) or "none"
            raise InputError(path, f"no qrels for split '{split}' (splits found: {found})")
        qrels[split] = read_qrels(path, queries=queries, corpus=corpus)
    return Dataset(name=name or folder.name, corpus=corpus, queries=queries, qrels=qrels, path=folder)
