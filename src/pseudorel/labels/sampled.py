"""Sampled teaching: the expensive teacher reads only the candidate pairs of a sample of queries.

In full mode every retriever of the teacher searches the whole corpus, so an expensive dense
teacher (nomic) encodes every document: hours on a CPU for a corpus of 10^5. In sampled mode the
cheap first stage (BM25 and the base dense model) searches the whole corpus and mines each
query's candidates; a seeded sample of queries whose candidate pairs fit ``teacher_pairs`` is
kept (real queries first); each expensive dense model embeds only those queries and their
candidate documents (cached per text, so no document is read twice, resumable, through the
executors) and scores the pairs. The runs are then fused as the full teacher fuses them, over
the candidates. The cost grows with queries x depth, not with the corpus.
"""

from __future__ import annotations

import logging
import math
import random
import time

import numpy as np
import pandas as pd

from pseudorel.candidates.mining import MiningSettings, mine_candidates, ranks
from pseudorel.data.types import Document, Run
from pseudorel.labels.retrievers import run_retrievers
from pseudorel.queries.types import Query
from pseudorel.retrieval.factory import dense_models
from pseudorel.retrieval.fusion import fuse
from pseudorel.retrieval.pairs import PairScorer
from pseudorel.teachers.registry import score_column

logger = logging.getLogger("pseudorel")

FULL, SAMPLED = "full", "sampled"
TEACHER_MODES = ("auto", FULL, SAMPLED)


def split_teacher(retrievers: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(cheap, expensive) retriever specs: BM25 and the first dense model search the corpus;
    every further dense model (nomic, a larger embedder) is the expensive teacher."""
    cheap: list[str] = []
    expensive: list[str] = []
    for spec in retrievers:
        kind = spec.partition(":")[0]
        if kind == "bm25" or not any(c.partition(":")[0] != "bm25" for c in cheap):
            cheap.append(spec)
        else:
            expensive.append(spec)
    return tuple(cheap), tuple(expensive)


def sample_queries(queries: list[Query], pairs: int, per_query: int, seed: int = 0) -> list[Query]:
    """A seeded sample of about ``1.3 * pairs / per_query`` queries to mine, real and synthetic
    ones alternating while both last (real queries are what the system will serve; synthetic
    ones, with their source documents, calibrate the teacher); :func:`within_budget` then trims
    it to the pair budget from the end."""
    want = math.ceil(1.3 * pairs / max(1, per_query))
    rng = random.Random(seed)
    real = [q for q in queries if not q.synthetic]
    synthetic = [q for q in queries if q.synthetic]
    rng.shuffle(real)
    rng.shuffle(synthetic)
    both = min(len(real), len(synthetic))
    mixed = [q for pair in zip(real[:both], synthetic[:both], strict=True) for q in pair]
    return (mixed + real[both:] + synthetic[both:])[:want]


def within_budget(frame: pd.DataFrame, pairs: int) -> pd.DataFrame:
    """The rows of the first queries (in the frame's order) whose candidates fit ``pairs``."""
    sizes = frame.groupby("query_id", sort=False).size()
    keep = sizes.index[sizes.cumsum().to_numpy() <= pairs]
    return frame[frame["query_id"].isin(set(keep))].reset_index(drop=True)


def pair_scores(spec: str, corpus: dict[str, Document], frame: pd.DataFrame, progress=True, executor=None, stats=None):
    """Cosine of each (query, candidate) row of ``frame`` under the dense model ``spec`` names,
    encoding only the frame's queries and candidate documents."""

    scorer = PairScorer(dense_models([spec])[0], progress, executor)
    return scorer.score(frame["query_text"].tolist(), frame["doc_id"].tolist(), corpus, stats)


def sampled_candidates(
    corpus: dict[str, Document],
    queries: list[Query],
    retrievers: tuple[str, ...],
    mining: MiningSettings,
    teacher_pairs: int,
    seed: int = 0,
    progress: bool = True,
    executor=None,
) -> tuple[pd.DataFrame, dict]:
    """The candidate table of a sample of ``queries`` within ``teacher_pairs`` pairs, every
    retriever's rank and the fused score over the candidates (as :func:`mine_candidates` makes
    them), each expensive model's own cosine (``score_<model>``), and what the expensive teacher
    read (pairs, documents, seconds)."""

    cheap, expensive = split_teacher(retrievers)
    per_query = mining.top * max(1, len(cheap) - 1) + mining.deep + 1
    chosen = sample_queries(queries, teacher_pairs, per_query, seed)
    passes: dict = {}
    runs = run_retrievers(corpus, chosen, cheap, mining.depth, passes, progress=progress, executor=executor)
    frame = within_budget(mine_candidates(chosen, runs, mining), teacher_pairs).copy()
    stats: dict = {"mode": SAMPLED, "queries": int(frame["query_id"].nunique()), "pairs": len(frame)}
    stats["corpus_passes"] = passes
    stats["documents_read"] = int(frame["doc_id"].nunique())
    for spec in expensive:
        name = spec.replace(":", "_")
        start, encoded = time.perf_counter(), {}
        scores = pair_scores(spec, corpus, frame, progress, executor, encoded)
        frame[score_column(name)] = scores
        runs[name] = {}
        for qid, doc_id, score in zip(frame["query_id"], frame["doc_id"], scores, strict=True):
            runs[name].setdefault(qid, {})[doc_id] = float(score)
        stats[name] = {**encoded, "pass_seconds": round(time.perf_counter() - start, 1)}
        logger.info(
            "%s read %d pairs: %d documents (%d encoded now) in %.0f s",
            spec,
            len(frame),
            stats["documents_read"],
            encoded.get("encoded", 0),
            stats[name]["pass_seconds"],
        )
    return refuse(frame, runs, mining), stats


def refuse(frame: pd.DataFrame, runs: dict[str, Run], mining: MiningSettings) -> pd.DataFrame:
    """``frame`` with every run's rank and the fused score and rank recomputed from ``runs``."""
    fused_run = fuse(list(runs.values()), mining.fusion, top_k=mining.depth * max(1, len(runs)))
    fused_ranks = ranks(fused_run)
    out = frame.copy()
    pairs = list(zip(out["query_id"], out["doc_id"], strict=True))
    out["fused_score"] = [fused_run.get(q, {}).get(d, 0.0) for q, d in pairs]
    out["fused_rank"] = [fused_ranks.get(q, {}).get(d, np.nan) for q, d in pairs]
    for name, run in runs.items():
        run_ranks = ranks(run)
        out[f"rank_{name}"] = [run_ranks.get(q, {}).get(d, np.nan) for q, d in pairs]
    for column in [c for c in out.columns if c.startswith("rank_")] + ["fused_rank"]:
        out[column] = out[column].astype("float64")
    return out
