"""Run a GGUF model in-process with xllamacpp (llama.cpp's server loop, no HTTP)."""

from __future__ import annotations

import os
from typing import Any

from pseudorel.llm.backend import LLMError
from pseudorel.llm.gguf_files import GGUF_MODELS, gguf_path


class LocalGGUFBackend:
    """``model`` is a known name (see ``GGUF_MODELS``) or a path to a ``.gguf`` file.

    ``parallel`` slots share the context; each slot gets ``n_ctx`` tokens. Identical system
    prompts are cached per slot, so one query's candidates reuse the instruction prefix.
    """

    def __init__(
        self, model: str = "qwen2.5-coder-1.5b", n_ctx: int = 2048, threads: int | None = None, parallel: int = 1
    ):
        try:
            import xllamacpp as xlc
        except ImportError:
            raise LLMError("local GGUF models need xllamacpp: pip install 'pseudorel[llm]'") from None
        path = gguf_path(model)
        spec = GGUF_MODELS.get(model)
        stat = path.stat()
        identity = spec.sha256 if spec and spec.sha256 else f"{stat.st_size}:{int(stat.st_mtime)}"
        self.model_id = f"gguf:{path.name}:{identity}"
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx * parallel
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads or os.cpu_count() or 1
        params.cpuparams_batch.n_threads = params.cpuparams.n_threads
        params.verbosity = -1
        try:
            self._server = xlc.Server(params)
        except Exception as e:  # xllamacpp raises plain RuntimeErrors for unreadable files
            raise LLMError(f"{path}: could not load the model ({e})") from None

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self._server.handle_chat_completions(dict(request))
        if not isinstance(response, dict) or "error" in response:
            message = response.get("error") if isinstance(response, dict) else response
            raise LLMError(f"{self.model_id}: {message}")
        return response
