"""bench/adapt.py's LLM-written queries (doc2query / InPars style): the 1.5B local LLM writes
claims for as many scifact abstracts as a time budget allows; the default query tower then
trains on them beside the cheap synthetic queries (and the train queries as text)."""

from __future__ import annotations

import random

from _adapt_base import WORK

from pseudorel.llm.factory import make_backend
from pseudorel.queries import synthetic_queries
from pseudorel.queries.llm_queries import llm_queries

LLM = "gguf:qwen2.5-coder-1.5b"


class LLMQueryExperiments:
    """Mixed into the bench with :class:`AdaptBench`."""

    def llm_query_set(self, name: str, domain: str, minutes: float):
        """LLM queries for documents in a fixed random order until ``minutes`` run out.
        Answers are cached, so a rerun replays them and continues where the budget stopped."""
        corpus_only, _ = self.dataset(name)
        order = sorted(corpus_only.corpus)
        random.Random(0).shuffle(order)
        backend = make_backend(LLM, WORK / name / "llm-queries-cache.sqlite")
        queries, stats = llm_queries(
            backend, corpus_only.corpus, order, max_words=120, max_seconds=minutes * 60, domain=domain, progress=True
        )
        stats = {**stats, "domain": domain, "budget_minutes": minutes}
        stats["documents"] = len({q.doc_id for q in queries})
        stats["examples"] = [q.text for q in queries[:5]]
        self.results.setdefault(name, {})["llm_queries"] = stats
        self.save()
        print(name, "llm queries", {k: v for k, v in stats.items() if k != "examples"}, flush=True)
        return queries

    def llm_query_runs(self, name: str, domain: str, minutes: float) -> None:
        """The default query tower on synthetic + LLM queries, and on train queries + both."""
        corpus_only, train = self.dataset(name)
        llm = self.llm_query_set(name, domain, minutes)
        synthetic = synthetic_queries(corpus_only.corpus, ("title", "ict"), seed=0)
        teacher = "calibrated rank fusion (BM25 + MiniLM)"
        for tag, queries, what in (
            ("synthetic_llm", synthetic + llm, "synthetic (every document) + LLM-written claims"),
            ("all_llm", train + synthetic + llm, "train queries without qrels + synthetic + LLM-written claims"),
        ):
            frame, label_seconds = self.labels(name, queries, tag.replace("_", "-"))
            card = {"teacher": teacher, "queries": what}
            result = self.query_tower(name, f"query_tower_{tag}", frame, card)
            result["label_seconds"] = round(label_seconds, 1)
            result["llm_queries"] = len(llm)
            self.save()
