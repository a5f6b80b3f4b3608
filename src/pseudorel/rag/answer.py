"""Ask the LLM: one answer per question, with documents or closed book; the verdict, its
probabilities and the answer's confidence come from the token log-probabilities."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pseudorel.llm.backend import CachedBackend, LLMError
from pseudorel.rag.prompts import TASKS, VERDICT_TOKENS, VERDICTS, messages
from pseudorel.writeback.citations import cited_positions


@dataclass(frozen=True)
class RagSettings:
    task: str = "claim"  # claim (verdict) or question (open answer)
    max_passage_words: int | None = 100
    max_tokens: int = 12  # claim: the verdict and its citations; raise it for open questions
    top_logprobs: int = 20
    parallel: int = 1  # requests in flight


@dataclass
class Answer:
    question_id: str
    text: str = ""
    verdict: str | None = None  # claim task
    probs: dict[str, float] = field(default_factory=dict)  # verdict -> probability
    confidence: float | None = None  # verdict: its probability; open answer: exp(mean token logprob)
    documents: list[str] = field(default_factory=list)  # the ids given to the LLM, in order
    cited: list[str] = field(default_factory=list)  # the ids the answer cites (always among documents)
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "seconds"}


def read_verdict(response: dict[str, Any]) -> tuple[str | None, dict[str, float], str]:
    """(verdict, probabilities over VERDICTS, answer text) from a chat response."""
    try:
        choice = response["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise LLMError("malformed response: no choices") from None
    text = str((choice.get("message") or {}).get("content") or "")
    mass = dict.fromkeys(VERDICTS, 0.0)
    content = (choice.get("logprobs") or {}).get("content") or []
    for entry in content[0].get("top_logprobs", []) if content else []:
        verdict = VERDICT_TOKENS.get(str(entry.get("token", "")).strip().lower())
        if verdict:
            mass[verdict] += math.exp(float(entry["logprob"]))
    total = sum(mass.values())
    if total > 0:
        probs = {v: p / total for v, p in mass.items()}
        return max(probs, key=probs.get), probs, text
    first = text.strip().split(maxsplit=1)[0].strip(".,:;!").lower() if text.strip() else ""
    if first in VERDICT_TOKENS:
        verdict = VERDICT_TOKENS[first]
        return verdict, {v: float(v == verdict) for v in VERDICTS}, text
    raise LLMError(f"answer has no verdict: {text[:40]!r}")


def sequence_confidence(response: dict[str, Any]) -> float | None:
    """exp(mean log-probability) of the answer's tokens, where the server returned them."""
    content = ((response.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
    values = [float(e["logprob"]) for e in content if "logprob" in e]
    return math.exp(sum(values) / len(values)) if values else None


class Answerer:
    """Answers questions with a chat backend (a ``CachedBackend`` makes a killed run resumable)."""

    def __init__(self, backend, settings: RagSettings | None = None):
        self.backend, self.settings = backend, settings or RagSettings()
        if self.settings.task not in TASKS:
            raise ValueError(f"unknown task '{self.settings.task}' (use {', '.join(TASKS)})")

    def request(self, question: str, passages: list[str] | None) -> dict[str, Any]:
        s = self.settings
        return {
            "messages": messages(s.task, question, passages, s.max_passage_words),
            "max_tokens": s.max_tokens if passages is not None or not TASKS[s.task].verdicts else 2,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": s.top_logprobs,
        }

    def answer(self, question_id: str, question: str, documents: list[tuple[str, str]] | None) -> Answer:
        """``documents``: (id, text) pairs given to the LLM, or None for a closed-book answer."""
        start = time.perf_counter()
        passages = None if documents is None else [text for _, text in documents]
        result = Answer(question_id, documents=[d for d, _ in documents or []])
        try:
            response = self._ask(self.request(question, passages))
            if TASKS[self.settings.task].verdicts:
                result.verdict, result.probs, result.text = read_verdict(response)
                result.confidence = result.probs[result.verdict]
            else:
                result.text = str(response["choices"][0]["message"]["content"])
                result.confidence = sequence_confidence(response)
        except (LLMError, KeyError, IndexError, TypeError) as e:
            result.error = str(e)
        positions = cited_positions(result.text, len(result.documents))
        result.cited = [result.documents[n - 1] for n in positions]
        result.seconds = time.perf_counter() - start
        return result

    def check(self) -> None:
        """One answer to a made-up question before the real work: :class:`LLMError` at once when
        the LLM is unreachable, errs or answers something this task cannot read."""
        result = self.answer("check", "check: is this server up?", [("check", "A passage saying it is up.")])
        if result.error is not None:
            raise LLMError(f"the LLM is not usable: {result.error}")

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:

        if isinstance(self.backend, CachedBackend) and TASKS[self.settings.task].verdicts:
            return self.backend.chat(request, usable=_has_verdict)
        return self.backend.chat(request)

    def answer_many(
        self, items: list[tuple[str, str, list[tuple[str, str]] | None]], max_seconds: float | None = None
    ) -> Iterator[Answer]:
        """Answers to (id, question, documents) items, in order; no new item starts after ``max_seconds``."""
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, self.settings.parallel)) as pool:
            window: list = []
            position = 0
            while position < len(items) or window:
                while position < len(items) and len(window) < max(1, self.settings.parallel):
                    if max_seconds is not None and time.perf_counter() - start > max_seconds:
                        position = len(items)
                        break
                    window.append(pool.submit(self.answer, *items[position]))
                    position += 1
                if window:
                    yield window.pop(0).result()


def _has_verdict(response: dict[str, Any]) -> bool:
    try:
        read_verdict(response)
    except LLMError:
        return False
    return True
