import math

import pytest

from pseudorel.candidates import MiningSettings, mine_candidates
from pseudorel.queries import Query


def test_top_deep_and_source_candidates():
    runs = {
        "bm25": {"q": {f"d{i}": 100.0 - i for i in range(30)}},
        "dense": {"q": {"x": 9.0, "d5": 8.0}},
    }
    query = Query("q", "text", "title", doc_id="src")
    frame = mine_candidates([query], runs, MiningSettings(top=2, deep=3, depth=30, seed=0))
    by_doc = frame.set_index("doc_id")
    assert set(by_doc.index[by_doc.cand_source == "top"]) == {"d0", "d1", "x", "d5"}
    deep = by_doc[by_doc.cand_source == "deep"]
    assert len(deep) == 3 and all(by_doc.loc[d, "fused_rank"] > 2 for d in deep.index)
    assert by_doc.loc["src", "cand_source"] == "source" and bool(by_doc.loc["src", "is_source_doc"])
    assert math.isnan(by_doc.loc["src", "rank_bm25"])
    assert by_doc.loc["d5", "rank_bm25"] == 6 and by_doc.loc["d5", "rank_dense"] == 2
    assert frame.is_source_doc.sum() == 1
    again = mine_candidates([query], runs, MiningSettings(top=2, deep=3, depth=30, seed=0))
    assert again.equals(frame)


def test_fused_score_follows_the_fusion_method():
    runs = {"bm25": {"q": {"a": 10.0, "b": 9.0, "c": 0.0}}, "dense": {"q": {"c": 0.9, "b": 0.8, "a": 0.1}}}
    query = Query("q", "text", "log")
    rrf = mine_candidates([query], runs, MiningSettings(top=3, depth=3, fusion="rrf")).set_index("doc_id")
    assert rrf.loc["b", "fused_score"] == pytest.approx(1 / 62 + 1 / 62)
    interp = mine_candidates([query], runs, MiningSettings(top=3, depth=3)).set_index("doc_id")
    # min-max per run: b is 0.9 of BM25's range and 0.875 of dense's; a 1 + 0, c 0 + 1
    assert interp.loc["b", "fused_score"] == pytest.approx(0.9 + 0.875)
    assert interp.loc["b", "fused_rank"] == 1 and rrf.loc["b", "fused_rank"] == 3  # second twice: last by ranks
    assert interp.loc["a", "fused_score"] == pytest.approx(1.0) and interp.loc["c", "fused_score"] == pytest.approx(1.0)
