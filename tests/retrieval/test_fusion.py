import pytest

from pseudorel.retrieval.fusion import reciprocal_rank_fusion


def test_rrf_hand_computed():
    a = {"q": {"x": 3.0, "y": 2.0, "z": 1.0}}
    b = {"q": {"y": 0.9, "w": 0.5}}
    fused = reciprocal_rank_fusion([a, b], k=1, top_k=10)["q"]
    assert fused == pytest.approx({"y": 1 / 3 + 1 / 2, "x": 1 / 2, "w": 1 / 3, "z": 1 / 4})
    assert list(fused) == ["y", "x", "w", "z"]


def test_rrf_weights_and_top_k():
    a = {"q": {"x": 1.0}}
    b = {"q": {"y": 1.0}}
    fused = reciprocal_rank_fusion([a, b], k=0, top_k=1, weights=[1.0, 2.0])["q"]
    assert fused == {"y": 2.0}
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([a, b], weights=[1.0])


def test_rrf_query_in_one_run_only():
    fused = reciprocal_rank_fusion([{"q1": {"a": 1.0}}, {"q2": {"b": 1.0}}], k=60)
    assert set(fused) == {"q1", "q2"}


def test_interpolation_of_min_max_scores():
    from pseudorel.retrieval.fusion import fuse

    sparse = {"q": {"a": 10.0, "b": 5.0, "c": 0.0}}
    dense = {"q": {"b": 0.9, "c": 0.8, "d": 0.1}}
    fused = fuse([sparse, dense], "interpolate", (0.5, 0.5))["q"]
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.5 * 0.875, "d": 0.0})
    assert list(fused) == ["b", "a", "c", "d"]
    with pytest.raises(ValueError, match="unknown fusion method"):
        fuse([sparse], "max")
