"""The benchmark collections, and one larger corpus made by merging them (ids prefixed by
collection, so each collection's test queries are evaluated over the merged corpus)."""

from __future__ import annotations

from pseudorel.data.registry import load_dataset
from pseudorel.data.types import Dataset

SINGLE = ("scifact", "nfcorpus", "cranfield")
MERGED = "merged"


def load_collection(name: str) -> Dataset:
    """A single collection by name, or ``merged``: the three corpora and their test queries."""
    if name != MERGED:
        return load_dataset(name)
    corpus, queries, qrels = {}, {}, {}
    for part in SINGLE:
        data = load_dataset(part)
        corpus.update({f"{part}/{d}": doc for d, doc in data.corpus.items()})
        queries.update({f"{part}/{q}": t for q, t in data.queries.items()})
        for q, docs in data.qrels.get("test", {}).items():
            qrels[f"{part}/{q}"] = {f"{part}/{d}": g for d, g in docs.items()}
    return Dataset(MERGED, corpus, queries, {"test": qrels})
