import numpy as np
import pytest

from pseudorel.teachers.calibration import IsotonicCalibrator, PlattCalibrator, expected_calibration_error
from pseudorel.teachers.combine import combine_probs, select_for_judging


def test_platt_is_monotone_and_fits_rates():
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(2, 1, 500), rng.normal(-2, 1, 500)])
    labels = np.concatenate([np.ones(500), np.zeros(500)])
    cal = PlattCalibrator().fit(scores, labels)
    probs = cal.predict(np.array([-3.0, 0.0, 3.0]))
    assert probs[0] < 0.1 < probs[1] < 0.9 < probs[2]
    assert expected_calibration_error(cal.predict(scores), labels) < 0.05
    with pytest.raises(ValueError):
        PlattCalibrator().fit(scores, np.ones_like(labels))


def test_isotonic_steps():
    cal = IsotonicCalibrator().fit(np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1]))
    assert list(cal.predict(np.array([-1, 0.5, 2.5, 10]))) == [0, 0, 1, 1]


def test_ece_hand_computed():
    probs = np.array([0.1, 0.1, 0.9, 0.9])
    labels = np.array([0, 1, 1, 1])
    # bin 1: mean prob 0.1, rate 0.5 -> 0.4 * 0.5; bin 9: 0.9 vs 1.0 -> 0.1 * 0.5
    assert expected_calibration_error(probs, labels) == pytest.approx(0.25)


def test_combine_ignores_missing_opinions():
    out = combine_probs({"a": np.array([0.2, np.nan, np.nan]), "b": np.array([0.6, 0.4, np.nan])}, {"b": 3.0})
    assert out[0] == pytest.approx((0.2 + 3 * 0.6) / 4)
    assert out[1] == pytest.approx(0.4)
    assert np.isnan(out[2])


def test_selection_policies():
    probs = np.array([0.01, 0.49, 0.9, 0.55, np.nan])
    assert list(select_for_judging(probs, 2, "uncertain")) == [1, 4]
    random_pick = select_for_judging(probs, 3, "random", seed=1)
    assert len(set(random_pick)) == 3 and list(random_pick) == sorted(random_pick)
    assert len(select_for_judging(probs, 99)) == 5
