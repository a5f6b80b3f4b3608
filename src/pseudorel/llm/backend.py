"""One small interface over chat LLMs: an OpenAI-style request dict in, response dict out.

Backends: :mod:`pseudorel.llm.openai_http` (vLLM, llama.cpp server, Ollama, any
OpenAI-compatible server) and :mod:`pseudorel.llm.local_gguf` (a GGUF file run in-process
with xllamacpp). :class:`CachedBackend` puts an on-disk response cache in front of either.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pseudorel.errors import PseudorelError


class LLMError(PseudorelError):
    """The LLM could not be reached, or answered with something unusable."""


class ChatBackend(Protocol):
    #: Identifies the model and its weights; part of every cache key.
    model_id: str

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one chat completion (OpenAI request shape, without ``model``)."""
        ...


def request_key(model_id: str, request: dict[str, Any]) -> str:
    blob = json.dumps({"model": model_id, "request": request}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """A sqlite table of responses by request key. Each insert commits, so a killed run keeps
    every answer it had received."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(response)))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


class CachedBackend:
    """Answers repeated requests from disk; ``hits`` and ``misses`` count both kinds."""

    def __init__(self, backend: ChatBackend, cache: ResponseCache):
        self.backend, self.cache = backend, cache
        self.model_id = backend.model_id
        self.hits = self.misses = 0

    def chat(self, request: dict[str, Any], usable: Callable[[dict], bool] | None = None) -> dict[str, Any]:
        """The cached answer, or the backend's; with ``usable``, only answers it accepts are
        cached or served from the cache (a garbage answer is asked again next time)."""
        key = request_key(self.model_id, request)
        cached = self.cache.get(key)
        if cached is not None and (usable is None or usable(cached)):
            self.hits += 1
            return cached
        self.misses += 1
        response = self.backend.chat(request)
        if usable is None or usable(response):
            self.cache.put(key, response)
        return response
