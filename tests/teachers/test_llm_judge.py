import math

import pytest

from pseudorel.llm import CachedBackend, LLMError, OpenAIChatBackend, ResponseCache
from pseudorel.teachers.llm_judge import JudgeSettings, LLMJudge, build_request, parse_label
from tests.llm import stub_server


@pytest.fixture
def stub():
    servers = []

    def start(mode="grade"):
        server, state, url = stub_server.start(mode)
        servers.append(server)
        return state, url

    yield start
    for server in servers:
        server.shutdown()


def logprob_response(probs: dict[str, float]) -> dict:
    top = [{"token": t, "logprob": math.log(p)} for t, p in probs.items()]
    return {"choices": [{"message": {"content": "x"}, "logprobs": {"content": [{"top_logprobs": top}]}}]}


def test_expected_grade_from_token_probabilities():
    response = logprob_response({"3": 0.5, " 1": 0.2, "0": 0.1, "The": 0.2})
    # renormalised over grade tokens: (3*0.5 + 1*0.2 + 0*0.1) / 0.8, divided by 3
    assert parse_label(response, "graded") == pytest.approx((1.5 + 0.2) / 0.8 / 3)
    assert parse_label(logprob_response({"Yes": 0.6, "no": 0.2}), "binary") == pytest.approx(0.75)


def test_text_fallback_and_not_a_grade():
    text_only = {"choices": [{"message": {"content": " 2\n"}}]}
    assert parse_label(text_only, "graded") == pytest.approx(2 / 3)
    with pytest.raises(LLMError, match="answer is not a grade: 'i think so'"):
        parse_label({"choices": [{"message": {"content": "I think so"}}]}, "graded")
    with pytest.raises(LLMError, match="no choices"):
        parse_label({}, "graded")


def test_request_truncates_and_frames_domain():
    request = build_request("q", "word " * 500, JudgeSettings(domain="claim", max_passage_words=10))
    system, user = (m["content"] for m in request["messages"])
    assert "claim" in system and "3 = the abstract directly supports or refutes the claim" in system
    assert user.startswith("Claim: q\nAbstract: word") and user.count("word") == 10
    assert request["max_tokens"] == 1 and request["logprobs"] is True


def test_judge_against_stub_server(stub):
    state, url = stub()
    judge = LLMJudge(OpenAIChatBackend(url, "stub"), JudgeSettings(parallel=3))
    pairs = [("vitamin bones", "vitamin keeps bones strong"), ("vitamin bones", "coffee liver"), ("salt", "")]
    results = dict(judge.judge_many(pairs))
    assert results[0].label > 0.8 > 0.2 > results[1].label
    assert results[2].label is None and results[2].error == "empty document"
    assert len(state.requests) == 2  # the empty document was never sent


def test_unreachable_server_recorded_not_raised():
    backend = OpenAIChatBackend("http://127.0.0.1:9/v1", "stub", retries=1, backoff=0.01)
    result = LLMJudge(backend).judge("q", "passage")
    assert result.label is None and "request failed after 2 attempt(s)" in result.error


def test_server_errors_and_garbage_are_retried_then_recorded(stub):
    state, url = stub("error")
    result = LLMJudge(OpenAIChatBackend(url, "stub", retries=2, backoff=0.01), retries=0).judge("q", "p")
    assert "HTTP 500" in result.error and len(state.requests) == 3
    state, url = stub("garbage")
    result = LLMJudge(OpenAIChatBackend(url, "stub"), retries=1).judge("q", "p")
    assert result.error.startswith("answer is not a grade") and len(state.requests) == 2


def test_response_cache_answers_repeats(stub, tmp_path):
    state, url = stub()
    cache = ResponseCache(tmp_path / "llm.sqlite")
    judge = LLMJudge(CachedBackend(OpenAIChatBackend(url, "stub"), cache))
    first = judge.judge("vitamin", "vitamin d")
    again = LLMJudge(CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "llm.sqlite")))
    assert again.judge("vitamin", "vitamin d").label == first.label
    assert len(state.requests) == 1 and len(cache) == 1


def test_time_budget_stops_new_pairs(stub):
    _, url = stub()
    judge = LLMJudge(OpenAIChatBackend(url, "stub"))
    assert list(judge.judge_many([("a b c", "a b")] * 5, max_seconds=0.0)) == []
    assert len(list(judge.judge_many([("a b c", "a b")] * 5, max_seconds=60.0))) == 5
