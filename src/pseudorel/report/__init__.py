"""``pseudorel report``: what an ``adapt`` run did, at a glance, in one self-contained HTML file.

Everything but the evaluation section is label-free: the run's settings and stage times, the
teachers' score histograms, agreement and calibration on synthetic queries' source documents,
the students' held-out pseudo-label curves, the no-harm guard's decisions, and warnings where
those signals say a part is doubtful. The evaluation section appears only when ``adapt`` was
given qrels (``--evaluate-split``), and reads them for the report only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.readers import read_corpus
from pseudorel.errors import InputError
from pseudorel.labels.store import load_labels
from pseudorel.report import checks, figures
from pseudorel.report.evaluation import evaluation_section, headline, load_evaluation
from pseudorel.report.html import Markup, esc, figure, page, section, table
from pseudorel.report.run_report import FILE, RunReport, SystemChoice
from pseudorel.teachers.registry import COMBINED, LLM_JUDGE, SOURCE, prob_column, teacher_of
from pseudorel.teachers.registry import teacher_columns as prob_columns

STUDENTS = {
    "retriever": "adapted dense retriever",
    "student": "student (imitates the expensive teacher)",
    "reranker": "reranker",
}


def build_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write ``output`` (default ``RUN_DIR/report.html``) atomically; returns its path."""
    run_dir = Path(run_dir)
    report = RunReport.load(run_dir)
    report_path = run_dir / FILE
    output = Path(output) if output else run_dir / "report.html"
    try:
        html = render(run_dir, report)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as e:
        # a report.json of the wrong shape (edited, or from another tool): named, not a traceback
        raise InputError(
            report_path, f"not the report adapt writes ({type(e).__name__}: {e}); rerun adapt to write it again"
        ) from None
    with atomic_write(output) as f:
        f.write(html)
    return output


def render(run_dir: Path, report: RunReport) -> str:
    labels = _labels(run_dir)
    cards = {name: _card(run_dir / folder) for folder, name in STUDENTS.items()}
    cards = {name: card for name, card in cards.items() if card}
    decisions = report.system.decisions if report.system else []
    teacher_columns = [] if labels is None else prob_columns(labels)
    warnings = checks.student_warnings(cards) + checks.guard_warnings(decisions)
    if labels is not None:
        warnings += checks.teacher_warnings(labels, [c for c in teacher_columns if c != SOURCE.column])

    saved = load_evaluation(run_dir / "evaluation")
    scores = headline(saved) if saved else None
    sections = [
        section("Summary", _summary(report, warnings, scores), "summary"),
        section("Run", _run(run_dir, report, cards), "run"),
        section("Labels", _labels_section(report, labels, teacher_columns), "labels"),
        section("Training", _training(cards), "training"),
        section("No-harm guard", _guard(report, decisions), "guard"),
    ]
    corpus = _corpus(run_dir) if saved else None
    if saved and corpus:
        body = evaluation_section(saved, corpus)
        sections.append(section("Evaluation (qrels, read for this report only)", body, "evaluation"))
    return page("pseudorel adapt report", sections, subtitle=str(run_dir))


def _summary(report: RunReport, warnings: list[str], scores: tuple[float, float] | None) -> str:
    system = report.system or SystemChoice()
    body = f"<p>Shipped system: <b>{esc(system.shipped)}</b>.</p>"
    if scores:
        shipped, baseline = scores
        body += (
            f"<p>On the test qrels (read for this report only): nDCG@10 <b>{shipped:.4f}</b> against "
            f"{baseline:.4f} for the zero-shot hybrid ({shipped - baseline:+.4f}).</p>"
        )
    body += f"<p>Dropped by the no-harm guard: {esc(', '.join(system.dropped) or 'nothing')}.</p>"
    if report.reranker_skipped:
        body += f"<p>Reranker not trained: {esc(report.reranker_skipped)}.</p>"
    if report.late_skipped:
        body += f"<p>Teacher not offered at search time: {esc(report.late_skipped)}.</p>"
    if report.late_lowered:
        body += f"<p>Teacher at search time over fewer documents: {esc(report.late_lowered)}.</p>"
    if warnings:
        body += "".join(f'<div class="warning">⚠ {esc(w)}</div>' for w in warnings)
    else:
        body += '<div class="ok">No label-free signal says a part is doubtful.</div>'
    return body


def _run(run_dir: Path, report: RunReport, cards: dict) -> str:
    body = ""
    if report.command:
        body += f"<p>Command: <code>{esc(report.command)}</code></p>"
    teacher = report.teacher
    if teacher:
        mode = teacher.get("mode", "full")
        body += f"<p>Teacher: {esc(', '.join(teacher['retrievers']))}, {esc(mode)} mode ({esc(teacher['reason'])}).</p>"
    passed = report.teacher_pass
    if passed:
        body += (
            f"<p>The sampled teacher read {passed['pairs']} pairs of {passed['queries']} queries: "
            f"{passed['documents_read']} documents.</p>"
        )
    if report.student:
        s = report.student
        body += (
            f"<p>Student: distilled from {esc(s['teacher'])} on {s['queries']} queries and {s['documents']} "
            f"documents; it encodes {s['docs_per_second']} documents/s here.</p>"
        )
    sizes = [[k, v] for k, v in report.queries.items()] + [["held-out queries (guard)", report.held_out_queries]]
    stats = report.label_stats or {}
    if "pairs" in stats:
        sizes.append(["labelled pairs", stats["pairs"]])
    body += "<h3>Data</h3>" + table(["what", "count"], sizes)
    body += "<h3>Stage times</h3>" + table(["stage", "seconds"], [[k, v] for k, v in report.seconds.items()])
    if report.reused:
        reused = ", ".join(report.reused)
        body += f"<p>Reused from an earlier run with the same inputs (their times: loading): {esc(reused)}.</p>"
    passes = report.corpus_passes or {}
    if passes:
        rows = [
            [model, p["documents"], p.get("backend"), p["estimate_s"], p.get("encoded"), p.get("actual_s")]
            for model, p in passes.items()
        ]
        header = ["model", "documents", "backend", "estimate s", "encoded now", "actual s"]
        body += "<h3>Corpus passes: the plan and as they ran</h3>" + table(header, rows)
        reasons = [f"{model}: {p['backend_reason']}" for model, p in passes.items() if p.get("backend_reason")]
        body += "".join(f"<p>Backend {esc(r)}</p>" for r in reasons)
    models = [
        [name, Markup(f"<code>{esc(run_dir / folder)}</code>")]
        for folder, name in STUDENTS.items()
        if (run_dir / folder).is_dir()
    ]
    if (run_dir / "system.json").is_file():
        models.append(["system (pseudorel search --system)", Markup(f"<code>{esc(run_dir)}</code>")])
    body += "<h3>Models</h3>" + table(["part", "where"], models)
    body += (
        "<details><summary>All settings</summary><pre>"
        + esc(json.dumps(report.settings, indent=1))
        + "</pre></details>"
    )
    return body


def _labels_section(report: RunReport, labels, columns: list[str]) -> str:

    if labels is None:
        return "<p>No label table (labels.parquet) in this folder.</p>"
    by_source = labels.drop_duplicates("query_id")["query_source"].value_counts()
    body = table(["query source", "queries"], [[k, int(v)] for k, v in by_source.items()])
    names = ", ".join(teacher_of(c) for c in columns)
    body += f"<p>{len(labels)} (query, document) pairs; teachers: {esc(names)}.</p>"
    if columns:
        body += figure(figures.teacher_histograms(labels, columns), "Each teacher's probabilities (log scale)")
        agreement = checks.teacher_agreement(labels, [c for c in columns if c != SOURCE.column])
        if agreement:
            body += "<h3>Teacher agreement</h3>" + table(
                ["teacher", "teacher", "rank correlation"], [[a, b, rho] for (a, b), rho in agreement.items()]
            )
        body += figure(
            figures.calibration_curves(labels, [c for c in columns if c != SOURCE.column]),
            "Calibration on synthetic queries: their source document is the only label-free positive",
        )
    llm = (report.label_stats or {}).get("llm")
    if llm:
        body += "<h3>LLM budget</h3>" + table(["what", "value"], [[k, v] for k, v in llm.items()])
        combined = prob_column(COMBINED)
        if LLM_JUDGE.column in labels and combined in labels:
            judged = labels[labels[LLM_JUDGE.column].notna()]
            mean = judged[combined].mean()
            body += (
                f"<p>Judged pairs' mean cheap-teacher probability: {mean:.3f} "
                "(pairs near 0.5 are the uncertain ones the budget targets).</p>"
            )
    ql = (report.label_stats or {}).get("query_likelihood")
    if ql:
        body += "<h3>Query-likelihood budget</h3>" + table(["what", "value"], [[k, v] for k, v in ql.items()])
    return body


def _training(cards: dict) -> str:

    if not cards:
        return "<p>No student was trained.</p>"
    rows = []
    for name, card in cards.items():
        rows.append(
            [
                name,
                card.get("teacher", ""),
                card.get("steps_done", ""),
                card.get("train_seconds", ""),
                _or_na(card.get("held_out_metric_at_start")),
                _or_na(card.get("best_held_out_metric")),
            ]
        )
    body = table(["student", "teacher", "steps", "seconds", "held-out metric untrained", "best trained"], rows)
    curves = {name: card for name, card in cards.items() if card.get("held_out_curve")}
    if curves:
        body += figure(figures.training_curves(curves), "Held-out pseudo-label metric during training")
    else:
        body += '<p class="muted">No per-step held-out curve was recorded for these students.</p>'
    return body


def _guard(report: RunReport, decisions: list[dict]) -> str:
    if not decisions:
        return "<p>The guard made no decisions (no system stage in this run).</p>"
    rows = [
        [
            d["part"],
            d["candidate"],
            d.get("baseline", ""),
            Markup('<span class="kept">kept</span>' if d["kept"] else '<span class="dropped">dropped</span>'),
            d["reason"],
        ]
        for d in decisions
    ]
    intro = (
        "<p>Each learned part is kept only if held-out pseudo-labels (queries no student trained on) "
        "say it beats what it replaces.</p>"
    )
    body = intro + table(["part", "candidate", "against", "decision", "why"], rows)
    rounds = report.refresh or []
    if rounds:
        body += "<h3>Refresh rounds</h3>" + table(
            ["round", "ran", "what"],
            [[r["round"], "yes" if r["ran"] else "no", r.get("reason") or ", ".join(r["teacher"])] for r in rounds],
        )
    return body


def _or_na(value):
    return "n/a" if value is None else value


def _labels(run_dir: Path):
    path = run_dir / "labels.parquet"
    if not path.is_file():
        return None

    return load_labels(path)


def _json(path: Path):
    """A JSON file pseudorel wrote, or an :class:`InputError` naming it and what is wrong."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text (damaged?)") from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"not JSON ({e.msg})", e.lineno) from None


def _card(folder: Path) -> dict | None:
    path = folder / "pseudorel.json"
    if not path.is_file():
        return None
    card = _json(path)
    if not isinstance(card, dict):
        raise InputError(path, "not a student card (a JSON object)")
    return card


def _corpus(run_dir: Path):
    path = run_dir / "corpus.jsonl"
    if not path.is_file():
        return None

    return read_corpus(path)


def command_line() -> str:
    """The command that is running, as a user typed it (for the report)."""
    return " ".join(["pseudorel", *sys.argv[1:]])
