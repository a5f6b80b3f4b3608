"""From queries and a corpus to a label table: mine candidates, run the cheap teachers,
calibrate them without qrels, spend the LLM budget where they are least certain, combine.

Every stage is keyed by the content of its inputs and settings and cached under ``workdir``;
LLM answers are cached one by one as they arrive, so a killed run resumes without losing
or repeating a finished judgment.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from pseudorel._io import bars, text_digest
from pseudorel.candidates.mining import MiningSettings, mine_candidates
from pseudorel.data.types import Document
from pseudorel.fingerprints import corpus_digest, model_identity, queries_digest
from pseudorel.labels.query_likelihood import query_likelihood_labels
from pseudorel.labels.retrievers import run_retrievers
from pseudorel.labels.sampled import SAMPLED, sampled_candidates
from pseudorel.labels.store import StageCache
from pseudorel.queries.synthetic import synthetic_queries
from pseudorel.queries.types import Query
from pseudorel.retrieval.factory import dense_models
from pseudorel.teachers.calibration import CALIBRATORS
from pseudorel.teachers.combine import combine_probs, select_for_judging
from pseudorel.teachers.cross_encoder import CrossEncoderTeacher
from pseudorel.teachers.llm_judge import JudgeSettings, LLMJudge
from pseudorel.teachers.query_likelihood import QLSettings
from pseudorel.teachers.registry import (
    COMBINED,
    FUSION,
    LLM_JUDGE,
    QUERY_LIKELIHOOD,
    SOURCE,
    TEACHERS,
    PairTeacher,
    prob_column,
    score_column,
    teacher_of,
)
from pseudorel.teachers.source_doc import source_doc_probs

logger = logging.getLogger("pseudorel")

CALIBRATION_PREFIX = "calib:"
QL_KEYS = ("ql_budget", "ql_depth", "ql_seconds", "ql")


@dataclass(frozen=True)
class LabelSettings:
    retrievers: tuple[str, ...] = ("bm25", "dense")
    mining: MiningSettings = field(default_factory=MiningSettings)
    calibration: str = "platt"
    calibration_docs: int = 300  # synthetic queries made to fit calibration, label-free
    cross_encoder: str | None = None
    llm_budget: int = 0
    llm_seconds: float | None = None
    llm_select: str = "uncertain"
    llm_weight: float = 1.0  # the LLM's weight against each cheap teacher in the combined label
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    ql_budget: int = 0  # pairs the query-likelihood teacher scores (given a scorer)
    ql_depth: int = 10  # each sampled query's top-ranked candidates it scores
    ql_seconds: float | None = None
    ql: QLSettings = field(default_factory=QLSettings)
    # full: every retriever searches the whole corpus; sampled: the expensive dense teachers read
    # only the candidates of a sample of queries within teacher_pairs (labels/sampled.py);
    # auto: decided by adapt from this machine's measured speed (labels/teacher_choice.py)
    teacher_mode: str = "full"
    teacher_pairs: int = 10_000
    seed: int = 0

    def cheap_key(self) -> str:
        d = asdict(self)
        for k in ("llm_budget", "llm_seconds", "llm_select", "llm_weight", "judge", *QL_KEYS):
            d.pop(k)
        return repr(sorted(d.items()))


def teacher_model_ids(settings: LabelSettings) -> list[str]:
    """What every model the cheap teachers load computes: its files' fingerprint and, where the
    code sets it, how many tokens it reads. A model retrained in place under the same path, or
    read at another length, must not reuse the candidates and scores of the old one."""

    models = [*dense_models(settings.retrievers), *([settings.cross_encoder] if settings.cross_encoder else [])]
    return [model_identity(m) for m in models]


def pair_teachers(settings: LabelSettings) -> list[PairTeacher]:
    """The cheap teachers that read every candidate pair's text, as ``settings`` chooses them."""
    return [CrossEncoderTeacher(settings.cross_encoder)] if settings.cross_encoder else []


def _calibrated(scores: np.ndarray, calib_mask: np.ndarray, positives: np.ndarray, method: str) -> np.ndarray:
    calibrator = CALIBRATORS[method]().fit(scores[calib_mask], positives[calib_mask])
    return calibrator.predict(scores)


def cheap_labels(
    corpus: dict[str, Document],
    queries: list[Query],
    settings: LabelSettings,
    cache: StageCache,
    progress: bool = True,
    executor=None,
) -> pd.DataFrame:
    """Candidates with every cheap teacher's score and calibrated probability; ``executor``
    (default: local) runs the sharded work (encoding the corpus and queries, the cross-encoder)."""
    calib = [
        Query(CALIBRATION_PREFIX + q.id, q.text, q.source, q.doc_id)
        for q in synthetic_queries(corpus, ("title", "ict"), seed=settings.seed, max_docs=settings.calibration_docs)
    ]
    key = text_digest(
        corpus_digest(corpus), queries_digest(queries), settings.cheap_key(), *teacher_model_ids(settings)
    )

    def compute() -> pd.DataFrame:
        everything = queries + calib
        if settings.teacher_mode == SAMPLED:
            sampled = queries if any(q.synthetic for q in queries) else everything  # calibration needs synthetic ones
            frame, stats = sampled_candidates(
                corpus,
                sampled,
                settings.retrievers,
                settings.mining,
                settings.teacher_pairs,
                settings.seed,
                progress,
                executor,
            )
            cache.save_json("teacher_pass", key, stats)
            cache.save_json("corpus_passes", key, stats["corpus_passes"])
        else:
            passes: dict = {}
            runs = run_retrievers(
                corpus,
                everything,
                settings.retrievers,
                settings.mining.depth,
                passes,
                progress=progress,
                executor=executor,
            )
            cache.save_json("corpus_passes", key, passes)
            frame = mine_candidates(everything, runs, settings.mining)
        frame["calibration_only"] = frame["query_id"].str.startswith(CALIBRATION_PREFIX)
        calib_mask = frame["calibration_only"].to_numpy()
        if settings.teacher_mode == SAMPLED:  # the sampled synthetic queries calibrate (no extra teacher pairs)
            calib_mask = (frame["query_source"] != "log").to_numpy()
        positives = frame["is_source_doc"].to_numpy(dtype=int)

        def calibrate(name: str) -> None:
            scores = frame[score_column(name)].to_numpy()
            frame[prob_column(name)] = _calibrated(scores, calib_mask, positives, settings.calibration)

        frame = frame.rename(columns={"fused_score": score_column(FUSION.name)})  # fused as MiningSettings says
        calibrate(FUSION.name)
        frame[SOURCE.column] = source_doc_probs(frame)
        for column in [c for c in frame.columns if c.startswith(score_column("dense_"))]:  # sampled mode
            calibrate(teacher_of(column))  # each expensive model alone
        teachers = pair_teachers(settings)
        passages = [corpus[d].full_text for d in frame["doc_id"]] if teachers else []
        for teacher in teachers:
            name = teacher.info.name
            frame[score_column(name)] = teacher.score(
                frame["query_text"].tolist(), passages, progress=progress, executor=executor
            )
            calibrate(name)
        return frame

    frame = cache.get_or_compute("cheap", key, compute)
    frame.attrs["teacher_pass"] = cache.load_json("teacher_pass", key)
    frame.attrs["corpus_passes"] = cache.load_json("corpus_passes", key)
    return frame


def judge_pairs(
    frame: pd.DataFrame,
    corpus: dict[str, Document],
    judge: LLMJudge,
    indices: np.ndarray,
    max_seconds: float | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, list[str | None], dict]:
    """LLM soft labels for rows ``indices`` (NaN elsewhere, and where a judgment failed)."""
    from tqdm.auto import tqdm

    probs = np.full(len(frame), np.nan)
    errors: list[str | None] = [None] * len(frame)
    pairs = [(frame["query_text"].iat[i], corpus[frame["doc_id"].iat[i]].full_text) for i in indices]
    start = time.perf_counter()
    judged = failed = 0
    with tqdm(total=len(pairs), desc="LLM judge", unit="pair", disable=not bars(progress)) as bar:
        for position, judgment in judge.judge_many(pairs, max_seconds=max_seconds):
            row = indices[position]
            if judgment.label is None:
                errors[row] = judgment.error
                failed += 1
            else:
                probs[row] = judgment.label
                judged += 1
            bar.update(1)
    stats = {"requested": len(pairs), "judged": judged, "failed": failed, "seconds": time.perf_counter() - start}
    if failed:
        logger.warning("LLM judge: %d of %d pairs failed (see llm_error)", failed, len(pairs))
    return probs, errors, stats


def label_pairs(
    corpus: dict[str, Document],
    queries: list[Query],
    settings: LabelSettings,
    workdir,
    backend=None,
    progress: bool = True,
    scorer=None,
    executor=None,
) -> tuple[pd.DataFrame, dict]:
    """The label table for ``queries`` (calibration-only rows removed) and run statistics;
    ``backend`` is the LLM judge's chat model, ``scorer`` the query-likelihood teacher's model,
    ``executor`` where the sharded stages run (``pseudorel.scale``; default: this process)."""
    cache = StageCache(workdir)
    cheap = cheap_labels(corpus, queries, settings, cache, progress=progress, executor=executor)
    frame = cheap[~cheap["calibration_only"]].drop(columns="calibration_only").reset_index(drop=True)
    cheap_teachers = [t for t in TEACHERS.values() if t.cost != "budgeted" and t.column in frame]
    teachers = {t.name: frame[t.column].to_numpy() for t in cheap_teachers}
    frame[prob_column(COMBINED)] = combine_probs(teachers)
    stats: dict = {
        "pairs": len(frame),
        "queries": int(frame["query_id"].nunique()),
        "corpus_passes": cheap.attrs.get("corpus_passes"),
    }
    if settings.teacher_mode == SAMPLED:
        stats["teacher_pass"] = cheap.attrs.get("teacher_pass")
    if backend is not None and settings.llm_budget > 0:
        indices = select_for_judging(
            frame[prob_column(COMBINED)].to_numpy(), settings.llm_budget, settings.llm_select, settings.seed
        )
        judge = LLMJudge(backend, settings.judge)
        judge.check()  # an unreachable or broken server fails here, not after hours of failed pairs
        probs, errors, stats["llm"] = judge_pairs(frame, corpus, judge, indices, settings.llm_seconds, progress)
        frame[LLM_JUDGE.column] = probs
        frame["llm_error"] = errors
        teachers[LLM_JUDGE.name] = probs
    if scorer is not None and settings.ql_budget > 0:
        frame, stats["query_likelihood"] = query_likelihood_labels(frame, corpus, scorer, settings, workdir, progress)
        teachers[QUERY_LIKELIHOOD.name] = frame[QUERY_LIKELIHOOD.column].to_numpy()
    weights = {LLM_JUDGE.name: settings.llm_weight * (len(teachers) - 1)} if LLM_JUDGE.name in teachers else None
    frame["label"] = combine_probs(teachers, weights)
    return frame, stats
