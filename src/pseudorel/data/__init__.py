"""Data layer: readers, BEIR folders, the dataset registry and TREC run files."""

from pseudorel.data.beir import load_beir
from pseudorel.data.readers import read_corpus, read_qrels, read_queries
from pseudorel.data.registry import data_dir, load_dataset, resolve_dataset
from pseudorel.data.trec import read_run, write_run
from pseudorel.data.types import Dataset, Document, Qrels, Run

__all__ = [
    "Dataset",
    "Document",
    "Qrels",
    "Run",
    "data_dir",
    "load_beir",
    "load_dataset",
    "read_corpus",
    "read_qrels",
    "read_queries",
    "read_run",
    "resolve_dataset",
    "write_run",
]
