"""pseudorel ingest on real files made here: a PDF (fpdf2) with running headers, an encrypted and a
truncated PDF, a DOCX (python-docx) and a 0-byte one, HTML and Markdown by hand, Latin-1 text,
an empty file; reruns after adding, changing and deleting files; the token limit; duplicates."""

import json
import time
from pathlib import Path

import pytest

from pseudorel.data.readers import read_corpus
from pseudorel.ingest import ingest
from pseudorel.ingest.chunk import Passage, chunk, tokenizer_counter
from pseudorel.ingest.extract import Block
from tests.cli.test_cli import run_cli

pytest.importorskip("pypdf", reason="the ingest extra: pip install 'pseudorel[ingest]' (scripts/setup_test.sh does)")

BONES = "Vitamin D supplements strengthen bones in older adults, a large trial found."
COFFEE = "Coffee drinking lowers the risk of liver disease in large cohorts of adults."


def make_pdf(path: Path, pages: list[str], header: str = "Journal of Tests") -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        pdf.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, text)
        pdf.set_y(-20)
        pdf.cell(0, 8, f"Page {number}")
    pdf.output(str(path))


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Liver health", level=1)
    document.add_heading("Coffee", level=2)
    document.add_paragraph(COFFEE)
    document.save(str(path))


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    make_pdf(docs / "trial.pdf", [BONES, "Calcium intake was also recorded in every group of the trial.", "The end."])
    make_docx(docs / "sub" / "liver.docx")
    (docs / "page.html").write_text(
        "<html><head><title>Salt</title><script>var x = 'tracking';</script></head><body>"
        "<nav>Home | About | Contact</nav><h1>Salt and blood pressure</h1>"
        "<p>High salt intake raises blood pressure &amp; strains the heart.</p><footer>Copyright</footer></body></html>"
    )
    (docs / "notes.md").write_text("# Sleep\n\n## Naps\n\nShort naps improve alertness in shift workers.\n")
    (docs / "latin.txt").write_bytes("Café au lait and crème brûlée are French desserts.".encode("latin-1"))
    (docs / "empty.txt").write_bytes(b"")
    (docs / "broken.docx").write_bytes(b"")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(docs / "trial.pdf")))
    writer.encrypt("secret")
    writer.write(str(docs / "locked.pdf"))
    (docs / "cut.pdf").write_bytes((docs / "trial.pdf").read_bytes()[:400])
    (docs / "image.png").write_bytes(b"\x89PNG not a document")
    return docs


def by_source(output: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in (output / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        out.setdefault(record["metadata"]["source"], []).append(record)
    return out


def test_every_readable_file_arrives_with_its_provenance(folder, tmp_path):
    lines: list[str] = []
    summary = ingest([folder], tmp_path / "out", say=lines.append)
    found = by_source(tmp_path / "out")
    assert set(found) == {"docs/trial.pdf", "docs/sub/liver.docx", "docs/page.html", "docs/notes.md", "docs/latin.txt"}
    pdf = " ".join(r["text"] for r in found["docs/trial.pdf"])
    assert "Vitamin D supplements strengthen bones" in pdf and "Calcium intake" in pdf
    assert "Journal of Tests" not in pdf and "Page 2" not in pdf  # running header and footer removed
    assert found["docs/trial.pdf"][0]["metadata"]["page"] == 1
    liver = found["docs/sub/liver.docx"][0]
    assert liver["text"] == COFFEE and liver["metadata"]["headings"] == ["Liver health", "Coffee"]
    html = found["docs/page.html"][0]
    assert "tracking" not in html["text"] and "Home" not in html["text"] and "&" in html["text"]
    assert html["title"].startswith("Salt")
    assert found["docs/notes.md"][0]["metadata"]["headings"] == ["Sleep", "Naps"]
    assert "Café au lait and crème brûlée" in found["docs/latin.txt"][0]["text"]
    assert set(summary.skipped) == {"docs/empty.txt", "docs/broken.docx", "docs/locked.pdf", "docs/cut.pdf"}
    assert "encrypted" in summary.skipped["docs/locked.pdf"] and "empty" in summary.skipped["docs/empty.txt"]
    assert len([line for line in lines if line.startswith("skipped")]) == 4  # one line each, no traceback
    assert len(read_corpus(tmp_path / "out" / "corpus.jsonl")) == summary.passages  # a corpus pseudorel reads


def test_rerun_changes_exactly_what_changed(folder, tmp_path):
    out = tmp_path / "out"
    ingest([folder], out, say=lambda _: None)
    before = {s: [r["_id"] for r in rs] for s, rs in by_source(out).items()}
    time.sleep(0.01)
    (folder / "new.md").write_text("# Exercise\n\nRegular walking lowers resting blood pressure in older adults.\n")
    (folder / "notes.md").write_text("# Sleep\n\n## Naps\n\nLong naps make shift workers groggy afterwards.\n")
    (folder / "latin.txt").unlink()
    summary = ingest([folder], out, say=lambda _: None)
    after = {s: [r["_id"] for r in rs] for s, rs in by_source(out).items()}
    assert summary.added == ["docs/new.md"] and summary.changed == ["docs/notes.md"]
    assert summary.removed == ["docs/latin.txt"] and summary.unchanged == 3
    for source in ("docs/trial.pdf", "docs/sub/liver.docx", "docs/page.html"):
        assert after[source] == before[source]  # every other id kept
    assert "groggy" in by_source(out)["docs/notes.md"][0]["text"] and "docs/latin.txt" not in after


def test_passages_stay_within_the_token_limit(tiny_model_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))
    count = tokenizer_counter(tokenizer)
    long = " ".join(f"Sentence {i} says that the trial measured bone density again." for i in range(80))
    blocks = [Block("A short opening paragraph."), Block(long), Block("Closing words.", headings=("End",))]
    passages = chunk(blocks, count, max_tokens=64, overlap=8)
    sizes = [len(tokenizer(p.text)["input_ids"]) for p in passages]
    assert len(passages) > 5 and max(sizes) <= 64 and all(p.text.strip() for p in passages)
    assert passages[-1].headings == ("End",) and passages[-1].text == "Closing words."
    windows = [p for p in passages if "Sentence" in p.text]
    assert all(p.text.endswith(".") for p in windows[:-1])  # windows end at a sentence
    assert windows[1].text.split()[0] in windows[0].text  # and overlap the one before
    text = "\n\n".join(b.text for b in blocks)
    assert all(isinstance(p, Passage) and text[p.start : p.end] == p.text for p in passages[1:-1])


def test_duplicate_passages_are_reported_once(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):  # the same note saved three times
        (docs / name).write_text(BONES)
    (docs / "d.txt").write_text(BONES.replace("older adults", "older people") + " Also in winter.")  # nearly
    (docs / "e.txt").write_text(COFFEE)
    summary = ingest([docs], tmp_path / "out", model=None, say=lambda _: None)
    dropped = [json.loads(line) for line in (tmp_path / "out" / "duplicates.jsonl").read_text().splitlines()]
    texts = [r["text"] for rs in by_source(tmp_path / "out").values() for r in rs]
    assert sum(BONES in t for t in texts) == 1 and summary.duplicates == 2 and len(texts) == 3
    assert [(d["_id"].split("-")[0], d["kind"]) for d in dropped] == [("b", "exact"), ("c", "exact")]
    again = ingest([docs], tmp_path / "out", model=None, say=lambda _: None)  # nothing changed: nothing re-read
    assert again.unchanged == 5 and not again.changed and again.duplicates == 2


def test_query_log_becomes_unlabelled_queries_with_counts(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(BONES)
    log = tmp_path / "log.csv"
    log.write_text("query,count\nvitamin d bones,3\nVitamin D  bones,2\ncoffee liver,1\n,4\n")
    summary = ingest([docs], tmp_path / "out", model=None, queries=log, say=lambda _: None)
    queries = [json.loads(line) for line in (tmp_path / "out" / "queries.jsonl").read_text().splitlines()]
    assert summary.queries == 2 and queries[0]["text"] == "vitamin d bones" and queries[0]["metadata"]["count"] == 5


@pytest.mark.fault(
    "ingest over unreadable files (encrypted, truncated, empty, 0-byte DOCX)", "one line each; --strict: exit 2"
)
def test_cli_ingest_skips_or_stops_on_unreadable_files(monkeypatch, capsys, folder, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "ingest", str(folder), "--output", str(tmp_path / "out"))
    assert code == 0 and "4 skipped" in out and err.count("skipped docs/") == 4 and "Traceback" not in err
    code, _, err = run_cli(monkeypatch, capsys, "ingest", str(folder), "--output", str(tmp_path / "o2"), "--strict")
    assert code == 2 and "cannot be read" in err and not (tmp_path / "o2" / "corpus.jsonl").exists()


def test_ingested_folder_is_served_with_each_hits_source(folder, tmp_path):
    pytest.importorskip("fastapi")
    import threading
    import urllib.request

    import uvicorn

    from pseudorel.serve.app import create_app
    from pseudorel.system.live import build_live_index
    from tests.serve.test_service import call, free_port

    ingest([folder], tmp_path / "out", say=lambda _: None)
    index = build_live_index(None, str(tmp_path / "out"), "bm25", tmp_path / "state")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port, log_level="critical"))
    threading.Thread(target=server.run, daemon=True).start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        hits = call(f"http://127.0.0.1:{port}/search", "POST", {"query": "coffee liver disease", "k": 3})[1]["hits"]
        assert hits[0]["source"] == {
            "source": "docs/sub/liver.docx",
            "headings": ["Liver health", "Coffee"],
            **{k: hits[0]["source"][k] for k in ("start", "end")},
        }
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/?q=vitamin+bones").read().decode()
        assert "from docs/trial.pdf · page 1" in page
    finally:
        server.should_exit = True


def test_a_one_page_pdf_leaves_its_page_number_out(tmp_path):
    from pseudorel.ingest.extract import extract

    make_pdf(tmp_path / "one.pdf", [BONES])
    texts = [b.text for b in extract(tmp_path / "one.pdf").blocks]
    assert any("Vitamin D" in t for t in texts) and not any(t.strip() == "Page 1" for t in texts)
