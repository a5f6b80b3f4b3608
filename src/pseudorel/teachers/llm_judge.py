"""LLM relevance judge: one forward pass per pair, a soft label from the answer token's probabilities.

Graded: E[g] = sum_g g * p(g) / 3 over the tokens "0".."3" (renormalised), a label in [0, 1]
(UMBRELA, Upadhyay et al. 2024; BiXSE trains on exactly such targets). Binary: P(yes) / (P(yes) + P(no)).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Any

from pseudorel.llm.backend import CachedBackend, ChatBackend, LLMError
from pseudorel.teachers.prompts import system_prompt, truncate_words, user_prompt

GRADE_TOKENS = {"graded": {"0": 0.0, "1": 1 / 3, "2": 2 / 3, "3": 1.0}, "binary": {"yes": 1.0, "no": 0.0}}


@dataclass(frozen=True)
class JudgeSettings:
    scale: str = "graded"  # graded (0-3) or binary (yes/no)
    domain: str = "generic"  # generic, claim, question, topic: how the task is framed
    max_passage_words: int | None = 120
    top_logprobs: int = 20
    parallel: int = 1  # requests in flight (server slots)
    max_consecutive_failures: int = 5  # then the server is taken for dead and the run stops


@dataclass(frozen=True)
class Judgment:
    label: float | None  # soft label in [0, 1]; None when the pair failed
    error: str | None = None
    seconds: float = 0.0


def build_request(query: str, passage: str, settings: JudgeSettings) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": system_prompt(settings.domain, settings.scale)},
            {
                "role": "user",
                "content": user_prompt(settings.domain, query, truncate_words(passage, settings.max_passage_words)),
            },
        ],
        "max_tokens": 1,
        "temperature": 0.0,
        "logprobs": True,
        "top_logprobs": settings.top_logprobs,
    }


def parse_label(response: dict[str, Any], scale: str) -> float:
    """Soft label from the first answer token's top logprobs, else from the answer text."""
    values = GRADE_TOKENS[scale]
    try:
        choice = response["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise LLMError("malformed response: no choices") from None
    mass: dict[str, float] = {}
    content = (choice.get("logprobs") or {}).get("content") or []
    for entry in content[0].get("top_logprobs", []) if content else []:
        token = str(entry.get("token", "")).strip().lower()
        if token in values:
            mass[token] = mass.get(token, 0.0) + math.exp(float(entry["logprob"]))
    total = sum(mass.values())
    if total > 0:
        return sum(values[t] * p for t, p in mass.items()) / total
    text = str((choice.get("message") or {}).get("content") or "").strip().lower()
    if text in values:
        return values[text]
    raise LLMError(f"answer is not a grade: {text[:40]!r}")


class LLMJudge:
    """Judges (query, passage) pairs with a chat backend; failures are recorded, not raised."""

    def __init__(self, backend: ChatBackend, settings: JudgeSettings | None = None, retries: int = 1):
        self.backend = backend
        self.settings = settings or JudgeSettings()
        self.retries = retries

    def judge(self, query: str, passage: str) -> Judgment:
        start = time.perf_counter()
        if not passage.strip():
            return Judgment(None, "empty document", 0.0)
        request = build_request(query, passage, self.settings)
        error = ""
        for _ in range(self.retries + 1):
            try:
                label = parse_label(self._ask(request), self.settings.scale)
                return Judgment(label, None, time.perf_counter() - start)
            except LLMError as e:
                error = str(e)
        return Judgment(None, error, time.perf_counter() - start)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:

        if isinstance(self.backend, CachedBackend):
            return self.backend.chat(request, usable=self._usable)
        return self.backend.chat(request)

    def _usable(self, response: dict[str, Any]) -> bool:
        try:
            parse_label(response, self.settings.scale)
        except LLMError:
            return False
        return True

    def check(self) -> None:
        """One judgment of a made-up pair before the real work: raise :class:`LLMError` at once
        when the server is unreachable, errs or answers something that is not a grade."""
        judgment = self.judge("check: is this server up", "check: a passage about whether the server is up")
        if judgment.label is None:
            raise LLMError(f"the LLM judge is not usable: {judgment.error}")

    def judge_many(
        self,
        pairs: Iterable[tuple[str, str]],
        max_seconds: float | None = None,
        on_result: Callable[[int, Judgment], None] | None = None,
    ) -> Iterator[tuple[int, Judgment]]:
        """Yield (index, judgment) as pairs finish, in order; stop starting new pairs after ``max_seconds``."""
        start = time.perf_counter()
        pairs = list(pairs)
        window = max(1, self.settings.parallel)
        pool = ThreadPoolExecutor(max_workers=window)
        failures = 0
        try:
            pending = []
            next_index = 0
            while next_index < len(pairs) or pending:
                out_of_time = max_seconds is not None and time.perf_counter() - start > max_seconds
                while not out_of_time and next_index < len(pairs) and len(pending) < window:
                    query, passage = pairs[next_index]
                    pending.append((next_index, pool.submit(self.judge, query, passage)))
                    next_index += 1
                if not pending:
                    break
                index, future = pending.pop(0)
                left = None if max_seconds is None else max(0.0, max_seconds - (time.perf_counter() - start))
                try:  # a request in flight is not waited for past the time budget
                    judgment = future.result(timeout=left)
                except FuturesTimeout:
                    break
                failures = failures + 1 if judgment.label is None else 0
                if failures >= self.settings.max_consecutive_failures:
                    raise LLMError(
                        f"the LLM judge failed {failures} times in a row (last: {judgment.error}); the answers "
                        "received so far are cached: fix the server and run again to resume"
                    )
                if on_result is not None:
                    on_result(index, judgment)
                yield index, judgment
        finally:  # on an error, Ctrl-C or the budget: drop queued pairs, do not wait for a hung request
            pool.shutdown(wait=False, cancel_futures=True)
