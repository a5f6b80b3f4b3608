"""SmolLM2-135M through xllamacpp: a smoke test of the local backend (the model judges at chance)."""

from pseudorel.llm.local_gguf import LocalGGUFBackend
from pseudorel.teachers.llm_judge import JudgeSettings, LLMJudge


def test_smollm2_judges_with_token_probabilities():
    backend = LocalGGUFBackend("smollm2-135m", n_ctx=512, threads=2)
    judge = LLMJudge(backend, JudgeSettings(max_passage_words=40))
    result = judge.judge("vitamin d and bones", "Vitamin D deficiency weakens bones.")
    assert result.error is None
    assert 0.0 <= result.label <= 1.0
    assert backend.model_id.startswith("gguf:SmolLM2-135M-Instruct.Q4_1.gguf:")
