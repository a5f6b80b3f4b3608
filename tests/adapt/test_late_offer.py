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


def test_a_slower_teacher_reads_fewer_documents_and_the_reason_says_the_wait():
    late, why = late_stage(SETTINGS, teacher_rate=0.34)  # an AVX2-only CPU on long documents
    assert late == LateStage("big", 10)  # 10 documents: about 29 s, within the limit
    assert "about 59 s, over the 30 s limit" in why and "depth lowered to 10 (about 29 s)" in why
    assert late_stage(replace(SETTINGS, late_max_seconds=None), 0.34) == (LateStage("big", 20), None)


def test_a_teacher_too_slow_for_one_page_is_not_offered():
    late, why = late_stage(SETTINGS, teacher_rate=0.2)  # 10 documents would take 50 s
    assert late is None and "about 100 s, over the 30 s limit" in why and "lowered" not in why
    asked_five = replace(SETTINGS, late_depth=5)  # a user's own shallow depth is kept if it fits
    assert late_stage(asked_five, teacher_rate=0.2) == (LateStage("big", 5), None)


def test_the_command_says_what_was_left_out(capsys, tmp_path):
    from pseudorel.cli.adapt import print_outcome
    from pseudorel.report.run_report import RunReport, SystemChoice

    report = RunReport(
        teacher={"retrievers": ["bm25", "big"], "mode": "sampled", "reason": "slow"},
        late_lowered="big reads 0.34 documents/s here; depth lowered to 10",
        system=SystemChoice(shipped="bm25+base, big@10"),
    )
    print_outcome(report, tmp_path, reranker=True)
    out = capsys.readouterr().out
    assert "late stage: depth lowered: big reads 0.34" in out and f"reranker: {tmp_path / 'reranker'}" in out
    report.reranker_skipped, report.late_lowered, report.late_skipped = "no reader", None, "--late-depth 0"
    print_outcome(report, tmp_path, reranker=True)
    out = capsys.readouterr().out
    assert "reranker: not trained: no reader" in out and "late stage: not offered: --late-depth 0" in out
    assert f"reranker: {tmp_path / 'reranker'}" not in out and "lowered" not in out


def test_depth_zero_or_no_expensive_teacher_offers_nothing():
    assert late_stage(replace(SETTINGS, late_depth=0), 3.0) == (None, "--late-depth 0")
    cheap = replace(SETTINGS, labels=LabelSettings(retrievers=("bm25", "dense:base")))
    assert late_stage(cheap, 3.0) == (None, None)
