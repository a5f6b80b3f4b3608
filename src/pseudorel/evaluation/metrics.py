"""Retrieval metrics with ir-measures (pytrec_eval underneath).

Every query in the qrels is scored, as trec_eval and BEIR do; a query the run left out
(or retrieved nothing for) scores 0, so a system cannot gain by skipping queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from pseudorel.data.types import Qrels, Run

#: nDCG@10 is BEIR's headline; RR@10 is MRR@10 and AP@100 is MAP@100 in ir-measures' names.
DEFAULT_MEASURES = ("nDCG@10", "R@10", "R@100", "RR@10", "AP@100")


@dataclass
class Evaluation:
    aggregate: dict[str, float]
    per_query: dict[str, dict[str, float]]

    def column(self, measure: str) -> dict[str, float]:
        return {qid: scores[measure] for qid, scores in self.per_query.items()}


def evaluate_run(qrels: Qrels, run: Run, measures: tuple[str, ...] = DEFAULT_MEASURES) -> Evaluation:
    """Per-query and mean scores of ``run`` against ``qrels``."""
    import ir_measures

    parsed = [ir_measures.parse_measure(m) for m in measures]
    names = {m: str(m) for m in parsed}
    per_query = {qid: dict.fromkeys(names.values(), 0.0) for qid in qrels}
    run_judged = {qid: docs for qid, docs in run.items() if qid in per_query and docs}
    if run_judged:
        for metric in ir_measures.iter_calc(parsed, qrels, run_judged):
            per_query[metric.query_id][names[metric.measure]] = float(metric.value)
    n = max(len(per_query), 1)
    aggregate = {name: sum(s[name] for s in per_query.values()) / n for name in names.values()}
    return Evaluation(aggregate=aggregate, per_query=per_query)
