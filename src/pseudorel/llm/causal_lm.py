"""Token log-probabilities of a text under a local causal LM (transformers), one forward pass
per batch of texts. Loads a transformers folder, or a GGUF file (``gguf:NAME`` or a path),
whose weights transformers dequantizes (Qwen2, Llama and other architectures it knows)."""

from __future__ import annotations

from pathlib import Path

from pseudorel.llm.backend import LLMError
from pseudorel.llm.gguf_files import gguf_path
from pseudorel.retrieval.models import model_fingerprint


class CausalLMScorer:
    def __init__(self, model: str, batch_size: int = 8, max_length: int = 512, bf16: bool = True):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:  # pragma: no cover - core dependencies
            raise LLMError("query likelihood needs torch and transformers") from None

        path = self._resolve(model)
        folder, options = (str(path.parent), {"gguf_file": path.name}) if path.suffix == ".gguf" else (str(path), {})
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, **options)
            self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **options).eval()
        except (OSError, ValueError, KeyError) as e:
            raise LLMError(f"{path}: could not load a causal LM ({str(e).splitlines()[0]})") from None
        self.model_id = f"causal:{path.name}:{model_fingerprint(str(path))}"
        self.batch_size, self.max_length, self.bf16 = batch_size, max_length, bf16

    @staticmethod
    def _resolve(model: str) -> Path:
        if model.startswith("gguf:") or (model.endswith(".gguf") and not Path(model).exists()):
            return gguf_path(model.removeprefix("gguf:"))
        path = Path(model).expanduser()
        if not path.exists():
            raise LLMError(f"{model}: no such model file or folder")
        return path

    def logprobs(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        """Per (prompt, continuation): the continuation's token logprobs given the prompt. The
        prompt is cut from its start if prompt + continuation exceed ``max_length`` tokens."""
        out: list[list[float]] = []
        for i in range(0, len(pairs), self.batch_size):
            out += self._batch(pairs[i : i + self.batch_size])
        return out

    def _batch(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        import torch

        rows, spans = [], []
        for prompt, continuation in pairs:
            head = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            tail = self.tokenizer(continuation, add_special_tokens=False)["input_ids"]
            head = head[-max(1, self.max_length - len(tail)) :]
            rows.append(head + tail)
            spans.append((len(head), len(head) + len(tail)))
        width = max(map(len, rows))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
        # the logit at position t predicts token t + 1
        return [logp[b, start - 1 : end - 1].tolist() for b, (start, end) in enumerate(spans)]
