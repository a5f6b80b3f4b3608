"""The query-likelihood column of the label table, within its pair budget, calibrated label-free."""

from __future__ import annotations

import numpy as np

from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.labels.query_likelihood import centred_by_query, select_for_ql
from pseudorel.llm.completions_http import OpenAICompletionsScorer
from pseudorel.queries import Query, synthetic_queries
from pseudorel.system.guard import relevance_gains
from tests.llm import stub_server


def test_select_for_ql_takes_whole_queries_within_the_budget(labelled):
    _, frame = labelled
    rows = select_for_ql(frame, budget=30, depth=3)
    chosen = frame.loc[rows]
    assert 0 < len(rows) <= 30
    for qid, group in chosen.groupby("query_id"):
        whole = frame[(frame["query_id"] == qid) & ((frame["fused_rank"] <= 3) | frame["is_source_doc"])]
        assert set(group.index) == set(whole.index)


def test_centring_removes_each_querys_own_likelihood():
    import pandas as pd

    ids = pd.Series(["a", "a", "b", "b"])
    assert np.allclose(centred_by_query(ids, np.array([-1.0, -3.0, -10.0, -12.0])), [1, -1, 1, -1])


def test_label_pairs_with_the_query_likelihood_teacher(tmp_path, tiny_dataset_path):
    server, state, url = stub_server.start()
    try:
        ds = load_beir(tiny_dataset_path, splits=[])
        queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
        settings = LabelSettings(retrievers=("bm25",), ql_budget=60, ql_depth=4)
        scorer = OpenAICompletionsScorer(url, "stub")
        frame, stats = label_pairs(ds.corpus, queries, settings, tmp_path / "w", progress=False, scorer=scorer)
        without, _ = label_pairs(ds.corpus, queries, LabelSettings(retrievers=("bm25",)), tmp_path / "w", False)
    finally:
        server.shutdown()
    scored = frame["prob_ql"].notna()
    assert stats["query_likelihood"]["scored"] == scored.sum() and 0 < scored.sum() <= 60
    assert len(state.requests) == scored.sum() + 1  # and one check
    assert frame["prob_ql"][scored].between(0, 1).all() and frame["score_ql"][scored].lt(0).all()
    assert not np.allclose(frame["label"][scored], without["label"][scored])  # it joined the combined label
    gains = relevance_gains(frame)
    assert not np.allclose(gains[scored.to_numpy()], relevance_gains(without)[scored.to_numpy()])


def test_label_command_with_a_query_likelihood_server(monkeypatch, capsys, tmp_path):
    from pseudorel.labels.store import load_labels
    from tests.cli.test_cli import run_cli

    server, _, url = stub_server.start()
    try:
        out = tmp_path / "labels.parquet"
        args = ("label", "--dataset", "tiny", "--split-queries", "test", "--synthetic", "title,ict")
        code, stdout, err = run_cli(
            monkeypatch, capsys, *args, "--retrievers", "bm25", "--ql", url, "--ql-budget", "40", "--output", str(out)
        )
    finally:
        server.shutdown()
    assert code == 0, err
    assert "query likelihood:" in stdout and load_labels(out)["prob_ql"].notna().sum() > 0


def test_a_dead_query_likelihood_server_is_one_line_and_no_output(monkeypatch, capsys, tmp_path):
    from tests.cli.test_cli import run_cli

    server, _, url = stub_server.start("error")
    try:
        out = tmp_path / "labels.parquet"
        args = ("label", "--dataset", "tiny", "--split-queries", "test", "--retrievers", "bm25", "--llm-retries", "0")
        code, _, err = run_cli(monkeypatch, capsys, *args, "--ql", url, "--output", str(out))
    finally:
        server.shutdown()
    assert code == 2 and "query-likelihood scorer is not usable" in err and "Traceback" not in err
    assert not out.exists()
