"""Token log-probabilities of a text from any OpenAI-compatible completions server that echoes
the prompt's logprobs (vLLM: ``/v1/completions`` with ``echo`` and ``logprobs``)."""

from __future__ import annotations

from typing import Any

from pseudorel.llm.backend import LLMError
from pseudorel.llm.openai_http import post_json


def continuation_logprobs(response: dict[str, Any], prompt: str, continuation: str) -> list[float]:
    """The logprobs of the tokens that start inside ``continuation`` (after ``prompt``), read
    from an echoed completion's ``logprobs`` (``tokens``, ``token_logprobs``, ``text_offset``)."""
    try:
        logprobs = response["choices"][0]["logprobs"]
        offsets, values = logprobs["text_offset"], logprobs["token_logprobs"]
        if len(offsets) != len(values):
            raise LLMError("the server's echoed logprobs and offsets differ in length")
    except (KeyError, IndexError, TypeError):
        raise LLMError("the server did not echo the prompt's logprobs (it needs echo and logprobs)") from None
    start, end = len(prompt), len(prompt) + len(continuation)
    picked = [v for offset, v in zip(offsets, values, strict=True) if start <= offset < end]
    if not picked or any(v is None for v in picked):
        raise LLMError("the server's echoed logprobs do not cover the query")
    return [float(v) for v in picked]


class OpenAICompletionsScorer:
    """POSTs ``{base_url}/completions`` with ``echo: true, logprobs: 1, max_tokens: 1``."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0, retries: int = 2):
        self.url = base_url.rstrip("/") + "/completions"
        self.model, self.api_key, self.timeout, self.retries = model, api_key, timeout, retries
        self.model_id = f"openai-completions:{base_url.rstrip('/')}:{model}"

    def logprobs(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        """Per (prompt, continuation): the continuation's token logprobs given the prompt."""
        out = []
        for prompt, continuation in pairs:
            payload = {
                "model": self.model,
                "prompt": prompt + continuation,
                "echo": True,
                "logprobs": 1,
                "max_tokens": 1,
                "temperature": 0.0,
            }
            response = post_json(self.url, payload, self.api_key, self.timeout, self.retries, backoff=1.0)
            out.append(continuation_logprobs(response, prompt, continuation))
        return out
