"""auto picks the fastest backend whose scores rank like fp32's, once per machine and model."""

from __future__ import annotations

import numpy as np
import pytest

from pseudorel.retrieval import calibration
from pseudorel.retrieval.calibration import calibrate, choose_backend, rank_agreement
from pseudorel.retrieval.models import load_bi_encoder

DOCS = [f"document {i} about wings and lift at speed {i}" for i in range(16)]


def fake_measure(rates: dict[str, float], scrambled: set[str], timed_calls: list | None = None):
    reference = np.random.default_rng(0).normal(size=(16, 16))

    def measure(model, backend, documents, queries, timed=True):
        if timed and timed_calls is not None:
            timed_calls.append(backend)
        scores = reference + 1e-4 * np.random.default_rng(1).normal(size=reference.shape)
        if backend in scrambled:
            scores = np.random.default_rng(2).permutation(reference.T).T  # other documents' scores
        return rates[backend], scores

    return measure


def test_picks_the_faster_of_two_and_refuses_one_that_disagrees(tiny_model_path):
    model = load_bi_encoder(str(tiny_model_path))
    rates = {"torch-fp32": 10.0, "onnx-fp32": 25.0, "onnx-int8": 60.0}
    choice = calibrate(model, DOCS, ("torch-fp32", "onnx-fp32", "onnx-int8"), fake_measure(rates, {"onnx-int8"}))
    assert choice.backend == "onnx-fp32"
    assert "onnx-int8" in choice.refused and choice.agreement["onnx-int8"] < calibration.AGREEMENT_MIN
    assert "over 2.5x PyTorch fp32 (its first pass)" in choice.reason  # fp32 lost: not timed again

    slower = {**rates, "onnx-fp32": 5.0}
    assert calibrate(model, DOCS, ("torch-fp32", "onnx-fp32"), fake_measure(slower, set())).backend == "torch-fp32"


def test_slow_backends_are_left_after_their_first_pass(tiny_model_path):
    model = load_bi_encoder(str(tiny_model_path))
    rates = {"torch-fp32": 10.0, "torch-bf16": 30.0, "openvino": 40.0, "onnx-fp32": 8.0, "onnx-int8": 20.0}
    timed: list[str] = []
    choice = calibrate(model, DOCS, tuple(rates), fake_measure(rates, set(), timed))
    assert choice.backend == "openvino" and timed == ["torch-bf16", "openvino"]
    assert "onnx-fp32 (8.0/s)" in choice.reason  # slower on its first pass
    assert choice.refused["onnx-int8"].startswith("not tried")  # 3x ONNX fp32 < openvino
    close = {**rates, "torch-fp32": 25.0}  # fp32 within 2x of the best: timed, and the ratio exact
    timed.clear()
    choice = calibrate(model, DOCS, tuple(rates), fake_measure(close, set(), timed))
    assert timed[-1] == "torch-fp32" and "1.60x PyTorch fp32" in choice.reason


def test_a_backend_that_fails_is_refused_not_fatal(tiny_model_path):
    model = load_bi_encoder(str(tiny_model_path))
    good = fake_measure({"torch-fp32": 10.0}, set())

    def measure(model, backend, documents, queries, timed=True):
        if backend == "openvino":
            raise RuntimeError("no CPU plugin")
        return good(model, backend, documents, queries, timed)

    choice = calibrate(model, DOCS, ("torch-fp32", "openvino"), measure)
    assert choice.backend == "torch-fp32" and "no CPU plugin" in choice.refused["openvino"]


def test_choice_is_measured_once_per_machine_and_model(tiny_model_path, monkeypatch):
    monkeypatch.delenv("PSEUDOREL_BACKEND")
    monkeypatch.setattr(calibration, "available_backends", lambda: ("torch-fp32", "onnx-fp32"))
    calls = []
    real = calibration.calibrate

    def counting(model, documents, candidates=None, measure=None):
        calls.append(candidates)
        return real(model, documents, candidates, fake_measure({"torch-fp32": 1.0, "onnx-fp32": 3.0}, set()))

    monkeypatch.setattr(calibration, "calibrate", counting)
    model = load_bi_encoder(str(tiny_model_path))
    assert choose_backend(model, DOCS).backend == "onnx-fp32"
    assert choose_backend(load_bi_encoder(str(tiny_model_path)), DOCS[:3]).backend == "onnx-fp32"
    assert len(calls) == 1
    monkeypatch.setenv("PSEUDOREL_BACKEND", "torch-fp32")  # pseudorel --backend overrides the measurement
    assert choose_backend(model, DOCS).reason == "torch-fp32: as requested"


def test_real_calibration_on_the_tiny_model(tiny_model_path, monkeypatch):
    monkeypatch.delenv("PSEUDOREL_BACKEND")
    choice = choose_backend(load_bi_encoder(str(tiny_model_path)), DOCS)
    assert choice.backend in choice.docs_per_second and choice.backend not in choice.refused
    assert choice.agreement["torch-fp32"] == 1.0
    measured = set(choice.agreement) | {b for b, why in choice.refused.items() if "not tried" in why}
    assert measured | set(choice.docs_per_second) >= {"torch-fp32", "onnx-fp32", "openvino"}  # each one looked at
    assert all(v > 0.99 for b, v in choice.agreement.items() if b != "onnx-int8")  # fp32 arithmetic elsewhere


def test_rank_agreement():
    a = np.arange(12.0).reshape(3, 4)
    assert rank_agreement(a, a * 2 + 1) == 1.0
    assert rank_agreement(a, -a) == -1.0


def test_little_work_runs_the_default_unmeasured(tiny_model_path, monkeypatch):
    monkeypatch.delenv("PSEUDOREL_BACKEND")
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: pytest.fail("calibrated for a few texts"))
    model = load_bi_encoder(str(tiny_model_path))
    choice = choose_backend(model, DOCS, work=200)
    assert choice.backend == calibration.default_backend() and "too little to be worth measuring" in choice.reason
    monkeypatch.setattr(calibration, "CALIBRATE_ABOVE_S", 0.0)  # a long job: measured after all
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: calibration.BackendChoice("onnx-fp32", "measured"))
    assert choose_backend(model, DOCS, work=10**9).backend == "onnx-fp32"
