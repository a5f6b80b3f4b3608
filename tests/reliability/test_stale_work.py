"""Cached stages are reused only when the fingerprint of what made them matches."""

import json
import shutil

import pandas as pd
import pytest

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query
from pseudorel.training._run import RUN_MARKER, claim_output
from pseudorel.training.cross_encoder import CrossTrainSettings
from pseudorel.training.examples import ExampleSettings
from pseudorel.training.query_tower import QueryTowerSettings
from tests.cli.test_cli import run_cli
from tests.cli.test_train_command import label_table  # noqa: F401  (fixture)


def _settings(model, **changes):
    base = AdaptSettings(
        base_model=str(model),
        synthetic_kinds=("title",),
        labels=LabelSettings(retrievers=("bm25",)),
        examples=ExampleSettings(negatives=1, positive_threshold=0.0, negative_threshold=1.0),
        query_tower=QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.0),
        reranker=CrossTrainSettings(batch_size=8, bf16=False, negatives=1),
        reranker_only_with_reader=False,
    )
    return AdaptSettings(**{**base.__dict__, **changes})


@pytest.fixture
def model_copy(tmp_path, tiny_model_path):
    """A copy of the tiny bi-encoder that a test may retrain in place."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model_path, model)
    return model


def retrain_in_place(model) -> None:
    """New (random) weights saved under the same path, as a retraining would leave them."""
    import torch
    from sentence_transformers import SentenceTransformer

    retrained = SentenceTransformer(str(model), device="cpu")
    with torch.no_grad():
        for p in retrained.parameters():
            p.add_(torch.randn_like(p))
    retrained.save(str(model))


@pytest.mark.fault(
    "adapt rerun in the same folder with other settings",
    "queries, labels and students redone; report and system.json describe what was used",
)
def test_adapt_redoes_stages_whose_settings_changed(tmp_path, tiny_dataset_path, tiny_model_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    unlabeled = [Query(q, t) for q, t in ds.queries.items()]
    out = tmp_path / "out"
    first = adapt(ds.corpus, out, unlabeled, _settings(tiny_model_path))
    card = json.loads((out / "retriever" / "pseudorel.json").read_text())
    assert first.queries["synthetic"] == 10 and "reranker" in [d["part"] for d in first.system.decisions]

    changed = _settings(tiny_model_path, synthetic_kinds=("title", "ict"), reranker=None)
    second = adapt(ds.corpus, out, unlabeled, changed)
    assert second.queries["synthetic"] > 10  # the ict queries were made, not the old file reused
    assert "labels" not in second.reused  # labels recomputed for the new queries
    assert json.loads((out / "retriever" / "pseudorel.json").read_text())["fingerprint"] != card["fingerprint"]
    assert "reranker" not in [d["part"] for d in second.system.decisions] and second.reranker_pairs is None
    assert json.loads((out / "system.json").read_text())["reranker"] is None

    third = adapt(ds.corpus, out, unlabeled, changed)  # nothing changed: every stage reused
    assert "labels" in third.reused and third.seconds["retriever"] < 5


@pytest.mark.fault(
    "checkpoints of another run in the output folder",
    "removed before training, never resumed; a folder with none of pseudorel's files is left alone",
)
def test_claim_output_clears_another_runs_checkpoints(tmp_path):
    out = tmp_path / "student"
    claim_output(out, "run-a")
    (out / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    claim_output(out, "run-a")  # the same run: its checkpoint stays, to resume from
    assert (out / "checkpoints" / "checkpoint-4").is_dir()
    claim_output(out, "run-b")  # another run: nothing of run a may be resumed
    assert not (out / "checkpoints").exists()
    assert json.loads((out / RUN_MARKER).read_text()) == {"fingerprint": "run-b"}
    unrelated = tmp_path / "mine"
    (unrelated / "notes").mkdir(parents=True)
    claim_output(unrelated, "run-c")  # a folder with nothing of pseudorel's is left as it is
    assert (unrelated / "notes").is_dir()


@pytest.mark.fault(
    "train into a folder holding a model made from other labels",
    "trained anew; the card's fingerprint changes",
)
def test_train_retrains_when_the_labels_changed(monkeypatch, capsys, tmp_path, tiny_model_path, label_table):  # noqa: F811
    out = tmp_path / "retriever"
    args = ("train", "--dataset", "tiny", "--output", str(out), "--base-model", str(tiny_model_path), "--epochs", "1")
    assert run_cli(monkeypatch, capsys, *args, "--labels", str(label_table))[0] == 0
    card = json.loads((out / "pseudorel.json").read_text())
    other = tmp_path / "other.parquet"
    frame = pd.read_parquet(label_table)
    frame.assign(label=frame["label"][::-1].to_numpy()).to_parquet(other)
    assert run_cli(monkeypatch, capsys, *args, "--labels", str(other))[0] == 0
    assert json.loads((out / "pseudorel.json").read_text())["fingerprint"] != card["fingerprint"]


@pytest.mark.fault(
    "dense model's files replaced under the same path",
    "candidates and teacher scores recomputed, not read from the cache",
)
def test_candidates_are_recomputed_when_a_models_files_change(tmp_path, tiny_dataset_path, model_copy):
    ds = load_beir(tiny_dataset_path, splits=[])
    model = model_copy
    queries = [Query(q, t) for q, t in ds.queries.items()]
    settings = LabelSettings(retrievers=(f"dense:{model}",))
    before, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "w", progress=False)
    retrain_in_place(model)
    after, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "w", progress=False)
    assert not before["score_fusion"].equals(after["score_fusion"]) or not before["doc_id"].equals(after["doc_id"])


@pytest.mark.fault(
    "train --labels A killed by PID, then train --labels B into the same folder",
    "B starts from scratch: A's checkpoints are removed, the card is B's",
)
def test_killed_run_is_not_resumed_by_another(tmp_path, tiny_model_path, label_table):  # noqa: F811
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "retriever"
    other = tmp_path / "other.parquet"
    frame = pd.read_parquet(label_table)
    frame.assign(label=frame["label"][::-1].to_numpy()).to_parquet(other)
    base = [sys.executable, "-m", "pseudorel", "train", "--dataset", "tiny", "--output", str(out)]
    base += ["--base-model", str(tiny_model_path), "--epochs", "200"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*base, "--labels", str(label_table)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list(out.glob("checkpoints/checkpoint-*/trainer_state.json")) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(out.glob("checkpoints/checkpoint-*")) and not (out / "pseudorel.json").exists()
    a_key = json.loads((out / RUN_MARKER).read_text())["fingerprint"]
    result = subprocess.run(
        [*base[:-1], "1", "--labels", str(other)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "holds a model of another run" in result.stderr
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["fingerprint"] != a_key and card["steps_done"] == card["steps"]


@pytest.mark.fault(
    "adapt rerun after the teacher's dense model changed under the same path",
    "labels recomputed (adapt's label stage is keyed by the teacher models' files), not reused",
)
def test_adapt_relabels_when_a_teacher_models_files_change(tmp_path, tiny_dataset_path, tiny_model_path, model_copy):
    ds = load_beir(tiny_dataset_path, splits=[])
    teacher = model_copy
    unlabeled = [Query(q, t) for q, t in ds.queries.items()]
    settings = _settings(tiny_model_path, labels=LabelSettings(retrievers=("bm25", f"dense:{teacher}")), reranker=None)
    out = tmp_path / "out"
    assert "labels" not in adapt(ds.corpus, out, unlabeled, settings).reused
    assert "labels" in adapt(ds.corpus, out, unlabeled, settings).reused  # same teacher: reused
    retrain_in_place(teacher)
    assert "labels" not in adapt(ds.corpus, out, unlabeled, settings).reused


def test_teacher_ids_follow_the_length_a_nomic_model_reads(tmp_path, monkeypatch):
    from pseudorel.labels.pipeline import teacher_model_ids
    from pseudorel.retrieval import nomic_bert

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    settings = LabelSettings(retrievers=("bm25", f"dense:{gguf}"))
    monkeypatch.setattr(nomic_bert, "MAX_SEQ_LENGTH", 256)
    short = teacher_model_ids(settings)
    monkeypatch.setattr(nomic_bert, "MAX_SEQ_LENGTH", 512)
    assert teacher_model_ids(settings) != short and short[0].endswith("@256")
