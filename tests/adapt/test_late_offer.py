"""Sampled mode offers the teacher at search time only where a cold search stays within the limit."""

from __future__ import annotations

from dataclasses import replace

from pseudorel.adapt import AdaptSettings
from pseudorel.adapt.steps import late_stage
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.system.spec import LateStage

SETTINGS = AdaptSettings(labels=LabelSettings(retrievers=("bm25", "dense:base", "dense:big")))


def test_a_fast_teacher_is_offered_at_the_default_depth():
    assert late_stage(SETTINGS, teacher_rate=3.0) == (LateStage("big", 20), None)
    assert late_stage(SETTINGS, teacher_rate=None)[0] == LateStage("big", 20)  # not measured: offered


def test_a_slow_teacher_is_not_offered_and_the_reason_says_the_wait():
    late, why = late_stage(SETTINGS, teacher_rate=0.34)  # an AVX2-only CPU on long documents
    assert late is None and "about 59 s, over the 30 s limit" in why
    assert late_stage(replace(SETTINGS, late_max_seconds=None), 0.34)[0] == LateStage("big", 20)


def test_depth_zero_or_no_expensive_teacher_offers_nothing():
    assert late_stage(replace(SETTINGS, late_depth=0), 3.0) == (None, "--late-depth 0")
    cheap = replace(SETTINGS, labels=LabelSettings(retrievers=("bm25", "dense:base")))
    assert late_stage(cheap, 3.0) == (None, None)
