"""Second stage of the two-tower retriever: train the document tower against the queries.

After the query tower has learnt the teacher's distribution over the (frozen) corpus, the
roles swap: the training queries are embedded once by the trained query tower and frozen,
and the document tower learns, for each document, which queries the teacher sends to it
(the same joint teacher mass over (query, document) pairs, conditioned the other way),
with every training query as a negative. A step encodes a batch of documents only.

The stage is kept only if it helps where it counts, retrieval: the query stage's held-out
queries (never trained on here) must rank the re-embedded corpus closer to the teacher
than the base document tower did. Otherwise the query-tower model is saved unchanged.
Either way the result is an asymmetric sentence-transformers model (``Router``).
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from pseudorel.data.types import Document
from pseudorel.retrieval.encoding import encode_texts
from pseudorel.retrieval.models import model_fingerprint, resolve_model
from pseudorel.training._run import finished_bi_encoder, save_with_card
from pseudorel.training.frozen_index import IndexTargets, fit_against_index, split_held_out, use_bf16
from pseudorel.training.query_tower import QueryTowerSettings, asymmetric_model, split_queries


@dataclass
class DocumentTowerSettings:
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    scale: float = 20.0  # 1 / temperature of the student's softmax over the training queries
    max_length: int | None = None  # tokens per document; None: the base model's
    # documents on which the teacher puts less total mass (summed over queries) are not trained on
    min_mass: float = 0.5
    eval_fraction: float = 0.1  # held-out documents select the best checkpoint
    eval_steps: int | None = None
    time_limit_s: float | None = None
    bf16: bool | None = None  # None: where the CPU has native bf16
    seed: int = 0


def document_targets(
    queries: IndexTargets, doc_ids: list[str], corpus: dict[str, Document], min_mass: float
) -> IndexTargets:
    """Transpose query rows: each document lists the queries (rows of ``queries``) that put mass on it."""
    per_doc: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for q, (docs, weights) in enumerate(queries.rows):
        for d, w in zip(docs, weights, strict=True):
            if w > 0:
                per_doc[d][0].append(q)
                per_doc[d][1].append(w)
    out = IndexTargets([], [], [])
    for d in sorted(per_doc):
        rows, weights = per_doc[d]
        if sum(weights) < min_mass:
            out.skipped += 1
            continue
        out.ids.append(doc_ids[d])
        out.texts.append(corpus[doc_ids[d]].full_text)
        out.rows.append((rows, weights))
    return out


def _towers(model_path: str | Path):
    """The query and document towers of a saved asymmetric model, as plain models."""
    from sentence_transformers import SentenceTransformer

    router = SentenceTransformer(str(model_path), device="cpu")[0]
    return tuple(
        SentenceTransformer(modules=list(router.sub_modules[route]), device="cpu") for route in ("query", "document")
    )


def train_document_tower(
    query_tower_model: str | Path,
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    output: str | Path,
    query_settings: QueryTowerSettings | None = None,
    settings: DocumentTowerSettings | None = None,
    card: dict | None = None,
):
    """Train the document tower of ``query_tower_model`` (saved by ``train_query_tower`` with
    ``query_settings``) on ``labels``; returns the saved asymmetric model."""
    import torch

    from pseudorel.training.evaluators import PseudoLabelRankingEvaluator  # start-up: loads sentence_transformers

    query_settings = query_settings or QueryTowerSettings()
    settings = settings or DocumentTowerSettings()
    bf16 = use_bf16(settings.bf16)
    output = Path(output)
    if (finished := finished_bi_encoder(output)) is not None:
        return finished
    doc_ids = list(corpus)
    # the query stage's held-out queries stay out of this stage: they judge whether it helped
    _, train_queries, judge = split_queries(labels, doc_ids, query_settings)
    first_stage = Path(query_tower_model) / "pseudorel.json"
    first_card = json.loads(first_stage.read_text()) if first_stage.is_file() else {}
    query_model, base_documents = _towers(query_tower_model)
    document_model = copy.deepcopy(base_documents)  # trained; base_documents stays as saved
    if settings.max_length:
        document_model.max_seq_length = settings.max_length
    normalize = (getattr(document_model, "similarity_fn_name", None) or "cosine") == "cosine"

    def encode(model, texts: list[str], model_id: str = ""):
        return torch.from_numpy(encode_texts(model, texts, model_id, use_cache=bool(model_id), desc="encode"))

    index = encode(query_model, train_queries.texts)
    targets = document_targets(train_queries, doc_ids, corpus, settings.min_mass)
    train, held_out = split_held_out(targets, settings.eval_fraction, settings.seed)
    run = fit_against_index(document_model, train, held_out, index, output, settings, normalize, bf16)

    judged = {}
    if judge is not None and not run["kept_untrained"]:
        texts = [corpus[d].full_text for d in doc_ids]
        # the base tower's corpus embeddings are the ones the query stage cached
        base_id = model_fingerprint(resolve_model(first_card["base_model"])) if "base_model" in first_card else ""
        for name, model, model_id in (("base", base_documents, base_id), ("trained", document_model, "")):
            documents = encode(model, texts, model_id)
            documents = torch.nn.functional.normalize(documents, dim=-1) if normalize else documents
            evaluator = PseudoLabelRankingEvaluator(
                judge.texts, judge.rows, documents, normalize=normalize, scale=query_settings.scale
            )
            judged[name] = evaluator(query_model)[evaluator.primary_metric]
    keep = not run.pop("kept_untrained") and (not judged or judged["trained"] > judged["base"])
    record = {
        "architecture": "query tower, then document tower, each trained against the other frozen",
        "query_tower": first_card or str(query_tower_model),
        "document_training": {**asdict(settings), "bf16": bf16},
        "training_documents": len(train.ids),
        "held_out_documents": 0 if held_out is None else len(held_out.ids),
        "documents_without_signal": targets.skipped,
        "query_index": len(train_queries.ids),
        # retrieval-direction pseudo-label likelihood of the query stage's held-out queries
        "held_out_query_likelihood": judged,
        "kept_trained_document_tower": keep,
        **{f"document_{k}": v for k, v in run.items()},
        **(card or {}),
    }
    model = asymmetric_model(query_model, document_model if keep else base_documents)
    save_with_card(model, output, record)
    return model
