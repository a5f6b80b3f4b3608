import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pseudorel.data import load_beir
from pseudorel.labels import load_labels
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.llm import CachedBackend, OpenAIChatBackend, ResponseCache
from pseudorel.queries import Query, synthetic_queries
from tests.llm import stub_server


@pytest.fixture
def stub():
    server, state, url = stub_server.start()
    yield state, url
    server.shutdown()


def test_label_pairs_end_to_end(tmp_path, tiny_dataset_path, tiny_model_path, stub):
    state, url = stub
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, ds.queries[q]) for q in ("q1", "q2", "q3")] + synthetic_queries(ds.corpus, ("title",))[:3]
    settings = LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}"), llm_budget=5)
    backend = CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "work" / "llm.sqlite"))
    frame, stats = label_pairs(ds.corpus, queries, settings, tmp_path / "work", backend=backend, progress=False)

    assert set(frame.query_id) == {q.id for q in queries}  # no calibration-only rows
    assert {"rank_bm25", "score_fusion", "prob_fusion", "prob_source", "prob_llm", "label"} <= set(frame.columns)
    assert frame.prob_fusion.between(0, 1).all()
    assert frame.loc[frame.is_source_doc, "prob_source"].eq(1.0).all()
    assert frame.loc[~frame.is_source_doc, "prob_source"].isna().all()
    assert frame.prob_llm.notna().sum() == 5 == stats["llm"]["judged"] == len(state.requests) - 1  # + a server check
    assert frame.label.between(0, 1).all()
    judged = frame.prob_llm.notna()
    assert not np.allclose(frame.label[judged], frame.prob_cheap[judged])  # the LLM moved the labels it judged

    again, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "work", backend=backend, progress=False)
    assert len(state.requests) == 6  # every stage and answer (and the server check) came from the caches
    assert again.equals(frame)


def test_uncertain_selection_judges_middle_pairs(tmp_path, tiny_dataset_path, stub):
    _, url = stub
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()]
    backend = CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "c.sqlite"))
    settings = LabelSettings(retrievers=("bm25",), llm_budget=4, llm_select="uncertain")
    frame, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "w", backend=backend, progress=False)
    judged = frame.prob_cheap[frame.prob_llm.notna()]
    others = frame.prob_cheap[frame.prob_llm.isna()]
    assert (judged - 0.5).abs().max() <= (others - 0.5).abs().min() + 1e-12


@pytest.mark.fault("kill -9 during LLM judging", "the rerun resumes; no finished judgment is asked again")
def test_sigkill_during_judging_loses_no_finished_label(tmp_path, tiny_dataset_path):
    server, state, url = stub_server.start(delay=0.15)
    out = tmp_path / "labels.parquet"
    command = [
        sys.executable,
        "-m",
        "pseudorel",
        "label",
        "--dataset",
        str(tiny_dataset_path),
        "--split-queries",
        "test",
        "--synthetic",
        "title",
        "--retrievers",
        "bm25",
        "--llm",
        url,
        "--llm-budget",
        "20",
        "--output",
        str(out),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while len(state.requests) < 6 and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before_kill = len(state.requests)
        assert 6 <= before_kill < 20 and not out.exists()
        cached = len(ResponseCache(tmp_path / ".pseudorel-work" / "llm-cache.sqlite"))
        assert cached >= before_kill - 1  # at most the request in flight was lost

        state.delay = 0.0
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert f"{cached} from cache" in result.stdout
        frame = load_labels(out)
        assert frame.prob_llm.notna().sum() == 20
        assert len(state.requests) == 1 + 20 + (
            before_kill - cached
        )  # the server check + 20; finished answers not asked again
    finally:
        server.shutdown()
