"""The teachers that label (query, document) pairs, each registered once with its name, what it
reads, what it costs and where it comes from. A teacher named ``x`` writes two columns of the
label table (``labels/store.py``): ``score_x``, its raw score, and ``prob_x``, its calibrated
probability (NaN where it did not judge the pair). Everything that reads the table (the label
pipeline's combination, the guard, the report, the students' cards) finds the teachers here
rather than spelling their columns.

    >>> describe("ql").reads
    'pair'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

PROB, SCORE = "prob_", "score_"
COMBINED = "cheap"  # prob_cheap: the cheap teachers combined (what the LLM budget is spent against)

#: what a teacher reads: the pair's ranks in the retrievers' runs, the pair's text itself, or
#: only whether the document is the one a synthetic query was made from
RANKS, PAIR, ORIGIN = "ranks", "pair", "origin"


@dataclass(frozen=True)
class TeacherInfo:
    name: str
    reads: str  # RANKS, PAIR or ORIGIN
    cost: str  # free, cheap (runs on every pair), budgeted (runs on a chosen share of the pairs)
    summary: str
    citation: str = ""

    @property
    def column(self) -> str:
        return prob_column(self.name)

    @property
    def judges_relevance(self) -> bool:
        """Counts in the guard's relevance judgment: every teacher but the source document, which
        says only where a synthetic query came from."""
        return self.reads != ORIGIN


@runtime_checkable
class PairTeacher(Protocol):
    """A teacher that reads each pair's text and scores every candidate pair it is given. The
    label pipeline loops over the chosen ones: each writes ``score_<info.name>`` (raw, in order)
    and the pipeline calibrates it on the synthetic queries into ``prob_<info.name>``."""

    info: TeacherInfo

    def score(self, queries: list[str], passages: list[str], progress: bool = True, executor=None) -> np.ndarray:
        """Raw scores of the pairs ``zip(queries, passages)``; ``executor`` may spread the work."""
        ...


TEACHERS: dict[str, TeacherInfo] = {}


def register(info: TeacherInfo) -> TeacherInfo:
    """Add ``info`` to the registry (a name registers once)."""
    if info.name in TEACHERS and TEACHERS[info.name] != info:
        raise ValueError(f"a teacher named '{info.name}' is already registered")
    TEACHERS[info.name] = info
    return info


def describe(name: str) -> TeacherInfo:
    """The registered teacher ``name``; an expensive dense model labelling a sample (``dense_<model>``)
    is described on the fly."""
    if name in TEACHERS:
        return TEACHERS[name]
    if name.startswith("dense_"):
        return TeacherInfo(name, RANKS, "cheap", f"the cosine of {name.removeprefix('dense_')} alone (sampled mode)")
    raise KeyError(f"no teacher named '{name}'; known: {', '.join(sorted(TEACHERS))}")


def prob_column(name: str) -> str:
    return PROB + name


def score_column(name: str) -> str:
    return SCORE + name


def teacher_columns(labels: pd.DataFrame | list[str]) -> list[str]:
    """The ``prob_`` columns of each teacher in ``labels`` (not the combined ``prob_cheap``)."""
    columns = labels.columns if isinstance(labels, pd.DataFrame) else labels
    return [c for c in columns if c.startswith(PROB) and c != prob_column(COMBINED)]


def teacher_of(column: str) -> str:
    """The teacher's name in a ``prob_`` or ``score_`` column's name."""
    return column.removeprefix(PROB).removeprefix(SCORE)


def readers(reads: str) -> tuple[str, ...]:
    """The ``prob_`` columns of the registered teachers that read ``reads``."""
    return tuple(t.column for t in TEACHERS.values() if t.reads == reads)


def reads_pairs(labels: pd.DataFrame) -> bool:
    """Did a teacher that reads each pair's text label ``labels``? Only such a teacher can judge
    a reranker (which reads the same text) by more than its agreement with the first stage."""
    return any(c in labels for c in readers(PAIR))


FUSION = register(
    TeacherInfo(
        "fusion",
        RANKS,
        "cheap",
        "the retrievers' runs fused (rank fusion or score interpolation), Platt-calibrated on synthetic queries",
        "Cormack, Clarke & Buettcher 2009 (reciprocal rank fusion)",
    )
)
SOURCE = register(
    TeacherInfo("source", ORIGIN, "free", "1 for the document a synthetic query was made from, a prior elsewhere")
)
CROSS_ENCODER = register(
    TeacherInfo("ce", PAIR, "cheap", "a cross-encoder's score of each pair, calibrated", "Wang et al. 2022 (GPL)")
)
LLM_JUDGE = register(
    TeacherInfo(
        "llm",
        PAIR,
        "budgeted",
        "an LLM's graded judgment of the pairs the cheap teachers are least sure of",
        "Thomas et al. 2024 (LLMs can accurately predict searcher preferences)",
    )
)
QUERY_LIKELIHOOD = register(
    TeacherInfo(
        "ql",
        PAIR,
        "budgeted",
        "a language model's likelihood of the query given the document, centred per query and calibrated",
        "Sachan et al. 2022 (UPR)",
    )
)
