"""The query-likelihood teacher against the stub completions server and a tiny random causal LM."""

from __future__ import annotations

import numpy as np
import pytest

from pseudorel.llm.backend import LLMError, ResponseCache
from pseudorel.llm.completions_http import OpenAICompletionsScorer, continuation_logprobs
from pseudorel.teachers.query_likelihood import QLSettings, QueryLikelihoodTeacher, ql_prompt
from tests.llm import stub_server

RELEVANT = "Aspirin lowers the risk of heart attacks in adults."
UNRELATED = "Glaciers in the Alps retreated during the last century."


@pytest.fixture
def stub():
    server, state, url = stub_server.start()
    yield state, url
    server.shutdown()


def test_relevant_passages_score_higher_and_scores_are_cached(stub, tmp_path):
    state, url = stub
    cache = ResponseCache(tmp_path / "ql.sqlite")
    teacher = QueryLikelihoodTeacher(OpenAICompletionsScorer(url, "stub"), QLSettings(batch_size=2), cache)
    query = "does aspirin lower heart attack risk"
    scores = teacher.score([query, query], [RELEVANT, UNRELATED], progress=False)
    assert scores[0] > scores[1]
    assert state.requests[0]["echo"] is True and state.requests[0]["prompt"].endswith("Question: " + query)
    asked = len(state.requests)
    again = teacher.score([query, query], [RELEVANT, UNRELATED], progress=False)
    assert np.array_equal(scores, again) and len(state.requests) == asked  # served from the cache


def test_the_query_is_scored_after_the_prompt_and_only_the_query():
    prompt = ql_prompt("alpha beta gamma", "claim")
    response = stub_server.echo_logprobs(prompt + " beta zzz")
    assert continuation_logprobs(response, prompt, " beta zzz") == [-1.0, -5.0]
    with pytest.raises(LLMError, match="echo"):
        continuation_logprobs({"choices": [{"text": "x"}]}, prompt, " q")


def test_a_dead_server_fails_the_check_at_once():
    server, _, url = stub_server.start("error")
    try:
        teacher = QueryLikelihoodTeacher(OpenAICompletionsScorer(url, "stub", retries=0))
        with pytest.raises(LLMError, match=r"not usable.*HTTP 500"):
            teacher.check()
    finally:
        server.shutdown()


def test_time_budget_leaves_the_rest_unscored(stub):
    _, url = stub
    teacher = QueryLikelihoodTeacher(OpenAICompletionsScorer(url, "stub"), QLSettings(batch_size=1))
    scores = teacher.score(["aspirin"] * 3, [RELEVANT] * 3, max_seconds=0.0, progress=False)
    assert np.isnan(scores).all()


@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory, tiny_model_path):
    """A random 2-layer Llama with the tiny bi-encoder's WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_local_causal_lm_batches_give_the_same_scores_as_single_pairs(tiny_causal_lm):
    from pseudorel.llm.causal_lm import CausalLMScorer

    scorer = CausalLMScorer(str(tiny_causal_lm), batch_size=3, bf16=False)
    pairs = [(ql_prompt(RELEVANT), " aspirin"), (ql_prompt(UNRELATED), " the risk of heart"), ("short", " x y")]
    batched = scorer.logprobs(pairs)
    single = [scorer.logprobs([pair])[0] for pair in pairs]
    assert [len(v) for v in batched] == [
        len(scorer.tokenizer(c, add_special_tokens=False)["input_ids"]) for _, c in pairs
    ]
    for a, b in zip(batched, single, strict=True):
        assert np.allclose(a, b, atol=1e-4)
    assert all(v < 0 for row in batched for v in row)


def test_a_missing_local_model_is_a_clear_error(tmp_path):
    from pseudorel.llm.causal_lm import CausalLMScorer

    with pytest.raises(LLMError, match="no such model"):
        CausalLMScorer(str(tmp_path / "nothing"))
