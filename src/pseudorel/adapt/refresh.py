"""Refresh rounds: the adapted retriever joins the teacher, labels are recomputed, and a new
retriever learns from them (ABEL-style alternation; noisy self-training).

A round runs only when the previous round's retriever passes the no-harm guard against the
base model on the held-out queries (a student the guard would drop has nothing to add to the
teacher). The new round's retriever is then offered to the guard as a replacement of the
previous one (``select_system``'s "refresh round k" steps), judged by the first round's labels:
the judge stays fixed, so a round cannot win by agreeing with a teacher that contains itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from pseudorel.adapt.settings import AdaptSettings
from pseudorel.adapt.stage import Run
from pseudorel.adapt.students import train_retriever
from pseudorel.data.types import Document
from pseudorel.fingerprints import fingerprint, model_id
from pseudorel.labels.pipeline import label_pairs
from pseudorel.labels.store import load_labels, save_labels
from pseudorel.queries import Query
from pseudorel.retrieval.factory import dense_models
from pseudorel.system.select import select_system

logger = logging.getLogger("pseudorel")


def round_folder(output: Path, k: int) -> Path:
    return output / f"round{k}"


def tower_kept(
    corpus: dict[str, Document],
    labels: pd.DataFrame,
    held_out: list[str],
    output: Path,
    retriever: str,
    settings: AdaptSettings,
) -> tuple[bool, str]:
    """Would the guard keep ``retriever`` (a folder name inside ``output``) in place of the base
    model? The first-stage steps of the guard only (no reranker): cheap."""
    models = dense_models(settings.labels.retrievers)
    _, decisions = select_system(
        corpus,
        labels,
        held_out,
        output,
        settings.base_model,
        retriever,
        None,
        settings.guard,
        models,
        log=False,
        teacher_fusion=settings.labels.mining.fusion,
    )
    tower = next(d for d in decisions if d.part == "dense tower")
    return tower.kept, tower.reason


def refresh_rounds(
    corpus: dict[str, Document],
    queries: list[Query],
    labels: pd.DataFrame,
    held_out: list[str],
    run: Run,
    settings: AdaptSettings,
    executor=None,
) -> tuple[list[str], list[dict]]:
    """Up to ``settings.refresh_rounds`` extra rounds; returns the retrievers of every round (folder
    names inside the run's output, round 1 first) and what each round did. ``labels`` are round
    1's (all queries); each round's labels are a cached stage of ``run``; ``executor`` runs the
    relabelling's sharded work (as in round 1)."""
    output = run.output
    names, log = ["retriever"], []
    teacher = settings.labels
    for k in range(2, 2 + settings.refresh_rounds):
        kept, reason = tower_kept(corpus, labels, held_out, output, names[-1], settings)
        if not kept:
            log.append({"round": k, "ran": False, "reason": f"round {k - 1}'s retriever was not kept: {reason}"})
            break
        folder = round_folder(output, k)
        previous = str(output / names[-1])
        teacher = replace(teacher, retrievers=(*teacher.retrievers, f"dense:{previous}"))
        key = fingerprint(f"round {k}", run.stages.key("labels"), teacher, model_id(previous))
        path = folder / "labels.parquet"

        def make(teacher=teacher, folder=folder, path=path) -> pd.DataFrame:
            relabelled, _ = label_pairs(corpus, queries, teacher, folder / "work", executor=executor)
            save_labels(relabelled, path)
            return relabelled

        relabelled = run.cached_stage(f"labels round {k}", key, path, make, load_labels)
        train = relabelled[~relabelled["query_id"].isin(set(held_out))].reset_index(drop=True)
        name = f"round{k}/retriever"
        teacher_name = f"round {k}: combined teacher with {names[-1]}"
        train_retriever(train, corpus, output / name, settings, teacher_name, folder / "query_tower")
        names.append(name)
        log.append({"round": k, "ran": True, "teacher": list(teacher.retrievers), "retriever": name})
        logger.info("refresh round %d: %s trained on labels from %s", k, name, ", ".join(teacher.retrievers))
    return names, log
