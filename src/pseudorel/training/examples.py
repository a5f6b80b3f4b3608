"""Turn a label table into training examples: (query, positive, negatives) with soft labels.

For each query, candidates whose label is at least ``positive_threshold`` can be positives
(the best ``max_positives``); candidates below ``negative_threshold`` are hard negatives,
taken from the top of the retrievers' fused ranking (the confusable ones). Queries with no
candidate above the threshold are skipped. With ``positive_threshold=None`` the positives
are chosen by rank instead: each query's best-labelled candidates, however low their label
(for a teacher whose scores order documents well but whose calibrated probabilities are
all small, such as a reranker trained on a few hundred queries).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pseudorel.data.types import Document


@dataclass(frozen=True)
class ExampleSettings:
    negatives: int = 3
    positive_threshold: float | None = 0.4  # a candidate the teachers give at least a 40% chance; None: by rank
    negative_threshold: float = 0.3
    max_positives: int = 1
    hard_pool: int = 10  # negatives are sampled among the this-many best-ranked non-relevant candidates
    seed: int = 0


@dataclass
class Examples:
    queries: list[str]
    docs: list[list[str]]  # [positive, negative_1, ..., negative_k] per example
    labels: list[list[float]]  # the teacher's label for each of those documents
    query_ids: list[str]

    def __len__(self) -> int:
        return len(self.queries)

    def to_dataset(self, label_kind: str):
        """A datasets.Dataset with columns query, positive, negative_1..k and ``label``:
        the soft labels (``soft``), the row id (``row_id``, for label weakening) or none."""
        from datasets import Dataset

        columns: dict[str, list] = {"query": self.queries, "positive": [d[0] for d in self.docs]}
        for j in range(1, len(self.docs[0]) if self.docs else 1):
            columns[f"negative_{j}"] = [d[j] for d in self.docs]
        if label_kind == "soft":
            columns["label"] = self.labels
        elif label_kind == "row_id":
            columns["label"] = list(range(len(self)))
        elif label_kind != "none":
            raise ValueError(f"unknown label kind '{label_kind}'")
        return Dataset.from_dict(columns)


def _select(labels: pd.DataFrame, settings: ExampleSettings):
    """Yield (positive row, negative rows) per training example, as described in the module docstring."""
    rng = random.Random(settings.seed)
    rank = labels["fused_rank"].fillna(np.inf) if "fused_rank" in labels else pd.Series(0, index=labels.index)
    frame = labels.assign(_rank=rank).dropna(subset=["label"])
    threshold = -np.inf if settings.positive_threshold is None else settings.positive_threshold
    for _, group in frame.groupby("query_id", sort=False):
        eligible = group[group["label"] >= threshold]
        positives = eligible.nlargest(settings.max_positives, "label")
        rest = group.drop(index=positives.index)
        pool = rest[rest["label"] < settings.negative_threshold].nsmallest(settings.hard_pool, "_rank")
        if positives.empty or len(pool) < settings.negatives:
            continue
        for _, pos in positives.iterrows():
            yield pos, pool.iloc[sorted(rng.sample(range(len(pool)), settings.negatives))]


def build_examples(
    labels: pd.DataFrame, corpus: dict[str, Document], settings: ExampleSettings | None = None
) -> Examples:
    """(query, positive, hard negatives) examples for a bi-encoder, with the teacher's labels."""
    out = Examples([], [], [], [])
    for pos, negs in _select(labels, settings or ExampleSettings()):
        out.queries.append(pos["query_text"])
        out.query_ids.append(str(pos["query_id"]))
        out.docs.append([corpus[pos["doc_id"]].full_text] + [corpus[d].full_text for d in negs["doc_id"]])
        out.labels.append([float(pos["label"])] + [float(v) for v in negs["label"]])
    return out


def balanced_pairs(labels: pd.DataFrame, settings: ExampleSettings | None = None, max_pairs: int | None = None):
    """The label-table rows a pointwise reranker trains on: each confident positive with its hard
    negatives, so positives are 1 in ``1 + negatives`` pairs instead of the table's base rate
    (a few percent, which a reranker learns as a constant). At most ``max_pairs`` rows, whole
    queries kept together."""
    settings = settings or ExampleSettings()
    groups = [[pos.name, *negs.index] for pos, negs in _select(labels, settings)]
    random.Random(settings.seed).shuffle(groups)
    if max_pairs is not None:
        groups = groups[: max(1, max_pairs // (1 + settings.negatives))]
    return labels.loc[[i for g in groups for i in g]]


def teacher_lists(
    labels: pd.DataFrame, list_size: int = 8, max_pairs: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """The label-table rows a reranker distils the teacher's graded scores from: per query, its
    top-ranked candidates by fused rank (the hard ones) and its source document, ``list_size``
    in all. Queries in a seeded order, whole lists, at most ``max_pairs`` rows."""
    rank = labels["fused_rank"].fillna(np.inf) if "fused_rank" in labels else pd.Series(0, index=labels.index)
    source = labels["is_source_doc"].astype(bool) if "is_source_doc" in labels else False
    frame = labels.assign(_order=np.where(source, 0, rank)).dropna(subset=["label"])
    groups = [g.nsmallest(list_size, "_order").index for _, g in frame.groupby("query_id", sort=True)]
    groups = [g for g in groups if len(g) >= 2]
    random.Random(seed).shuffle(groups)
    if max_pairs is not None:
        groups = groups[: max(1, max_pairs // list_size)]
    return labels.loc[[i for g in groups for i in g]]
