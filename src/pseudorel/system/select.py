"""Assemble the system ``adapt`` ships, part by part, each kept only if the guard says so.

Start from the zero-shot hybrid (BM25 + the base dense model, RRF), the free baseline. Then:
(1) the teacher's own ranking (its other dense models, e.g. ``nomic``, and its fusion method)
replaces it; (2) the adapted dense model replaces the base one, and each refresh round's
retriever the one of the round before; (3) other fusion methods and weights; (4) the reranker (depth and weight)
reorders the first stage. In sampled mode the teacher's expensive model is offered at search time
on the first stage's top documents (the late stage: the teacher's own fusion over them, whose cost
grows with queries x depth). Finally the whole system is compared with the zero-shot hybrid, which
it replaces only if it is better there too (it falls back otherwise).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pseudorel.data.types import Document
from pseudorel.system.guard import Decision, GuardSettings, decide, mean, pseudo_ndcg, pseudo_qrels
from pseudorel.system.rerank import blend, cross_encoder_scores
from pseudorel.system.search import SearchSystem, first_stage_run, late_stage_run
from pseudorel.system.spec import FirstStage, LateStage, RerankStage, SystemSpec

logger = logging.getLogger("pseudorel")

#: fusion variants tried against plain RRF: (method, BM25's share of the weight; the dense models share the rest)
FUSION_GRID = (("rrf", 1 / 3), ("rrf", 2 / 3), ("interpolate", 0.3), ("interpolate", 0.5), ("interpolate", 0.7))
RERANK_DEPTHS = (10, 20, 50)
#: in sampled mode the guard's gains are the teacher's top candidates graded by rank (system/guard.py)
SAMPLED_GAIN_DEPTH = 10
RERANK_WEIGHTS = (1.0, 0.5)


def _weights(share: float, dense: int) -> tuple[float, ...]:
    return (round(share, 4), *[round((1 - share) / dense, 4)] * dense)


def _reweighted(stage: FirstStage) -> list[FirstStage]:
    """``stage`` with each fusion method and weight of :data:`FUSION_GRID`."""
    return [FirstStage(stage.dense, m, _weights(share, len(stage.dense))) for m, share in FUSION_GRID]


def _consider_student(student: str, current: tuple, score, settings: GuardSettings, decisions: list) -> tuple:
    """The student beside the current dense models (in nomic's place in the teacher's shape) or
    in their place, each with every fusion weight; it replaces the current first stage only if
    its best beats the best the current models reach with any fusion weight, so that it is not
    credited with what reweighting alone would give."""
    stage = current[0]
    without = max([current, *((c, *score(c)) for c in _reweighted(stage))], key=lambda t: mean(t[2]))
    shapes = [FirstStage(d, stage.fusion, (1.0,) * (1 + len(d))) for d in ((*stage.dense, student), (student,))]
    tried = [variant for shape in shapes for variant in (shape, *_reweighted(shape))]
    best = max(((c, *score(c)) for c in tried), key=lambda t: mean(t[2]))
    decision = decide("student", best[0].describe(), best[2], without[0].describe(), without[2], settings.alpha)
    decisions.append(decision)
    return best if decision.kept else current


def select_system(
    corpus: dict[str, Document],
    labels: pd.DataFrame,
    held_out: list[str],
    folder: Path,
    base_model: str,
    retriever: str | tuple[str, ...] | None = None,
    reranker: str | None = None,
    settings: GuardSettings | None = None,
    teacher_models: tuple[str, ...] = (),
    log: bool = True,
    teacher_fusion: str = "rrf",
    student: str | None = None,
    sampled: bool = False,
    late: LateStage | None = None,
) -> tuple[SystemSpec, list[Decision]]:
    """The system to ship and the guard's decisions. ``retriever`` and ``reranker`` are folder
    names inside ``folder`` (None: not trained; several retrievers: one per refresh round, each
    offered in place of the one before); ``teacher_models`` are the teacher's dense
    models besides ``base_model``; ``held_out`` are queries no student saw; ``log``: say each
    decision in the log; ``teacher_fusion``: how the teacher fused its retrievers (its own
    ranking is offered first, in place of the zero-shot hybrid). ``sampled``: the teacher labelled
    only a sample and cannot be deployed, so it is not offered, the baseline is the zero-shot
    hybrid fused as the teacher fuses, and ``student`` (a folder inside ``folder``: the model that
    imitates the expensive teacher) is offered beside or in place of the base model, then ``late``
    (the expensive teacher read at search time on the top documents of the teacher's cheap part)."""
    settings = settings or GuardSettings()
    texts = labels.drop_duplicates("query_id").set_index("query_id")["query_text"]
    queries = {qid: texts[qid] for qid in held_out}
    qrels = pseudo_qrels(labels, held_out, by_rank=SAMPLED_GAIN_DEPTH if sampled else None)
    system = SearchSystem(SystemSpec(), corpus, folder)
    decisions: list[Decision] = []

    def score(stage: FirstStage):
        run = first_stage_run(stage, system.retriever, queries)
        return run, pseudo_ndcg(run, qrels, settings.k)

    def consider(part: str, candidate: FirstStage, current: tuple) -> tuple:
        run, scores = score(candidate)
        decision = decide(part, candidate.describe(), scores, current[0].describe(), current[2], settings.alpha)
        decisions.append(decision)
        return (candidate, run, scores) if decision.kept else current

    baseline = FirstStage((base_model,), teacher_fusion) if sampled else FirstStage(dense=(base_model,))
    current = (baseline, *score(baseline))
    base_scores = current[2]
    extra = tuple(m for m in teacher_models if m != base_model)
    dense = (base_model, *extra)
    teacher = FirstStage(dense, teacher_fusion, (1.0,) * (1 + len(dense)))
    if (
        not sampled and teacher.describe() != baseline.describe()
    ):  # the teacher's own ranking: more models, or another fusion
        current = consider("teacher models" if extra else "teacher fusion", teacher, current)
    rounds = (retriever,) if isinstance(retriever, str) else tuple(retriever or ())
    replaced = base_model
    for k, name in enumerate(rounds, start=1):  # round 1's retriever, then each refresh round's
        stage = current[0]
        if replaced not in stage.dense:
            break  # the previous round was not kept: a later round, trained from it, is not offered
        dense = tuple(name if d == replaced else d for d in stage.dense)
        current = consider(
            "dense tower" if k == 1 else f"refresh round {k}", FirstStage(dense, stage.fusion, stage.weights), current
        )
        replaced = name

    if student is not None:
        current = _consider_student(student, current, score, settings, decisions)

    stage = current[0]
    tried = [FirstStage(stage.dense, m, _weights(share, len(stage.dense))) for m, share in FUSION_GRID]
    best = max(((variant, *score(variant)) for variant in tried), key=lambda t: mean(t[2]))
    decision = decide("fusion", best[0].describe(), best[2], stage.describe(), current[2], settings.alpha)
    decisions.append(decision)
    if decision.kept:
        current = best
    stage, run, scores = current

    offered, late = (late if sampled else None), None
    if offered is not None:
        teacher_cheap = FirstStage((base_model,), teacher_fusion)
        scorer = system.late_scorer(offered.model)
        late_run = late_stage_run(teacher_cheap, offered, system.retriever, scorer, queries, corpus)
        late_scores = pseudo_ndcg(late_run, qrels, settings.k)
        described = SystemSpec(teacher_cheap, late=offered).describe()
        decision = decide("late teacher", described, late_scores, stage.describe(), scores, settings.alpha)
        decisions.append(decision)
        if decision.kept:
            stage, run, scores, late = teacher_cheap, late_run, late_scores, offered

    rerank = None
    if reranker is not None:
        ce = cross_encoder_scores(run, queries, corpus, str(folder / reranker), max(RERANK_DEPTHS), progress=False)
        options = [RerankStage(reranker, depth, weight) for depth in RERANK_DEPTHS for weight in RERANK_WEIGHTS]
        rated = [(o, pseudo_ndcg(blend(run, ce, o.depth, o.weight), qrels, settings.k)) for o in options]
        best_rerank, rerank_scores = max(rated, key=lambda t: mean(t[1]))
        decision = decide("reranker", best_rerank.describe(), rerank_scores, stage.describe(), scores, settings.alpha)
        decisions.append(decision)
        if decision.kept:
            rerank, scores = best_rerank, rerank_scores

    spec = SystemSpec(first_stage=stage, reranker=rerank, late=late)
    if spec.describe() != baseline.describe():
        final = decide("system", spec.describe(), scores, baseline.describe(), base_scores, settings.alpha)
        decisions.append(final)
        if not final.kept:
            spec = SystemSpec(first_stage=baseline)
    for decision in decisions if log else ():
        logger.info("guard: %s: %s", decision.part, decision.reason)
    spec.decisions = [d.as_dict() for d in decisions]
    return spec, decisions
