"""Assemble the system ``adapt`` ships, part by part, each kept only if the guard says so.

Order: (1) the adapted dense model against the zero-shot one, both fused with BM25 as the
zero-shot hybrid does; (2) the fusion method and weight against plain RRF; (3) the reranker
(depth and weight) against the first stage it reorders; finally the whole system against the
zero-shot hybrid, which it replaces only if every step held (it falls back otherwise).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pseudorel.data.types import Document
from pseudorel.system.guard import Decision, GuardSettings, decide, mean, pseudo_ndcg, pseudo_qrels
from pseudorel.system.search import SearchSystem, first_stage_run
from pseudorel.system.spec import FirstStage, RerankStage, SystemSpec

logger = logging.getLogger("pseudorel")

#: fusion variants tried against plain RRF: (method, BM25 weight, dense weight)
FUSION_GRID = (
    ("rrf", 1.0, 0.5),
    ("rrf", 1.0, 2.0),
    ("interpolate", 0.7, 0.3),
    ("interpolate", 0.5, 0.5),
    ("interpolate", 0.3, 0.7),
)
RERANK_DEPTHS = (10, 20, 50)
RERANK_WEIGHTS = (1.0, 0.5)


def select_system(
    corpus: dict[str, Document],
    labels: pd.DataFrame,
    held_out: list[str],
    folder: Path,
    base_model: str,
    retriever: str | None = None,
    reranker: str | None = None,
    settings: GuardSettings | None = None,
) -> tuple[SystemSpec, list[Decision]]:
    """The system to ship and the guard's decisions. ``retriever`` and ``reranker`` are folder
    names inside ``folder`` (None: not trained); ``held_out`` are queries no student saw."""
    settings = settings or GuardSettings()
    texts = labels.drop_duplicates("query_id").set_index("query_id")["query_text"]
    queries = {qid: texts[qid] for qid in held_out}
    qrels = pseudo_qrels(labels, held_out)
    system = SearchSystem(SystemSpec(), corpus, folder)
    decisions: list[Decision] = []

    def score(stage: FirstStage):
        run = first_stage_run(stage, system.retriever, queries)
        return run, pseudo_ndcg(run, qrels, settings.k)

    baseline = FirstStage(dense=base_model)
    base_run, base_scores = score(baseline)
    stage, run, scores = baseline, base_run, base_scores
    if retriever is not None:
        candidate = FirstStage(dense=retriever)
        cand_run, cand_scores = score(candidate)
        decision = decide("dense tower", candidate.describe(), cand_scores, stage.describe(), scores, settings.alpha)
        decisions.append(decision)
        if decision.kept:
            stage, run, scores = candidate, cand_run, cand_scores

    variants = [FirstStage(stage.dense, method, (wb, wd)) for method, wb, wd in FUSION_GRID]
    tried = [(variant, *score(variant)) for variant in variants]
    best, best_run, best_scores = max(tried, key=lambda t: mean(t[2]))
    decision = decide("fusion", best.describe(), best_scores, stage.describe(), scores, settings.alpha)
    decisions.append(decision)
    if decision.kept:
        stage, run, scores = best, best_run, best_scores

    rerank = None
    if reranker is not None:
        from pseudorel.evaluation.rerank import blend, cross_encoder_scores

        ce = cross_encoder_scores(run, queries, corpus, str(folder / reranker), max(RERANK_DEPTHS), progress=False)
        options = [RerankStage(reranker, depth, weight) for depth in RERANK_DEPTHS for weight in RERANK_WEIGHTS]
        rated = [(o, pseudo_ndcg(blend(run, ce, o.depth, o.weight), qrels, settings.k)) for o in options]
        best_rerank, rerank_scores = max(rated, key=lambda t: mean(t[1]))
        decision = decide("reranker", best_rerank.describe(), rerank_scores, stage.describe(), scores, settings.alpha)
        decisions.append(decision)
        if decision.kept:
            rerank, scores = best_rerank, rerank_scores

    spec = SystemSpec(first_stage=stage, reranker=rerank)
    if spec.describe() != baseline.describe():
        final = decide("system", spec.describe(), scores, baseline.describe(), base_scores, settings.alpha)
        decisions.append(final)
        if not final.kept:
            spec = SystemSpec(first_stage=baseline)
    for decision in decisions:
        logger.info("guard: %s: %s", decision.part, decision.reason)
    spec.decisions = [d.as_dict() for d in decisions]
    return spec, decisions
