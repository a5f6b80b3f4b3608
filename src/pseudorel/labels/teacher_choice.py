"""Which retrievers make ``adapt``'s default teacher (``--retrievers auto``).

The guard can only ship what its teacher's held-out pseudo-labels prefer, so a system that
beats the zero-shot hybrid needs a teacher stronger than that hybrid. nomic-embed-text-v1.5 is
the strongest embedder that loads here (bench/results/system: on Cranfield it lifts the
shipped system from 0.4218 to 0.4348). ``auto`` adds it to BM25 + MiniLM when it is usable:
already cached, or fetched once from the package registry (about 284 MB), and when encoding
the corpus with it fits the time budget. Otherwise the teacher stays BM25 + MiniLM and the
reason is reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

AUTO = "auto"
BASE_TEACHER = ("bm25", "dense")
STRONG_TEACHER = ("bm25", "dense", "dense:nomic")
# bench/results/nomic_length: the PyTorch port under bf16 on 2 cores reading 512 tokens
# (SciFact's 5,183 abstracts in 1,214 s; 8.4/s at 256 tokens, bench/results/nomic_speed)
NOMIC_DOCS_PER_SECOND = 4.0
# the most of a time budget that encoding with nomic may take before it is left out
NOMIC_BUDGET_SHARE = 0.4
#: set to 0 to never download the model for ``auto`` (an explicit ``dense:nomic`` still does)
AUTO_FETCH_ENV = "PSEUDOREL_AUTO_FETCH"


@dataclass(frozen=True)
class TeacherChoice:
    retrievers: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict:
        return {"retrievers": list(self.retrievers), "reason": self.reason}


def nomic_seconds(texts: int) -> float:
    """Rough seconds to encode ``texts`` passages with nomic here (queries are shorter: cheaper)."""
    return texts / NOMIC_DOCS_PER_SECOND


def choose_teacher(
    retrievers: tuple[str, ...], documents: int, queries: int, time_budget_s: float | None = None
) -> TeacherChoice:
    """``retrievers`` as given, or, for ``("auto",)``, the strongest teacher usable here."""
    if tuple(retrievers) != (AUTO,):
        return TeacherChoice(tuple(retrievers), "as requested")
    from pseudorel.retrieval.nomic_files import NOMIC, ModelFetchError, cached_member, fetch_member

    estimate = nomic_seconds(documents) + nomic_seconds(queries) / 4
    if time_budget_s is not None and estimate > NOMIC_BUDGET_SHARE * time_budget_s:
        return TeacherChoice(
            BASE_TEACHER,
            f"nomic-embed-text-v1.5 left out: encoding {documents} documents would take about "
            f"{estimate / 60:.0f} of the budget's {time_budget_s / 60:.0f} minutes",
        )
    if cached_member(NOMIC) is not None:
        return TeacherChoice(STRONG_TEACHER, "nomic-embed-text-v1.5 is cached: BM25 + MiniLM + nomic")
    if os.environ.get(AUTO_FETCH_ENV, "1") == "0":
        return TeacherChoice(
            BASE_TEACHER, f"nomic-embed-text-v1.5 left out: not cached and {AUTO_FETCH_ENV}=0 forbids fetching it"
        )
    try:
        fetch_member(NOMIC)
    except ModelFetchError as e:
        return TeacherChoice(BASE_TEACHER, f"nomic-embed-text-v1.5 left out: {e}")
    return TeacherChoice(STRONG_TEACHER, "nomic-embed-text-v1.5 fetched: BM25 + MiniLM + nomic")
