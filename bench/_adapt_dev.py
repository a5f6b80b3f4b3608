"""bench/adapt.py's development collection: Cranfield, half its queries as unlabeled text, the
other half scored. The query tower's defaults were chosen here, never on scifact or nfcorpus."""

from __future__ import annotations

import random
import time

from _adapt_base import BASE, evaluate_dev, gold_labels
from _report import SHARED_DATA

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.queries import Query, synthetic_queries
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion
from pseudorel.training.query_tower import QueryTowerSettings

MPNET_TEACHER = LabelSettings(retrievers=("bm25", "dense", "dense:mpnet"))
DEV_CARD = {"teacher": "calibrated rank fusion (BM25 + MiniLM)", "queries": "half the queries + synthetic"}
SENTENCES = 100  # synthetic queries per document for the sentence runs: in effect every usable sentence


class DevExperiments:
    """Mixed into the bench with :class:`AdaptBench`."""

    def dev_collection(
        self,
        per_document: int = 1,
        teacher: LabelSettings | None = None,
        tag: str = "",
        kinds: tuple[str, ...] = ("title", "ict"),
    ):
        """Cranfield split in two: half the queries as unlabeled text plus synthetic queries
        (``per_document`` sentences per document), labelled by ``teacher`` (default: rank fusion
        of BM25 and MiniLM); the other half to score."""
        corpus_only, _ = self.dataset("cranfield")
        test = load_beir(SHARED_DATA / "cranfield", splits=["test"])
        qids = sorted(test.split_queries("test"))
        random.Random(0).shuffle(qids)
        train, held = qids[: len(qids) // 2], qids[len(qids) // 2 :]
        queries = [Query(q, test.queries[q]) for q in train] + synthetic_queries(
            corpus_only.corpus, kinds, seed=0, per_document=per_document
        )
        tag = ("dev" if per_document == 1 else f"dev-sentences{per_document}") + tag
        if kinds != ("title", "ict"):
            tag += "-" + "-".join(kinds)
        frame, _ = self.labels("cranfield", queries, tag, teacher)
        return frame, (test, held)

    def cranfield_dev(self) -> None:
        """The development collection the query tower's defaults were chosen on: half of Cranfield's
        queries as unlabeled text, the other half (with their qrels) to score; scifact and nfcorpus
        test qrels played no part in choosing them."""
        frame, dev = self.dev_collection()
        zero = evaluate_dev(dev, BASE)
        self.results.setdefault("cranfield", {})["dev_zero_shot_dense"] = zero
        card = DEV_CARD
        for key, settings in (
            # the first three in fp32, as measured before bf16 autocast became the default
            ("dev_query_tower", QueryTowerSettings(bf16=False)),
            ("dev_query_tower_top", QueryTowerSettings(target="top", bf16=False)),
            ("dev_query_tower_1epoch", QueryTowerSettings(epochs=1, bf16=False)),
            ("dev_query_tower_bf16", QueryTowerSettings(bf16=True)),
            # the query tower falls far short of free query vectors on the same frozen index
            # (bench/index_ceiling.py): faster or longer fitting
            ("dev_query_tower_lr1e-4", QueryTowerSettings(learning_rate=1e-4)),
            ("dev_query_tower_lr2e-4", QueryTowerSettings(learning_rate=2e-4)),
            ("dev_query_tower_8epochs", QueryTowerSettings(epochs=8)),
            # real (unlabeled) queries oversampled to a share of each epoch
            ("dev_query_tower_real25", QueryTowerSettings(real_query_share=0.25)),
            ("dev_query_tower_real50", QueryTowerSettings(real_query_share=0.5)),
        ):
            self.query_tower("cranfield", key, frame, card, settings, test=dev)
        self.two_tower("cranfield", "dev_two_tower", "dev_query_tower_bf16", frame, card, test=dev)

    def cranfield_dev_sentences(self) -> None:
        """The query tower overfits its ~10k training queries (train-query likelihood gains 3-4x
        what held-out queries gain): every usable sentence of every document as a query instead
        of one, with fewer passes over the larger set."""
        card = DEV_CARD
        for key, per_document, settings in (
            # the baseline again: the sentence splitter now reads lower-cased text (one sentence each)
            ("dev_sentences1_query_tower", 1, QueryTowerSettings()),
            ("dev_sentences_query_tower", SENTENCES, QueryTowerSettings()),
            ("dev_sentences_query_tower_2epochs", SENTENCES, QueryTowerSettings(epochs=2)),
            ("dev_sentences_query_tower_1epoch", SENTENCES, QueryTowerSettings(epochs=1)),
        ):
            frame, dev = self.dev_collection(per_document)
            result = self.query_tower("cranfield", key, frame, card, settings, test=dev)
            result["queries"] = int(frame["query_id"].nunique())
            self.save()

    def cranfield_dev_word_dropout(self) -> None:
        """Epochs after the first see the queries with words dropped (a regulariser for the
        query tower's generalisation gap); on the dev labels of the sentence runs' baseline."""
        frame, dev = self.dev_collection()
        card = DEV_CARD
        for rate in (0.1, 0.25):
            settings = QueryTowerSettings(word_dropout=rate)
            self.query_tower("cranfield", f"dev_query_tower_word_dropout{rate:g}", frame, card, settings, test=dev)

    def cranfield_dev_mpnet_teacher(self) -> None:
        """A stronger label-free teacher for the same student: rank fusion of BM25, MiniLM and
        all-mpnet-base-v2; the teachers' own quality on the dev half beside the students'."""
        frame, dev = self.dev_collection(teacher=MPNET_TEACHER, tag="-mpnet")
        test, held = dev
        queries = {q: test.queries[q] for q in held}
        qrels = {q: test.qrels["test"][q] for q in held if q in test.qrels["test"]}
        runs = {
            "bm25": BM25Retriever(test.corpus).search(queries, 100),
            "dense": DenseRetriever(test.corpus, model=BASE, progress=False).search(queries, 100),
            "mpnet": DenseRetriever(test.corpus, model="mpnet", progress=False).search(queries, 100),
        }
        block = self.results.setdefault("cranfield", {})
        for key, run in (
            ("dev_zero_shot_mpnet", runs["mpnet"]),
            ("dev_teacher_rank_fusion", reciprocal_rank_fusion([runs["bm25"], runs["dense"]])),
            ("dev_teacher_rank_fusion_mpnet", reciprocal_rank_fusion(list(runs.values()))),
        ):
            block[key] = {"metrics": evaluate_run(qrels, run).aggregate, "eval_queries": len(qrels)}
        self.save()
        card = {"teacher": "calibrated rank fusion (BM25 + MiniLM + mpnet)", "queries": "half the queries + synthetic"}
        self.query_tower("cranfield", "dev_query_tower_mpnet_teacher", frame, card, QueryTowerSettings(), test=dev)

    def cranfield_dev_scale(self) -> None:
        """The student's softmax temperature over the corpus (1 / ``scale``)."""
        frame, dev = self.dev_collection()
        card = DEV_CARD
        for scale in (10.0, 40.0):
            settings = QueryTowerSettings(scale=scale)
            self.query_tower("cranfield", f"dev_query_tower_scale{scale:g}", frame, card, settings, test=dev)

    def cranfield_dev_linear_adapter(self, epochs: int = 30, learning_rate: float = 1e-3) -> None:
        """The lowest-capacity query tower: the base query encoder frozen, one linear map
        (identity at the start) trained on its embeddings with the query tower's loss; the
        epoch with the best held-out pseudo-label likelihood kept. If the tower's gap between
        training and held-out queries came from its capacity, this would close it."""
        import copy

        import torch
        from _frozen import base_index, run_of
        from _frozen import likelihood as per_query_likelihood

        from pseudorel.training.losses.corpus_distillation import teacher_targets
        from pseudorel.training.query_tower import split_queries

        torch.manual_seed(0)
        frame, (test, held) = self.dev_collection()
        base, doc_ids, documents = base_index(self.dataset("cranfield")[0].corpus)
        settings = QueryTowerSettings()
        _, train, held_out = split_queries(frame, doc_ids, settings)

        def encode(texts: list[str]) -> torch.Tensor:
            return torch.from_numpy(base.encode(texts, batch_size=128))

        def likelihood(queries: torch.Tensor, docs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
            return per_query_likelihood(queries, documents, docs, weights, settings.scale).mean()

        start = time.perf_counter()
        train_q, held_q = encode(train.texts), encode(held_out.texts)
        (train_docs, train_w), (held_docs, held_w) = teacher_targets(train.rows), teacher_targets(held_out.rows)
        adapter = torch.nn.Linear(train_q.shape[1], train_q.shape[1])
        torch.nn.init.eye_(adapter.weight)
        torch.nn.init.zeros_(adapter.bias)
        optimizer = torch.optim.AdamW(adapter.parameters(), lr=learning_rate, weight_decay=0.0)
        state = copy.deepcopy(adapter.state_dict())
        best = {"held_out": float(likelihood(held_q, held_docs, held_w)), "epoch": 0, "state": state}
        at_start = best["held_out"]
        for epoch in range(1, epochs + 1):
            for batch in torch.randperm(len(train_q)).split(settings.batch_size):
                loss = -likelihood(adapter(train_q[batch]), train_docs[batch], train_w[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                score = float(likelihood(adapter(held_q), held_docs, held_w))
            if score > best["held_out"]:
                best = {"held_out": score, "epoch": epoch, "state": copy.deepcopy(adapter.state_dict())}
        adapter.load_state_dict(best["state"])
        queries = {q: test.queries[q] for q in held}
        qrels = {q: test.qrels["test"][q] for q in held if q in test.qrels["test"]}
        with torch.no_grad():
            run = run_of(adapter(encode(list(queries.values()))), documents, list(queries), doc_ids)
            train_fit = float(likelihood(adapter(train_q), train_docs, train_w))
        self.results.setdefault("cranfield", {})["dev_linear_adapter"] = {
            "retriever": "frozen base query encoder + a trained linear map (frozen document index)",
            "metrics": evaluate_run(qrels, run).aggregate,
            "eval_queries": len(qrels),
            "held_out_pseudo_log_likelihood": [round(at_start, 4), round(best["held_out"], 4)],
            "training_pseudo_log_likelihood": round(train_fit, 4),
            "best_epoch": f"{best['epoch']}/{epochs}",
            "train_seconds": round(time.perf_counter() - start, 1),
        }
        self.save()

    def cranfield_dev_titles(self) -> None:
        """Titles as the only synthetic queries. Before the sentence splitter read lower-cased
        text, Cranfield's synthetic queries were nearly all titles and the default scored 0.4268;
        with a sentence per document as well it scores 0.4191. (Titles alone now: 0.4086, so the
        old figure owed more to the old labels' calibration than to the titles.)"""
        frame, dev = self.dev_collection(kinds=("title",))
        card = {"teacher": "calibrated rank fusion (BM25 + MiniLM)", "queries": "half the queries + titles"}
        result = self.query_tower("cranfield", "dev_query_tower_titles", frame, card, QueryTowerSettings(), test=dev)
        result["queries"] = int(frame["query_id"].nunique())
        self.save()

    def cranfield_dev_label_source(self) -> None:
        """Where the query tower's labels come from: the teacher's on the real (half) queries
        alone, no synthetic ones; and, SUPERVISED, the human qrels of that half, alone and beside
        the pseudo-labelled synthetic queries (on scifact the tower reaches 0.7156 from train
        qrels alone, against ~0.65 from the teacher's labels)."""
        import pandas as pd

        frame, dev = self.dev_collection()
        test, _ = dev
        real = frame[frame["query_source"] == "log"]
        train = [Query(q, test.queries[q]) for q in real["query_id"].unique()]
        gold = gold_labels(train, test.qrels["test"])  # SUPERVISED: the train half's qrels, never the scored half's
        synthetic = frame[frame["query_source"] != "log"][gold.columns]
        supervised = {"teacher": "SUPERVISED: human qrels of the train half"}
        for key, labels, card in (
            ("dev_query_tower_real_only", real, {**DEV_CARD, "queries": "half the queries, no synthetic"}),
            ("dev_supervised_gold", gold, {**supervised, "queries": "half the queries"}),
            (
                "dev_supervised_gold_synthetic",
                pd.concat([gold, synthetic]),
                {**supervised, "queries": "half + synthetic"},
            ),
        ):
            result = self.query_tower("cranfield", key, labels, card, QueryTowerSettings(), test=dev)
            result["queries"] = int(labels["query_id"].nunique())
            self.save()
