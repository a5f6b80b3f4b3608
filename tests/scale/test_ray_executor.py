"""The Ray executor on a local Ray instance that the tests start (2 CPUs, this machine only)."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pseudorel.scale import LocalExecutor
from tests.scale.tasks import Doubling

ray = pytest.importorskip("ray", reason="Ray is an extra: pip install 'pseudorel[ray]' (scripts/setup_test.sh does)")

REPO = Path(__file__).resolve().parents[2]
SHARDS = [list(range(i, i + 2)) for i in range(0, 16, 2)]


@pytest.fixture(scope="module")
def executor(tmp_path_factory):
    from pseudorel.scale.ray_executor import RayExecutor

    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "HF_HUB_OFFLINE", "PSEUDOREL_CACHE_DIR")}
    # the workers (which keep the environment Ray starts with) import the tests' tasks, load only
    # local models and cache nothing outside the tests' folders
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["PSEUDOREL_CACHE_DIR"] = str(tmp_path_factory.mktemp("ray-workers-cache"))
    ray_executor = RayExecutor(workers=2)
    yield ray_executor
    ray_executor.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_ray_map_equals_local(executor, tmp_path):
    local = LocalExecutor().map(Doubling(str(tmp_path / "a")), SHARDS, tmp_path / "local", "k", progress=False)
    remote = executor.map(Doubling(str(tmp_path / "b")), SHARDS, tmp_path / "ray", "k", progress=False)
    for a, b in zip(local, remote, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.fault("a Ray worker is killed (SIGKILL by PID) mid-stage", "its shard is redone; every shard once")
def test_killed_worker_shard_is_redone_once(executor, tmp_path):
    task = Doubling(str(tmp_path / "t"), stall_at=6)
    pid_file = tmp_path / "t" / "stalled.pid"
    killed = []

    def kill_when_stalled():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if pid_file.is_file() and pid_file.read_text():
                pid = int(pid_file.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_when_stalled, daemon=True)
    killer.start()
    parts = executor.map(task, SHARDS, tmp_path / "store", "k", progress=False)
    killer.join(timeout=5)
    assert killed, "the stalled worker was never seen"
    assert np.concatenate([p["item"] for p in parts]).tolist() == list(range(16))
    assert task.calls() == [s[0] for s in SHARDS]  # the killed attempt never finished: each shard once
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert sorted(map(int, manifest["done"])) == list(range(len(SHARDS)))


@pytest.mark.fault("a Ray job fails part-way and is run again", "it resumes from its manifest, redoing no shard")
def test_interrupted_ray_job_resumes_from_manifest(executor, tmp_path):
    store = tmp_path / "store"
    with pytest.raises(Exception, match="planned failure"):
        executor.map(Doubling(str(tmp_path / "a"), fail_at=10), SHARDS, store, "k", progress=False)
    done = sorted(map(int, json.loads((store / "manifest.json").read_text())["done"]))
    assert 5 not in done
    again = Doubling(str(tmp_path / "b"))
    parts = executor.map(again, SHARDS, store, "k", progress=False)
    assert again.calls() == [SHARDS[i][0] for i in range(len(SHARDS)) if i not in done]
    assert np.concatenate([p["double"] for p in parts]).tolist() == [2 * i for i in range(16)]


def test_ray_labels_equal_local_labels(executor, tmp_path, tiny_dataset_path, tiny_model_path, monkeypatch):
    import torch
    from sentence_transformers import CrossEncoder

    from pseudorel.data import load_beir
    from pseudorel.labels.pipeline import LabelSettings, label_pairs
    from pseudorel.queries import Query, synthetic_queries
    from pseudorel.retrieval import encoding
    from pseudorel.teachers import cross_encoder

    monkeypatch.setattr(encoding, "SHARD_SIZE", 7)  # several shards even on the tiny corpus
    monkeypatch.setattr(cross_encoder, "SHARD_PAIRS", 64)
    torch.manual_seed(0)
    CrossEncoder(str(tiny_model_path), num_labels=1, device="cpu").save(str(tmp_path / "ce"))
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
    settings = LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}"), cross_encoder=str(tmp_path / "ce"))
    local, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "local", progress=False)
    monkeypatch.setenv("PSEUDOREL_CACHE_DIR", str(tmp_path / "other-cache"))  # no embedding reused
    remote, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "ray", progress=False, executor=executor)
    assert len(local) > 50 and local["prob_ce"].notna().all()
    import pandas as pd

    pd.testing.assert_frame_equal(local, remote, check_exact=False, rtol=1e-6)


def test_label_command_with_ray_executor(executor, monkeypatch, capsys, tmp_path, tiny_model_path):
    from tests.cli.test_cli import run_cli

    common = ["label", "--dataset", "tiny", "--synthetic", "title", "--retrievers", f"bm25,dense:{tiny_model_path}"]
    code, _, err = run_cli(monkeypatch, capsys, *common, "--output", str(tmp_path / "a.parquet"))
    assert code == 0, err
    monkeypatch.setenv("PSEUDOREL_CACHE_DIR", str(tmp_path / "other-cache"))
    code, _, err = run_cli(
        monkeypatch, capsys, *common, "--output", str(tmp_path / "b.parquet"), "--executor", "ray", "--workers", "2"
    )
    assert code == 0, err
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet"))


def test_train_command_on_ray_train_workers(
    executor, monkeypatch, capsys, tmp_path, tiny_model_path, tiny_dataset_path
):
    from tests.cli.test_cli import run_cli

    labels = tmp_path / "labels.parquet"
    args = ["label", "--dataset", "tiny", "--synthetic", "title,ict", "--retrievers", "bm25", "--output", str(labels)]
    assert run_cli(monkeypatch, capsys, *args)[0] == 0
    out = tmp_path / "retriever"
    code, stdout, err = run_cli(
        monkeypatch,
        capsys,
        "train",
        "--labels",
        str(labels),
        "--dataset",
        str(tiny_dataset_path),
        "--output",
        str(out),
        "--base-model",
        str(tiny_model_path),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--executor",
        "ray",
        "--workers",
        "2",
    )
    assert code == 0, err
    assert "2 Ray Train workers" in stdout
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["processes"] == 2 and card["steps_done"] >= 1
