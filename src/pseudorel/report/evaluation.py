"""The report's evaluation section, from the runs ``adapt --evaluate-split`` saved (qrels are
read here for the report only, never for training or selection)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pseudorel.data.readers import read_qrels, read_queries
from pseudorel.data.trec import read_run
from pseudorel.data.types import Document
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.report import figures
from pseudorel.report.html import Markup, esc, figure, table

BASELINE = "hybrid_zero_shot"
NAMES = {
    "bm25": "BM25 (zero-shot)",
    "zero_shot": "dense (zero-shot)",
    BASELINE: "hybrid BM25 + dense (zero-shot; the free baseline)",
    "retriever": "adapted dense",
    "hybrid_retriever": "hybrid BM25 + adapted dense",
    "bm25+reranker": "BM25 >> adapted reranker",
    "system": "the shipped system",
}


@dataclass
class SavedEvaluation:
    qrels: dict
    queries: dict[str, str]
    runs: dict[str, dict]
    evaluations: dict  # run name -> Evaluation

    def ndcg(self, name: str) -> float:
        return self.evaluations[name].aggregate["nDCG@10"]


def load_evaluation(folder: Path) -> SavedEvaluation | None:
    """The runs, qrels and queries ``adapt`` saved in ``folder``, evaluated once; None without
    them (a run without qrels) or without the baseline's run."""

    if not (folder / "qrels.tsv").is_file():
        return None
    qrels = read_qrels(folder / "qrels.tsv")
    runs = {path.stem: read_run(path) for path in sorted(folder.glob("*.trec"))}
    if BASELINE not in runs:
        return None
    evaluations = {name: evaluate_run(qrels, run) for name, run in runs.items()}
    return SavedEvaluation(qrels, read_queries(folder / "queries.jsonl"), runs, evaluations)


def evaluation_section(saved: SavedEvaluation, corpus: dict[str, Document], top: int = 10) -> str:
    """Metrics of every system with paired p-values against the baseline, per-query wins and
    losses of the shipped system, and the queries that gained and lost most."""

    qrels, queries, runs, evaluations = saved.qrels, saved.queries, saved.runs, saved.evaluations
    base = evaluations[BASELINE].column("nDCG@10")
    base_ndcg = saved.ndcg(BASELINE)
    rows = []
    for name, ev in sorted(evaluations.items(), key=lambda kv: list(NAMES).index(kv[0]) if kv[0] in NAMES else 99):
        p = paired_test(base, ev.column("nDCG@10"), "nDCG@10").p_value if name != BASELINE else float("nan")
        m = ev.aggregate
        rows.append([NAMES.get(name, name), m["nDCG@10"], m["nDCG@10"] - base_ndcg, m["R@100"], p])
    body = '<p class="muted">Test qrels, read for this report only.</p>'
    body += table(["system", "nDCG@10", "vs baseline", "R@100", "paired p vs baseline"], rows)
    if "system" in evaluations:
        shipped = evaluations["system"].column("nDCG@10")
        deltas = {q: shipped[q] - base[q] for q in base if q in shipped}
        body += figure(figures.wins_losses(deltas, "shipped system", "zero-shot hybrid"), "Per-query nDCG@10 change")
        ranked = sorted(deltas, key=deltas.get)
        for title, chosen in (
            ("Queries that gained most", ranked[::-1][:top]),
            ("Queries that lost most", ranked[:top]),
        ):
            chosen = [q for q in chosen if deltas[q] != 0]
            body += f"<h3>{esc(title)}</h3>"
            if not chosen:
                body += "<p>None.</p>"
                continue
            body += table(
                ["query", "Δ nDCG@10", "shipped system's top 3", "baseline's top 3"],
                [
                    [
                        queries.get(q, q),
                        deltas[q],
                        _top(runs["system"], q, qrels, corpus),
                        _top(runs[BASELINE], q, qrels, corpus),
                    ]
                    for q in chosen
                ],
            )
    return body


def _top(run: dict, qid: str, qrels: dict, corpus: dict[str, Document], k: int = 3) -> Markup:
    docs = sorted(run.get(qid, {}).items(), key=lambda kv: -kv[1])[:k]
    items = []
    for doc_id, _ in docs:
        grade = qrels.get(qid, {}).get(doc_id, 0)
        title = corpus[doc_id].title or corpus[doc_id].text[:80] if doc_id in corpus else ""
        mark = "✔ " if grade > 0 else ""
        items.append(f"<li>{mark}{esc(doc_id)}: {esc(title[:90])}</li>")
    return Markup(f"<ol>{''.join(items)}</ol>")


def headline(saved: SavedEvaluation) -> tuple[float, float] | None:
    """Test nDCG@10 of the shipped system and of the zero-shot hybrid, if the system was run."""
    return (saved.ndcg("system"), saved.ndcg(BASELINE)) if "system" in saved.evaluations else None
