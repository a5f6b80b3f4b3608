"""pseudorel rag against the stub OpenAI-compatible server (its fact-checker mode) on a tiny
SciFact-like fixture: citations, resuming after a kill, the uncertainty gate, utility labels."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pseudorel.errors import InputError
from pseudorel.llm.backend import CachedBackend, ResponseCache
from pseudorel.llm.openai_http import OpenAIChatBackend
from pseudorel.rag.answer import Answer, Answerer, RagSettings, read_verdict
from pseudorel.rag.claims import read_claim_labels
from pseudorel.rag.gate import choose_threshold, gated
from tests.cli.test_cli import run_cli
from tests.llm import stub_server

CLAIMS = Path(__file__).parents[1] / "fixtures" / "claims"


@pytest.fixture
def stub():
    server, state, url = stub_server.start()
    yield state, url
    server.shutdown()


def read_answers(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rag_answers_cite_retrieved_documents(monkeypatch, capsys, tmp_path, stub):
    _, url = stub
    args = ["rag", "--dataset", str(CLAIMS), "--llm", url, "--retriever", "bm25", "--k", "2"]
    code, out, err = run_cli(monkeypatch, capsys, *args, "--output", str(tmp_path / "out"))
    assert code == 0, err
    answers = read_answers(tmp_path / "out" / "answers.jsonl")
    assert [a["question_id"] for a in answers] == ["t1", "t2", "t3", "t4", "t5"]
    assert all(set(a["cited"]) <= set(a["documents"]) and 1 <= len(a["documents"]) <= 2 for a in answers)
    by_id = {a["question_id"]: a for a in answers}
    assert by_id["t1"]["verdict"] == "SUPPORT" and by_id["t1"]["cited"] == ["c1"]
    assert by_id["t2"]["verdict"] == "CONTRADICT" and by_id["t2"]["cited"] == ["c3"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["metrics"]["accuracy"] == 1.0 and summary["metrics"]["evidence_recall_at_k"] == 1.0
    assert "verdict accuracy 1.000" in out
    code, out, err = run_cli(monkeypatch, capsys, *args, "--gate", "closed", "--output", str(tmp_path / "closed"))
    closed = json.loads((tmp_path / "closed" / "summary.json").read_text())
    assert code == 0 and closed["retrieval_calls"] == 0 and closed["metrics"]["accuracy"] < 1.0


@pytest.mark.fault("kill -9 during pseudorel rag", "the rerun asks only what was not answered")
def test_killed_rag_resumes_from_its_cache(tmp_path):
    server, state, url = stub_server.start(delay=0.4)
    try:
        env = {**os.environ, "PSEUDOREL_AUTO_FETCH": "0"}
        command = [sys.executable, "-m", "pseudorel", "rag", "--dataset", str(CLAIMS), "--llm", url]
        command += ["--retriever", "bm25", "--output", str(tmp_path / "out")]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while len(state.requests) < 2 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        asked_before = len(state.requests)
        assert 2 <= asked_before < 5 and not (tmp_path / "out" / "answers.jsonl").exists()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
        answers = read_answers(tmp_path / "out" / "answers.jsonl")
        assert len(answers) == 5 and all(a["error"] is None for a in answers)
        # what was answered before the kill (and the LLM check) came from the cache; at most the one
        # in flight was asked again: 5 answers + 1 check + 1
        assert 6 <= len(state.requests) <= 7
    finally:
        server.shutdown()


def test_gate_threshold_from_stub_logprobs(tmp_path, stub):
    _, url = stub
    backend = CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "c.sqlite"))
    answerer = Answerer(backend, RagSettings())
    corpus = {d["_id"]: d for d in map(json.loads, (CLAIMS / "corpus.jsonl").read_text().splitlines())}
    claims = {q["_id"]: q["text"] for q in map(json.loads, (CLAIMS / "queries.jsonl").read_text().splitlines())}
    docs = {"t1": "c1", "t2": "c3", "t3": "c2", "t4": "c4", "t5": "c6"}
    items = [(q, claims[q], None) for q in docs]
    closed = list(answerer.answer_many(items))
    opened = list(
        answerer.answer_many(
            [(q, claims[q], [(d, corpus[d]["title"] + " " + corpus[d]["text"])]) for q, d in docs.items()]
        )
    )
    assert [round(a.confidence, 2) for a in closed] == [0.5, 0.5, 0.5, 0.95, 0.5]
    choice = choose_threshold(closed, opened, max_disagreement=0.0)
    # only t4 ("known") is both confident and unchanged by retrieval: the gate skips it alone
    assert choice.threshold == pytest.approx(0.95) and choice.saved == pytest.approx(0.2)
    answers, saved = gated(closed, opened, choice.threshold)
    assert saved == pytest.approx(0.2) and answers[3] is closed[3] and answers[0] is opened[0]
    loose = choose_threshold(closed, opened, max_disagreement=1.0)
    assert loose.saved == 1.0 and loose.threshold == pytest.approx(0.5)


def test_choose_threshold_counts_changed_answers():
    def ans(q, verdict, conf=None):
        return Answer(q, verdict=verdict, confidence=conf)

    closed = [ans("a", "SUPPORT", 0.9), ans("b", "NEI", 0.8), ans("c", "SUPPORT", 0.4)]
    opened = [ans("a", "SUPPORT"), ans("b", "CONTRADICT"), ans("c", "SUPPORT")]
    assert choose_threshold(closed, opened, 0.0).threshold == 0.9  # skipping b would change its answer
    assert choose_threshold(closed, opened, 0.34).saved == 1.0  # one change in three is allowed


def test_utility_labels_on_a_document_that_flips_the_verdict(tmp_path, stub):
    from pseudorel.rag.utility import utility_labels

    _, url = stub
    backend = CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "c.sqlite"))
    corpus = {
        "flip": type("D", (), {"full_text": "Short sleep does not cause weight gain in adults."})(),
        "idle": type("D", (), {"full_text": "Green tea contains caffeine."})(),
    }
    labels = read_claim_labels(CLAIMS / "queries.jsonl")
    frame = utility_labels(
        Answerer(backend, RagSettings()),
        {"r2": "Short sleep causes weight gain.", "r1": "Regular exercise improves mood."},
        labels,
        {"r2": ["flip", "idle"]},
        corpus,
    )
    rows = frame.set_index("doc_id")
    assert list(frame["query_id"]) == ["r2", "r2"]  # r1 has no candidates here
    assert rows.loc["flip", "correct"] and not rows.loc["idle", "correct"]
    assert rows.loc["flip", "label"] == pytest.approx(0.9) and rows.loc["idle", "label"] == pytest.approx(0.25)
    assert rows.loc["flip", "delta"] == pytest.approx(0.65)  # closed book: P(false) = 0.25


def test_claim_labels_and_their_errors(tmp_path):
    labels = read_claim_labels(CLAIMS / "queries.jsonl")
    assert labels["t2"].verdict == "CONTRADICT" and labels["t2"].evidence == ("c3",)
    assert labels["t5"].verdict == "NEI" and labels["t5"].evidence == ()
    bad = tmp_path / "q.jsonl"
    bad.write_text(
        '{"_id": "a", "text": "x", "metadata": {"d": [{"label": "SUPPORT"}]}}\n{"_id": "b", "metadata": 3}\n'
    )
    with pytest.raises(InputError, match=r"q.jsonl:2"):
        read_claim_labels(bad)
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"_id": "a", "text": "x"}\n')
    assert read_claim_labels(plain) == {}


def test_verdict_from_text_when_the_server_gives_no_logprobs():
    verdict, probs, text = read_verdict({"choices": [{"message": {"content": "False [2]"}}]})
    assert verdict == "CONTRADICT" and probs["CONTRADICT"] == 1.0 and text == "False [2]"


def test_rag_write_back_through_the_gates(monkeypatch, capsys, tmp_path, stub):
    from pseudorel.system.written_log import WrittenLog, live_documents

    _, url = stub
    args = ["rag", "--dataset", str(CLAIMS), "--llm", url, "--retriever", "bm25", "--k", "2", "--task", "question"]
    code, out, err = run_cli(
        monkeypatch, capsys, *args, "--write-back", "--state", str(tmp_path / "state"), "--output", str(tmp_path / "o")
    )
    assert code == 0, err
    decisions = [json.loads(line) for line in (tmp_path / "state" / "decisions.jsonl").read_text().splitlines()]
    assert len(decisions) == 5 and all(
        {g["gate"] for g in d["gates"]} == {"entailment", "attribution", "novelty"} for d in decisions
    )
    written = live_documents(WrittenLog(tmp_path / "state").records())
    accepted = [d for d in decisions if d["accepted"]]
    assert accepted and len(written) == len(accepted) and f"{len(accepted)} of 5 answers passed" in out
    for d in accepted:  # a two-source answer: each sentence reworded from the document it cites
        assert written[d["doc_id"]]["provenance"]["cited"] == d["cited"] and len(d["cited"]) == 2
    assert all(not d["accepted"] for d in decisions if len(d["retrieved"]) < 2)  # one source: a duplicate of it
    code, _, err = run_cli(monkeypatch, capsys, *args[:-2], "--write-back", "--output", str(tmp_path / "x"))
    assert code == 2 and "--task question" in err
