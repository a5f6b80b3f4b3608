"""pseudorel ingest: extraction and chunking speed on a generated mixed folder, the rerun after a
few files changed, and SciFact end to end from PDFs.

    PSEUDOREL_DATA_DIR=../shared/data .venv/bin/python bench/ingest.py [--budget 300] [--skip-e2e]

1. A mixed folder (PDF, DOCX, HTML, Markdown, text; 240+ files, 20+ MB) made from NFCorpus and
   SciFact abstracts, plus unreadable files (encrypted, truncated, empty): ingest's files/s and
   MB/s (median of 3 cold runs), then the rerun after 5% of the files changed.
2. SciFact written out as one PDF per abstract, with HTML and Markdown copies of 200 of them
   (exact duplicates, which ingest drops): ingested, then ``adapt`` (BM25 + MiniLM teacher, the
   same ``--time-budget`` for both) on the passages and on the original corpus.jsonl; test
   nDCG@10 of each system, passages mapped back to the abstract they came from through their
   metadata (a document's score: its best passage's). Qrels are read only for that.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

from pseudorel.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache" / "ingest"
MENU = "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(60))


def write_pdf(path: Path, pages: list[tuple[str, str]]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(_latin(pages[0][0]))
    pdf.set_font("helvetica", size=10)
    for number, (title, text) in enumerate(pages, start=1):
        pdf.add_page()
        pdf.cell(0, 6, "pseudorel bench - generated", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 5, _latin(title))
        pdf.ln(2)
        pdf.multi_cell(0, 5, _latin(text))
        pdf.set_y(-15)
        pdf.cell(0, 6, f"Page {number}")
    pdf.output(str(path))


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def write_docx(path: Path, docs: list[tuple[str, str]]) -> None:
    import docx

    document = docx.Document()
    for title, text in docs:
        document.add_heading(title[:200] or "Untitled", level=1)
        document.add_paragraph(text)
    document.save(str(path))


def write_html(path: Path, docs: list[tuple[str, str]]) -> None:
    body = "".join(f"<h2>{t}</h2><p>{x}</p>" for t, x in docs)
    script = "<script>" + "var tracking = 'x';" * 400 + "</script>"
    path.write_text(
        f"<html><head><title>{docs[0][0]}</title>{script}</head><body><nav><ul>{MENU}</ul></nav>"
        f"<main>{body}</main><footer>{MENU}</footer></body></html>"
    )


def write_markdown(path: Path, docs: list[tuple[str, str]]) -> None:
    path.write_text("".join(f"# {t}\n\n{x}\n\n" for t, x in docs))


def mixed_folder(folder: Path, target_mb: float = 20.0) -> dict:
    """240+ files of five kinds, 20+ MB, from NFCorpus and SciFact abstracts, plus 3 unreadable ones."""
    texts = []
    for name in ("nfcorpus", "scifact"):
        corpus = load_collection(name).corpus
        texts += [(d.title, d.text) for d in corpus.values() if d.text.strip()]
    random.Random(0).shuffle(texts)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    writers = [("pdf", write_pdf, 12), ("docx", write_docx, 8), ("html", write_html, 6), ("md", write_markdown, 10)]
    writers.append(("txt", lambda p, d: p.write_text("\n\n".join(f"{t}\n\n{x}" for t, x in d)), 10))
    n, position = 0, 0
    while n < 240 or sum(p.stat().st_size for p in folder.rglob("*")) < target_mb * 1e6:
        kind, write, per_file = writers[n % len(writers)]
        docs = [texts[(position + i) % len(texts)] for i in range(per_file)]
        position += per_file
        sub = folder / f"part{n % 7}"
        sub.mkdir(exist_ok=True)
        write(sub / f"file{n:04d}.{kind}", docs)
        n += 1
    from pypdf import PdfReader, PdfWriter

    first_pdf = next(folder.rglob("*.pdf"))
    writer = PdfWriter(clone_from=PdfReader(str(first_pdf)))
    writer.encrypt("secret")
    writer.write(str(folder / "locked.pdf"))
    (folder / "cut.pdf").write_bytes(first_pdf.read_bytes()[:500])
    (folder / "empty.docx").write_bytes(b"")
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {"files": len(files), "mb": round(sum(p.stat().st_size for p in files) / 1e6, 1)}


def speed(report: Report) -> None:
    folder = CACHE / "mixed"
    made = mixed_folder(folder)
    pdf_pages = 0
    from pypdf import PdfReader

    for pdf in folder.rglob("file*.pdf"):
        pdf_pages += len(PdfReader(str(pdf)).pages)
    runs = []
    for _ in range(3):
        out = CACHE / "mixed-out"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        summary = ingest([folder], out, say=lambda _: None)
        runs.append(time.perf_counter() - start)
    first = statistics.median(runs)
    changed = sorted(p for p in folder.rglob("file*.md"))[: max(1, round(0.05 * made["files"]))]
    for path in changed:  # 5% of the files: a paragraph added to each
        path.write_text(path.read_text() + "\n\nA paragraph added after the first run.\n")
    start = time.perf_counter()
    rerun = ingest([folder], out, say=lambda _: None)
    again = time.perf_counter() - start
    report.data["speed"] = {
        **made,
        "pdf_pages": pdf_pages,
        "seconds": [round(s, 2) for s in runs],
        "median_s": round(first, 2),
        "files_per_s": round(made["files"] / first, 1),
        "mb_per_s": round(made["mb"] / first, 2),
        "pdf_pages_per_s": round(pdf_pages / first, 1),
        "passages": summary.passages,
        "duplicates": summary.duplicates + summary.near_duplicates,
        "unreadable_reported": len(summary.skipped),
        "skipped": summary.skipped,
        "changed_files": len(changed),
        "rerun_s": round(again, 2),
        "rerun_changed": len(rerun.changed),
        "rerun_fraction": round(again / first, 3),
    }
    report.save(markdown(report.data))


def scifact_pdfs(folder: Path, sample: int = 200) -> None:
    corpus = load_collection("scifact").corpus
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "pdf").mkdir(parents=True)
    (folder / "copies").mkdir()
    for doc_id, doc in corpus.items():
        write_pdf(folder / "pdf" / f"{doc_id}.pdf", [(doc.title, doc.text)])
    for doc_id in random.Random(0).sample(sorted(corpus), sample):
        doc = corpus[doc_id]
        write_html(folder / "copies" / f"{doc_id}.html", [(doc.title, doc.text)])
        write_markdown(folder / "copies" / f"{doc_id}.md", [(doc.title, doc.text)])


def _adapt_and_evaluate(corpus_dir: Path, output: Path, budget: float, to_document) -> float:
    from pseudorel.adapt import AdaptSettings, adapt
    from pseudorel.data import load_dataset
    from pseudorel.evaluation import evaluate_run
    from pseudorel.labels.pipeline import LabelSettings
    from pseudorel.system import SearchSystem

    data = load_dataset(str(corpus_dir), splits=[])
    settings = AdaptSettings(labels=LabelSettings(retrievers=("bm25", "dense")), time_budget_s=budget)
    shutil.rmtree(output, ignore_errors=True)
    adapt(data.corpus, output, None, settings)
    test = load_collection("scifact")
    queries, qrels = test.split_queries("test"), test.qrels["test"]
    run = SearchSystem.load(output).search(queries, 1000)
    documents: dict[str, dict[str, float]] = {}
    for qid, hits in run.items():
        for passage, score in hits.items():
            doc = to_document(passage)
            documents.setdefault(qid, {})
            documents[qid][doc] = max(score, documents[qid].get(doc, float("-inf")))
    return round(evaluate_run(qrels, documents).aggregate["nDCG@10"], 4)


def end_to_end(report: Report, budget: float) -> None:
    folder = CACHE / "scifact-files"
    start = time.perf_counter()
    scifact_pdfs(folder)
    made_s = time.perf_counter() - start
    passages_dir = CACHE / "scifact-ingested"
    start = time.perf_counter()
    summary = ingest([folder / "pdf", folder / "copies"], passages_dir, say=lambda _: None)
    ingest_s = time.perf_counter() - start
    source = {}
    for line in (passages_dir / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        source[record["_id"]] = Path(record["metadata"]["source"]).stem  # the abstract's id
    from_pdfs = _adapt_and_evaluate(passages_dir, CACHE / "adapt-pdfs", budget, source.__getitem__)
    original = CACHE / "scifact-original"
    original.mkdir(parents=True, exist_ok=True)
    shutil.copy(load_collection("scifact").path / "corpus.jsonl", original / "corpus.jsonl")
    from_jsonl = _adapt_and_evaluate(original, CACHE / "adapt-jsonl", budget, lambda d: d)
    report.data["scifact"] = {
        "pdfs_written_s": round(made_s, 1),
        "ingest_s": round(ingest_s, 1),
        "passages": summary.passages,
        "duplicates_dropped": summary.duplicates + summary.near_duplicates,
        "adapt": f"BM25 + MiniLM teacher, --time-budget {budget:.0f} s, each",
        "from_pdfs_ndcg": from_pdfs,
        "from_jsonl_ndcg": from_jsonl,
    }
    report.save(markdown(report.data))


def headline(data: dict) -> dict:
    s, e = data.get("speed", {}), data.get("scifact", {})
    return {
        "files_per_s": s.get("files_per_s"),
        "mb_per_s": s.get("mb_per_s"),
        "rerun_fraction": s.get("rerun_fraction"),
        "scifact_from_pdfs_ndcg": e.get("from_pdfs_ndcg"),
        "scifact_from_jsonl_ndcg": e.get("from_jsonl_ndcg"),
        "unreadable_files_reported": s.get("unreadable_reported"),
    }


def markdown(data: dict) -> str:
    data["headline"] = headline(data)
    lines = ["## Headline", "", "```", json.dumps(data["headline"], indent=1), "```", ""]
    s = data.get("speed")
    if s:
        lines += [
            "## Mixed folder (PDF, DOCX, HTML, Markdown, text)",
            "",
            f"{s['files']} files, {s['mb']} MB ({s['pdf_pages']} PDF pages), 3 of them unreadable: ingest took "
            f"{s['seconds']} s (median {s['median_s']} s): {s['files_per_s']} files/s, {s['mb_per_s']} MB/s, "
            f"{s['pdf_pages_per_s']} PDF pages/s (the whole time, chunking with MiniLM's tokenizer included); "
            f"{s['passages']} passages, {s['duplicates']} duplicates dropped, {s['unreadable_reported']} files "
            f"reported unreadable: {s['skipped']}. After {s['changed_files']} files changed, the rerun took "
            f"{s['rerun_s']} s ({s['rerun_fraction']:.1%} of the first) and re-read {s['rerun_changed']} files.",
            "",
        ]
    e = data.get("scifact")
    if e:
        lines += [
            "## SciFact from PDFs",
            "",
            f"5,183 abstracts as PDFs (written in {e['pdfs_written_s']} s) plus HTML and Markdown copies of 200: "
            f"ingested in {e['ingest_s']} s into {e['passages']} passages ({e['duplicates_dropped']} duplicates "
            f"dropped). adapt ({e['adapt']}), test nDCG@10 by abstract: from the PDFs {e['from_pdfs_ndcg']}, from "
            f"corpus.jsonl {e['from_jsonl_ndcg']}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=300.0, help="adapt's --time-budget, seconds, each run")
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    report = Report("ingest", keep_previous=True)
    report.data["command"] = " ".join(["bench/ingest.py", *sys.argv[1:]])
    if "speed" not in report.data:
        speed(report)
    if not args.skip_e2e and "scifact" not in report.data:
        end_to_end(report, args.budget)
    report.save(markdown(report.data), complete=True)


if __name__ == "__main__":
    main()
