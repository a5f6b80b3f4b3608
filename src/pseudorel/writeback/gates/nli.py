"""Entailment scores P(premise entails hypothesis), from the LLM judge used as an NLI model
(yes/no, the answer token's probability) or any callable, e.g. an NLI cross-encoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pseudorel.llm.backend import LLMError
from pseudorel.teachers.llm_judge import parse_label

NLI_SYSTEM = (
    "You check facts. Given a passage and a statement, answer yes if the passage states or directly "
    "implies the statement, and no otherwise (also no if the statement adds facts the passage does not "
    "give). Answer with one word: yes or no."
)

Entailment = Callable[[str, str], float]


def p_yes(response: dict[str, Any]) -> float:
    """P(yes) / (P(yes) + P(no)) from the first answer token's top logprobs (the judge's binary
    reading), else from the answer text ("Yes." counts)."""
    try:
        return parse_label(response, "binary")
    except LLMError:
        choice = (response.get("choices") or [{}])[0]
        text = str((choice.get("message") or {}).get("content") or "").strip().lower()
        if text.startswith(("yes", "no")):
            return float(text.startswith("yes"))
        raise LLMError(f"the entailment answer is neither yes nor no: {text[:40]!r}") from None


class LLMEntailment:
    """An LLM chat backend as an NLI model (cache it: each (premise, hypothesis) is asked once)."""

    def __init__(self, backend, max_premise_words: int = 200):
        self.backend, self.max_premise_words = backend, max_premise_words

    def __call__(self, premise: str, hypothesis: str) -> float:
        words = premise.split()
        premise = " ".join(words[: self.max_premise_words])
        request = {
            "messages": [
                {"role": "system", "content": NLI_SYSTEM},
                {"role": "user", "content": f"Passage: {premise}\nStatement: {hypothesis}\nAnswer:"},
            ],
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": 20,
        }
        return p_yes(self.backend.chat(request))
