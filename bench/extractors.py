"""Which extraction library ingest uses, by measurement: PDF (pypdf, ingest's choice, against
pdfplumber) and HTML (selectolax's lexbor, ingest's choice, against trafilatura), on files made
here from known text (SciFact abstracts), so quality is exact: word recall (the source's words
found) and precision (words found that are the source's, so boilerplate counts against it), and
speed.

    PSEUDOREL_DATA_DIR=../shared/data .venv/bin/python bench/extractors.py   # needs pdfplumber, trafilatura

The competitors are not pseudorel dependencies: install them to run this (pip install pdfplumber
trafilatura lxml_html_clean).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report
from ingest import write_html, write_pdf

from pseudorel.ingest.extract import read_html, read_pdf

CACHE = Path(__file__).resolve().parents[1] / "bench" / "cache" / "extractors"
FILES = 60


def words(text: str) -> Counter:
    return Counter(re.findall(r"[a-z]{2,}", text.lower()))


def score(source: str, found: str) -> tuple[float, float]:
    a, b = words(source), words(found)
    common = sum((a & b).values())
    return common / max(1, sum(a.values())), common / max(1, sum(b.values()))


def pdfplumber_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def trafilatura_text(path: Path) -> str:
    import trafilatura

    return trafilatura.extract(path.read_text(), include_comments=False) or ""


def compare(kind: str, files: list[tuple[Path, str]], readers: dict) -> dict:
    out = {}
    for name, read in readers.items():
        recall, precision, start = [], [], time.perf_counter()
        for path, source in files:
            r, p = score(source, read(path))
            recall.append(r)
            precision.append(p)
        seconds = time.perf_counter() - start
        out[name] = {
            "word_recall": round(sum(recall) / len(recall), 4),
            "word_precision": round(sum(precision) / len(precision), 4),
            "files_per_s": round(len(files) / seconds, 1),
        }
        print(kind, name, out[name], flush=True)
    return out


def main() -> None:
    report = Report("extractors")
    corpus = load_collection("scifact").corpus
    docs = [(d.title, d.text) for d in list(corpus.values())[: FILES * 3]]
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True)
    pdfs, pages = [], []
    for i in range(FILES):  # three abstracts a PDF, one a page, with a running header and page numbers
        part = docs[3 * i : 3 * i + 3]
        write_pdf(CACHE / f"{i}.pdf", part)
        pdfs.append((CACHE / f"{i}.pdf", " ".join(f"{t} {x}" for t, x in part)))
        write_html(CACHE / f"{i}.html", part)  # navigation, scripts and footer around the abstracts
        pages.append((CACHE / f"{i}.html", " ".join(f"{t} {x}" for t, x in part)))

    def ours_pdf(path):
        return " ".join(b.text for b in read_pdf(path).blocks)

    def ours_html(path):  # headings go to the passages' titles, so they count as extracted text
        parts, last = [], ()
        for b in read_html(path).blocks:
            parts += [b.headings[-1]] if b.headings and b.headings != last else []
            parts.append(b.text)
            last = b.headings
        return " ".join(parts)

    report.data["pdf"] = compare("pdf", pdfs, {"pypdf (ingest)": ours_pdf, "pdfplumber": pdfplumber_text})
    report.data["html"] = compare("html", pages, {"selectolax (ingest)": ours_html, "trafilatura": trafilatura_text})
    lines = [f"{FILES} PDFs (3 pages each) and {FILES} HTML pages made from SciFact abstracts; word recall and", ""]
    lines[0] += " precision against the source text (boilerplate lowers precision), mean per file; files/s."
    for kind in ("pdf", "html"):
        lines += ["", f"| {kind} | word recall | word precision | files/s |", "|---|---|---|---|"]
        for name, row in report.data[kind].items():
            lines.append(f"| {name} | {row['word_recall']} | {row['word_precision']} | {row['files_per_s']} |")
    report.data["headline"] = {k: report.data[k] for k in ("pdf", "html")}
    report.save(
        "\n".join(lines) + "\n\n```\n" + json.dumps(report.data["headline"], indent=1) + "\n```\n", complete=True
    )


if __name__ == "__main__":
    main()
