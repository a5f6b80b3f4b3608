"""One batch of texts through a bi-encoder at a precision or backend (PyTorch fp32/bf16, ONNX,
OpenVINO), and what those names mean on this machine."""

from __future__ import annotations

import contextlib

import numpy as np

from pseudorel.retrieval.backends import canonical


def resolve_precision(precision: str) -> str:
    """``auto`` means bf16 where the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), else fp32."""
    if precision != "auto":
        return precision
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return "fp32"
    return "bf16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "fp32"


def canonical_backend(precision: str) -> str:

    return canonical(precision)


def is_torch(precision: str) -> bool:
    return canonical_backend(precision).startswith("torch-")


def is_asymmetric(model) -> bool:
    """Whether ``model`` encodes queries and documents differently (a ``Router``, or task prefixes)."""
    if getattr(model, "asymmetric", False):
        return True
    return any(type(m).__name__ == "Router" for m in model.modules())


def autocast(precision: str):
    """bf16 autocast for PyTorch's bf16; nothing for fp32 and for exported backends (ONNX, OpenVINO)."""
    if precision == "fp32" or not is_torch(precision):
        return contextlib.nullcontext()
    if precision == "bf16":
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)
    raise ValueError(f"unknown precision '{precision}' (use fp32 or bf16)")


def encode_batch(
    model, texts: list[str], batch_size: int, precision: str, prompt: str | None, task: str | None
) -> np.ndarray:
    import torch

    with torch.inference_mode(), autocast(precision):
        out = model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=False,
            convert_to_tensor=True,
            show_progress_bar=False,
            prompt=prompt,
            task=task,
        )
    return out.float().cpu().numpy()
