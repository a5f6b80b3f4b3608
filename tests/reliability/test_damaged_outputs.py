"""An adapt output folder damaged between runs (a hand edit, a disk fault, a kill while a file was
copied elsewhere): the rerun makes again what does not load, never asks the user to delete files,
and its report says which stages it reused."""

import json

import pytest

from pseudorel.adapt import adapt
from pseudorel.data import load_beir
from pseudorel.queries import Query
from tests.cli.test_cli import run_cli
from tests.reliability.test_stale_work import _settings


@pytest.mark.fault(
    "adapt rerun over a damaged stages.json, a truncated labels.parquet or truncated student weights",
    "the damaged part is made again; the report says what was reused",
)
@pytest.mark.parametrize("damage", ["stages.json", "labels.parquet", "retriever/query_0_Transformer/model.safetensors"])
def test_adapt_remakes_what_does_not_load(tmp_path, tiny_dataset_path, tiny_model_path, damage):
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()]
    out = tmp_path / "out"
    settings = _settings(tiny_model_path, reranker=None)
    first = adapt(ds.corpus, out, queries, settings)
    assert not first.reused and first.label_stats
    target = out / damage
    target.write_bytes(target.read_bytes()[: max(1, target.stat().st_size // 3)])
    again = adapt(ds.corpus, out, queries, settings)
    reused = set(again.reused)
    expected = {
        "stages.json": set(),
        "labels.parquet": {"queries"},
        "retriever/query_0_Transformer/model.safetensors": {"queries", "labels"},
    }
    assert reused == expected[damage]
    assert again.label_stats  # a reused stage's report still says what it did
    if "labels" in reused:
        assert again.label_stats == json.loads(json.dumps(first.label_stats, default=str))
    assert json.loads((out / "report.json").read_text())["system"]["shipped"]


@pytest.mark.fault("search --system whose system.json is a JSON list", "exit 2 naming system.json")
def test_search_with_a_system_json_of_the_wrong_shape(monkeypatch, capsys, system_folder):
    (system_folder / "system.json").write_text("[]")
    code, _, err = run_cli(monkeypatch, capsys, "search", "--system", str(system_folder), "--query", "vitamin d")
    assert code == 2 and "system.json" in err and "Traceback" not in err


@pytest.mark.fault("compare on a run file with a nan or inf score", "exit 2 naming the file and line")
@pytest.mark.parametrize("score", ["nan", "inf", "-Infinity"])
def test_compare_refuses_scores_that_are_not_finite(monkeypatch, capsys, tmp_path, score):
    good = tmp_path / "a.run"
    good.write_text("q1 Q0 d1 1 2.0 x\nq1 Q0 d2 2 1.0 x\n")
    bad = tmp_path / "b.run"
    bad.write_text(f"q1 Q0 d1 1 2.0 x\nq1 Q0 d2 2 {score} x\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    code, _, err = run_cli(monkeypatch, capsys, "compare", str(good), str(bad), "--qrels", str(qrels))
    assert code == 2 and "b.run:2" in err and "not a finite number" in err, err
