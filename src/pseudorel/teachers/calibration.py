"""Map raw teacher scores to probabilities, fitted without qrels, and measure calibration error.

Fitting data is label-free: for synthetic queries the source document is the positive and
the other mined candidates are negatives. Calibration error is reported only where human
judgments exist (benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PlattCalibrator:
    """p = sigmoid(a * score + b) (Platt 1999), fitted by regularised logistic regression."""

    a: float = 1.0
    b: float = 0.0

    def fit(self, scores: np.ndarray, labels: np.ndarray) -> PlattCalibrator:
        from sklearn.linear_model import LogisticRegression

        scores, labels = np.asarray(scores, float), np.asarray(labels, int)
        if len(np.unique(labels)) < 2:
            raise ValueError("calibration needs both positive and negative examples")
        std = scores.std() or 1.0
        model = LogisticRegression(C=1.0).fit((scores / std)[:, None], labels)
        self.a = float(model.coef_[0, 0] / std)
        self.b = float(model.intercept_[0])
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(scores, float) + self.b)))


@dataclass
class IsotonicCalibrator:
    """A monotone step function (Zadrozny and Elkan 2002); needs more fitting data than Platt."""

    def fit(self, scores: np.ndarray, labels: np.ndarray) -> IsotonicCalibrator:
        from sklearn.isotonic import IsotonicRegression

        self._model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        self._model.fit(np.asarray(scores, float), np.asarray(labels, float))
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return self._model.predict(np.asarray(scores, float))


CALIBRATORS = {"platt": PlattCalibrator, "isotonic": IsotonicCalibrator}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: sum over equal-width bins of |mean prob - fraction positive|, weighted by bin size."""
    probs, labels = np.asarray(probs, float), np.asarray(labels, float)
    if not len(probs):
        return float("nan")
    edges = np.minimum((probs * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = edges == b
        if mask.any():
            error += mask.mean() * abs(probs[mask].mean() - labels[mask].mean())
    return float(error)
