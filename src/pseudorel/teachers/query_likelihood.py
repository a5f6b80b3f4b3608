"""Query likelihood: how probable a language model finds the query after reading the document.

The score of a (query, passage) pair is the mean log-probability of the query's tokens given
an instruction to write a query for the passage (UPR, Sachan et al. 2022, arXiv 2204.07496):
a graded teacher that reads the passage, needs no relevance training, and ranks the
candidates of one query against each other. Scores come from any :class:`LogprobScorer`: an
OpenAI-compatible completions server that echoes prompt logprobs (vLLM), or a local causal LM
(:mod:`pseudorel.llm.causal_lm`). Each score is cached as it arrives, so a killed run resumes,
and scoring stops at a pair budget or a time budget, as the LLM judge does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pseudorel._io import bars
from pseudorel.llm.backend import LLMError, ResponseCache, request_key
from pseudorel.teachers.prompts import truncate_words

#: What the model is asked to write after reading the passage, by corpus domain.
INSTRUCTIONS = {
    "generic": ("Please write a question based on this passage.", "Question:"),
    "question": ("Please write a question based on this passage.", "Question:"),
    "claim": ("Please write a scientific claim that this abstract supports or refutes.", "Claim:"),
    "topic": ("Please write a short search query for which this document is relevant.", "Query:"),
}


class LogprobScorer(Protocol):
    model_id: str

    def logprobs(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        """Per (prompt, continuation): the continuation's token log-probabilities."""
        ...


@dataclass(frozen=True)
class QLSettings:
    domain: str = "generic"
    max_passage_words: int | None = 120
    batch_size: int = 8  # pairs per scorer call
    max_consecutive_failures: int = 5  # failed batches in a row: the scorer is taken for dead


def ql_prompt(passage: str, domain: str = "generic", max_words: int | None = 120) -> str:
    """The prompt the query is scored after, as its continuation."""
    instruction, cue = INSTRUCTIONS[domain]
    return f"Passage: {truncate_words(passage, max_words)}\n{instruction}\n{cue}"


class QueryLikelihoodTeacher:
    def __init__(self, scorer: LogprobScorer, settings: QLSettings | None = None, cache: ResponseCache | None = None):
        self.scorer, self.settings, self.cache = scorer, settings or QLSettings(), cache
        self.last_error: str | None = None  # of the last failed batch
        if self.settings.domain not in INSTRUCTIONS:
            raise ValueError(f"unknown domain '{self.settings.domain}' ({', '.join(INSTRUCTIONS)})")

    def _request(self, query: str, passage: str) -> tuple[str, str, str]:
        prompt = ql_prompt(passage, self.settings.domain, self.settings.max_passage_words)
        continuation = " " + query.strip()
        key = request_key(self.scorer.model_id, {"ql_prompt": prompt, "continuation": continuation})
        return prompt, continuation, key

    def check(self) -> None:
        """Score one made-up pair: raise :class:`LLMError` at once if the scorer is unusable."""
        scores = self.score(["is this server up"], ["A passage about whether the server is up."], progress=False)
        if np.isnan(scores[0]):
            raise LLMError(f"the query-likelihood scorer is not usable: {self.last_error}")

    def score(
        self,
        queries: list[str],
        passages: list[str],
        max_seconds: float | None = None,
        progress: bool = True,
    ) -> np.ndarray:
        """Mean log-probability per query token for each pair; NaN where it failed or time ran out."""
        from tqdm.auto import tqdm

        scores = np.full(len(queries), np.nan)
        requests = [self._request(q, p) for q, p in zip(queries, passages, strict=True)]
        todo = []
        for i, (_, _, key) in enumerate(requests):
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                scores[i] = cached["mean_logprob"]
            else:
                todo.append(i)
        self.last_error = None
        start, failures, size = time.perf_counter(), 0, max(1, self.settings.batch_size)
        with tqdm(total=len(todo), desc="query likelihood", unit="pair", disable=not bars(progress)) as bar:
            for b in range(0, len(todo), size):
                if max_seconds is not None and time.perf_counter() - start > max_seconds:
                    break
                batch = todo[b : b + size]
                try:
                    values = self.scorer.logprobs([requests[i][:2] for i in batch])
                except LLMError as e:
                    self.last_error, failures = str(e), failures + 1
                    if failures >= self.settings.max_consecutive_failures:
                        raise LLMError(f"query likelihood: {failures} failed batches in a row: {e}") from None
                    bar.update(len(batch))
                    continue
                failures = 0
                for i, logprobs in zip(batch, values, strict=True):
                    mean = sum(logprobs) / len(logprobs)
                    if math.isfinite(mean):
                        scores[i] = mean
                        if self.cache is not None:
                            self.cache.put(requests[i][2], {"mean_logprob": mean, "tokens": len(logprobs)})
                bar.update(len(batch))
        return scores
