import math

import pytest

from pseudorel.evaluation import evaluate_run, paired_test

QRELS = {"q1": {"a": 2, "b": 1}, "q2": {"c": 1}, "q3": {"d": 1}}
RUN = {"q1": {"x": 3.0, "a": 2.0, "b": 1.0}, "q2": {"c": 1.0, "y": 0.5}}  # q3 missing


def test_metrics_hand_computed():
    ev = evaluate_run(QRELS, RUN)
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    q1 = ev.per_query["q1"]
    assert q1["nDCG@10"] == pytest.approx(dcg / idcg)
    assert q1["RR@10"] == pytest.approx(0.5)
    assert q1["R@10"] == pytest.approx(1.0)
    assert q1["AP@100"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert ev.per_query["q2"]["nDCG@10"] == pytest.approx(1.0)
    assert ev.per_query["q3"] == dict.fromkeys(ev.aggregate, 0.0)  # unretrieved query scores 0
    assert ev.aggregate["nDCG@10"] == pytest.approx((dcg / idcg + 1.0 + 0.0) / 3)
    assert ev.aggregate["RR@10"] == pytest.approx(0.5)


def test_cutoffs_respected():
    run = {"q2": {f"n{i}": 100.0 - i for i in range(10)} | {"c": 0.0}}
    ev = evaluate_run({"q2": {"c": 1}}, run, ("R@10", "R@100", "RR@10"))
    assert ev.aggregate == {"R@10": 0.0, "R@100": 1.0, "RR@10": 0.0}


def test_empty_run_scores_zero():
    assert evaluate_run(QRELS, {}).aggregate["nDCG@10"] == 0.0


def test_paired_tests():
    a = {f"q{i}": 0.2 + 0.01 * (i % 5) for i in range(40)}
    b = {q: v + 0.1 + 0.02 * (i % 3) for i, (q, v) in enumerate(a.items())}
    for method in ("randomization", "t"):
        test = paired_test(a, b, "m", method=method)
        assert test.p_value < 0.01
        assert test.delta == pytest.approx(sum(b.values()) / 40 - sum(a.values()) / 40)
    assert paired_test(a, a).p_value == 1.0
    noisy = {q: v + (0.05 if i % 2 else -0.05) for i, (q, v) in enumerate(a.items())}
    assert paired_test(a, noisy, method="randomization").p_value > 0.5
    with pytest.raises(ValueError):
        paired_test(a, b, method="wilcoxon-ish")
