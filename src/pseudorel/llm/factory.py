"""Build a cached chat backend, or a query-likelihood scorer, from a spec: an http(s) URL,
``gguf:NAME`` or a ``.gguf`` path."""

from __future__ import annotations

from pathlib import Path

from pseudorel.llm.backend import CachedBackend, LLMError, ResponseCache
from pseudorel.llm.causal_lm import CausalLMScorer
from pseudorel.llm.completions_http import OpenAICompletionsScorer
from pseudorel.llm.local_gguf import LocalGGUFBackend
from pseudorel.llm.openai_http import OpenAIChatBackend
from pseudorel.llm.pool import EndpointPool, pool_urls


def make_backend(
    spec: str,
    cache_path: str | Path,
    model: str = "default",
    parallel: int = 1,
    api_key=None,
    timeout: float = 60.0,
    retries: int = 2,
):
    """``http://host:port/v1`` (any OpenAI-compatible server; ``model`` names the served model),
    several such URLs separated by commas (a pool, see :mod:`pseudorel.llm.pool`),
    ``gguf:qwen2.5-coder-1.5b`` (a known local model) or ``path/to/model.gguf``."""
    if urls := pool_urls(spec):
        members = [OpenAIChatBackend(u, model, api_key=api_key, timeout=timeout, retries=retries) for u in urls]
        backend = EndpointPool(members)
    elif spec.startswith(("http://", "https://")):
        backend = OpenAIChatBackend(spec, model, api_key=api_key, timeout=timeout, retries=retries)
    elif "://" in spec:
        raise LLMError(f"'{spec}' is not an http(s) URL, gguf:NAME or a .gguf file")
    else:
        backend = LocalGGUFBackend(spec.removeprefix("gguf:"), parallel=parallel)
    return CachedBackend(backend, ResponseCache(cache_path))


def make_scorer(spec: str, model: str = "default", api_key=None, timeout: float = 60.0, retries: int = 2):
    """The query-likelihood teacher's model: ``http://host:port/v1`` (a completions server that
    echoes prompt logprobs, e.g. vLLM; ``model`` names the served model; several, comma-separated,
    make a pool), ``gguf:NAME``, a ``.gguf`` file or a transformers folder (a local causal LM)."""
    if urls := pool_urls(spec):
        return EndpointPool(
            [OpenAICompletionsScorer(u, model, api_key=api_key, timeout=timeout, retries=retries) for u in urls]
        )
    if spec.startswith(("http://", "https://")):
        return OpenAICompletionsScorer(spec, model, api_key=api_key, timeout=timeout, retries=retries)
    if "://" in spec:
        raise LLMError(f"'{spec}' is not an http(s) URL, gguf:NAME, a .gguf file or a model folder")

    return CausalLMScorer(spec)
