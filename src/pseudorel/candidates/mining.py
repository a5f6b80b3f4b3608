"""Mine candidate documents per query from several retrievers, across ranks.

For each query: the top ``top`` documents of every retriever, plus ``deep`` documents
sampled from ranks ``top+1 .. depth`` of the fused ranking (hard and medium negatives the
teachers must sort out), plus the source document of a synthetic query, always included
and marked. Each pair keeps its rank in every retriever (NaN when not retrieved).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pseudorel.data.types import Run
from pseudorel.queries.types import Query
from pseudorel.retrieval.fusion import fuse


@dataclass(frozen=True)
class MiningSettings:
    top: int = 10
    deep: int = 5
    depth: int = 100
    seed: int = 0
    # how the retrievers' runs are fused into the teacher's ranking: min-max score interpolation,
    # equal weights (bench/results/teacher_dev: above reciprocal ranks on SciFact train and NFCorpus
    # dev qrels, as Bruch et al., TOIS 2023, found), or "rrf"
    fusion: str = "interpolate"


def ranks(run: Run) -> dict[str, dict[str, int]]:
    """1-based ranks by descending score (ties by doc id), per query."""
    return {
        qid: {d: r for r, (d, _) in enumerate(sorted(docs.items(), key=lambda x: (-x[1], x[0])), start=1)}
        for qid, docs in run.items()
    }


def mine_candidates(queries: list[Query], runs: dict[str, Run], settings: MiningSettings | None = None) -> pd.DataFrame:
    """One row per (query, candidate): ids, ``rank_<retriever>`` columns, ``fused_score`` and
    ``fused_rank`` (the runs fused by ``settings.fusion``; 0 and NaN for a document no run
    returned), ``cand_source`` (top, deep or source) and ``is_source_doc``."""
    settings = settings or MiningSettings()
    rng = random.Random(settings.seed)
    run_ranks = {name: ranks(run) for name, run in runs.items()}
    # every document some run returned keeps its fused score (top_k: all of them)
    fused_run = fuse(list(runs.values()), settings.fusion, top_k=settings.depth * max(1, len(runs)))
    fused = ranks(fused_run)
    rows = []
    for query in queries:
        chosen: dict[str, str] = {}
        for name in runs:
            for doc_id, rank in run_ranks[name].get(query.id, {}).items():
                if rank <= settings.top:
                    chosen.setdefault(doc_id, "top")
        deeper = [
            d for d, r in fused.get(query.id, {}).items() if d not in chosen and settings.top < r <= settings.depth
        ]
        for doc_id in rng.sample(deeper, min(settings.deep, len(deeper))):
            chosen[doc_id] = "deep"
        if query.doc_id is not None:
            chosen[query.doc_id] = "source"
        for doc_id, source in chosen.items():
            row = {
                "query_id": query.id,
                "query_text": query.text,
                "query_source": query.source,
                "doc_id": doc_id,
                "cand_source": source,
                "is_source_doc": doc_id == query.doc_id,
                "fused_score": fused_run.get(query.id, {}).get(doc_id, 0.0),
                "fused_rank": fused.get(query.id, {}).get(doc_id, np.nan),
            }
            for name in runs:
                row[f"rank_{name}"] = run_ranks[name].get(query.id, {}).get(doc_id, np.nan)
            rows.append(row)
    frame = pd.DataFrame(rows)
    for column in [c for c in frame.columns if c.startswith("rank_")] + ["fused_rank"]:
        frame[column] = frame[column].astype("float64")
    return frame
