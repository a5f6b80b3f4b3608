"""A pool of OpenAI-compatible servers serving one model (several vLLM or llama.cpp servers):
requests are spread round-robin, and a server that fails a request is passed over for the
next one, so judging keeps going while any server answers. With the judge's ``parallel``
requests in flight, N servers work at once."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from pseudorel.llm.backend import LLMError


def pool_urls(spec: str) -> list[str] | None:
    """The URLs of a comma-separated spec of two or more http(s) servers, else None."""
    urls = [u.strip() for u in spec.split(",") if u.strip()]
    if len(urls) < 2:
        return None
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise LLMError(f"'{bad[0]}': a pool of servers takes http(s) URLs only")
    return urls


class EndpointPool:
    """``chat`` (chat backends) or ``logprobs`` (query-likelihood scorers) on the next member."""

    def __init__(self, members: list):
        self.members = members
        # the pool's answers are one model's: the cache key does not depend on which server answered
        self.model_id = "pool:" + "|".join(sorted(m.model_id for m in members))
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.answered = [0] * len(members)

    def _call(self, method: str, *args) -> Any:
        with self._lock:
            first = next(self._turn) % len(self.members)
        errors = []
        for step in range(len(self.members)):
            index = (first + step) % len(self.members)
            try:
                result = getattr(self.members[index], method)(*args)
            except LLMError as e:
                errors.append(str(e))
                continue
            with self._lock:
                self.answered[index] += 1
            return result
        raise LLMError(f"every server of the pool failed: {'; '.join(errors)}")

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._call("chat", request)

    def logprobs(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        return self._call("logprobs", pairs)
