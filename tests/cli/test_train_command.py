"""``pseudorel train``: a student from a label table made by ``pseudorel label``."""

import json

import pandas as pd
import pytest

from pseudorel.data.trec import read_run
from pseudorel.evaluation.runner import evaluate_retriever
from tests.cli.test_cli import run_cli


@pytest.fixture
def label_table(monkeypatch, capsys, tmp_path):
    path = tmp_path / "labels.parquet"
    args = ("label", "--dataset", "tiny", "--synthetic", "title,ict", "--retrievers", "bm25", "--output", str(path))
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "labelled" in stdout
    return path


@pytest.mark.parametrize("student", ["retriever", "reranker"])
def test_train_a_student_from_labels(monkeypatch, capsys, tmp_path, tiny_model_path, label_table, student):
    out = tmp_path / student
    args = ("train", "--labels", str(label_table), "--dataset", "tiny", "--output", str(out), "--student", student)
    code, stdout, _ = run_cli(monkeypatch, capsys, *args, "--base-model", str(tiny_model_path), "--epochs", "1")
    assert code == 0 and f"{student} trained on" in stdout
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["training"]["epochs"] == 1 and card["teacher"].startswith("combined")
    assert (out / ("modules.json" if student == "retriever" else "config.json")).is_file()
    # a finished student is not trained again with the same labels and settings
    assert run_cli(monkeypatch, capsys, *args, "--base-model", str(tiny_model_path), "--epochs", "1")[0] == 0
    assert json.loads((out / "pseudorel.json").read_text()) == card
    # other settings: trained anew, not the old model returned under the new settings' name
    assert run_cli(monkeypatch, capsys, *args, "--base-model", str(tiny_model_path), "--epochs", "2")[0] == 0
    assert json.loads((out / "pseudorel.json").read_text())["training"]["epochs"] == 2


def test_evaluate_reranks_with_the_trained_reranker(monkeypatch, capsys, tmp_path, tiny_model_path, label_table):
    reranker = tmp_path / "reranker"
    args = ("train", "--labels", str(label_table), "--dataset", "tiny", "--output", str(reranker))
    assert run_cli(monkeypatch, capsys, *args, "--student", "reranker", "--base-model", str(tiny_model_path))[0] == 0
    out = tmp_path / "eval"
    args = ("evaluate", "--dataset", "tiny", "--rerank", str(reranker), "--rerank-depth", "3", "--output", str(out))
    code, stdout, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "bm25 >> rerank top 3" in stdout
    bm25 = evaluate_retriever("tiny").run
    run = read_run(out / "run.trec")
    for qid, docs in bm25.items():  # the top 3 reordered, the rest in BM25's order after them
        first, ranked = (sorted(d, key=d.get, reverse=True) for d in (docs, run[qid]))
        assert set(ranked[:3]) == set(first[:3]) and ranked[3:] == first[3:]
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--rerank", str(tmp_path))
    assert code == 2 and "not a cross-encoder folder (no config.json)" in err


def test_train_rejects_labels_from_another_corpus(monkeypatch, capsys, tmp_path, label_table):
    frame = pd.read_parquet(label_table)
    frame.loc[0, "doc_id"] = "not-in-tiny"
    frame.to_parquet(label_table)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", "--labels", str(label_table), "--dataset", "tiny", "--output", str(tmp_path / "m")
    )
    assert code == 2 and "labels.parquet: 1 labelled document(s) are not in the corpus, e.g. 'not-in-tiny'" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--student", "ranker", "--student must be one of retriever, reranker"),
        ("--loss", "hinge", "--loss: unknown loss 'hinge'"),
        ("--epochs", "0", "--epochs must be a finite number above 0"),
    ],
)
def test_train_rejects_bad_options_before_any_work(monkeypatch, capsys, tmp_path, option, value, message):
    args = (
        "train",
        "--labels",
        str(tmp_path / "missing.parquet"),
        "--dataset",
        "tiny",
        "--output",
        str(tmp_path / "m"),
    )
    code, _, err = run_cli(monkeypatch, capsys, *args, option, value)
    assert code == 2 and message in err and "Traceback" not in err


def test_label_teacher_fusion_option(monkeypatch, capsys, tmp_path, tiny_model_path):
    """--teacher-fusion rrf scores each pair by reciprocal ranks; the default interpolates scores."""
    import pandas as pd

    base = ("label", "--dataset", "tiny", "--synthetic", "title", "--retrievers", f"bm25,dense:{tiny_model_path}")
    tables = {}
    for fusion in ("rrf", "interpolate"):
        path = tmp_path / f"{fusion}.parquet"
        assert run_cli(monkeypatch, capsys, *base, "--teacher-fusion", fusion, "--output", str(path))[0] == 0
        tables[fusion] = pd.read_parquet(path)
    rrf = tables["rrf"]
    expected = sum((1 / (60 + rrf[c])).fillna(0.0) for c in ("rank_bm25", f"rank_dense_{tiny_model_path}"))
    assert rrf["score_fusion"].to_numpy() == pytest.approx(expected.to_numpy())
    assert tables["interpolate"]["score_fusion"].max() <= 2.0 + 1e-9  # two min-max scores in [0, 1]
    assert not tables["interpolate"]["score_fusion"].equals(rrf["score_fusion"])


def test_label_sampled_teacher_option(monkeypatch, capsys, tmp_path, tiny_model_path, tiny_teacher_path):
    """--teacher-mode sampled: the expensive (second) dense model reads only a sample's pairs."""
    import pandas as pd

    retrievers = f"bm25,dense:{tiny_model_path},dense:{tiny_teacher_path}"
    base = ("label", "--dataset", "tiny", "--synthetic", "title,ict", "--retrievers", retrievers, "--top", "2")
    path = tmp_path / "sampled.parquet"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, *base, "--teacher-mode", "sampled", "--teacher-pairs", "20", "--output", str(path)
    )
    assert code == 0 and "sampled teacher:" in stdout
    table = pd.read_parquet(path)
    assert len(table) <= 20 and f"prob_dense_{tiny_teacher_path}" in table
    code, _, err = run_cli(monkeypatch, capsys, *base, "--teacher-mode", "cheap", "--output", str(path))
    assert code == 2 and "--teacher-mode must be one of full, sampled" in err and "Traceback" not in err
    code, _, err = run_cli(monkeypatch, capsys, *base, "--teacher-pairs", "0", "--output", str(path))
    assert code == 2 and "--teacher-pairs" in err
