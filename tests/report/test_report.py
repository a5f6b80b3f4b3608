"""The HTML report of a fixture adapt run: one self-contained file, rendered by headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.queries import Query
from pseudorel.report import build_report
from pseudorel.report.checks import student_warnings
from pseudorel.training.cross_encoder import CrossTrainSettings
from pseudorel.training.examples import ExampleSettings
from pseudorel.training.query_tower import QueryTowerSettings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADINGS = ["Summary", "Run", "Labels", "Training", "No-harm guard"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_dataset_path, tiny_model_path):
    """A fixture adapt run evaluated on the tiny test qrels (which writes report.html itself)."""
    out = tmp_path_factory.mktemp("adapt") / "run"
    ds = load_beir(tiny_dataset_path, splits=["test"])
    settings = AdaptSettings(
        base_model=str(tiny_model_path),
        labels=LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}")),
        examples=ExampleSettings(negatives=1, positive_threshold=0.0, negative_threshold=1.0),
        query_tower=QueryTowerSettings(epochs=2, batch_size=4, eval_fraction=0.3),
        reranker=CrossTrainSettings(batch_size=8, bf16=False),
        reranker_only_with_reader=False,  # trained, so the report shows the guard's reranker decision
    )
    unlabeled = [Query(q, t) for q, t in ds.queries.items()]
    adapt(ds.corpus, out, unlabeled, settings, evaluation=ds, command="pseudorel adapt --dataset tiny")
    return out


def _chromium(*args: str) -> str:
    assert CHROMIUM, "the test set-up installs Debian's chromium"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_adapt_writes_one_self_contained_html_file(run_dir):
    html = (run_dir / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched: images are inline
    assert html.count("data:image/png;base64,") >= 3  # histograms, calibration, per-query wins/losses
    assert "pseudorel adapt --dataset tiny" in html and "On the test qrels" in html


def test_chromium_renders_the_report(run_dir, tmp_path):
    png = tmp_path / "report.png"
    _chromium(f"--screenshot={png}", "--window-size=1200,1600", (run_dir / "report.html").as_uri())
    from PIL import Image

    pixels = Image.open(png).convert("L")
    low, high = pixels.getextrema()
    assert high - low > 100  # not a blank page
    dom = _chromium("--dump-dom", (run_dir / "report.html").as_uri())
    assert "<title>pseudorel adapt report</title>" in dom
    headings = re.findall(r"<h2>([^<]+)</h2>", dom)
    assert headings[: len(HEADINGS)] == HEADINGS and any(h.startswith("Evaluation") for h in headings)


def test_a_run_without_qrels_has_no_evaluation_section(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "evaluation")
    html = build_report(copy).read_text()
    assert "<h2>Evaluation" not in html and "On the test qrels" not in html and "<h2>No-harm guard</h2>" in html


def test_a_student_that_never_beat_its_untrained_self_is_flagged(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    card_path = copy / "retriever" / "pseudorel.json"
    card = json.loads(card_path.read_text())
    card.update(held_out_metric_at_start=-1.0, best_held_out_metric=-1.5, kept_untrained_query_tower=True)
    card_path.write_text(json.dumps(card))
    html = build_report(copy).read_text()
    assert "The adapted dense retriever never beat its untrained self" in html
    assert student_warnings({"x": {"held_out_metric_at_start": -1.0, "best_held_out_metric": -0.5}}) == []


def test_report_command_errors_name_the_folder(monkeypatch, capsys, tmp_path):
    from tests.cli.test_cli import run_cli

    code, _, err = run_cli(monkeypatch, capsys, "report", str(tmp_path))
    assert code == 2 and "no report.json" in err and str(tmp_path) in err and "Traceback" not in err
