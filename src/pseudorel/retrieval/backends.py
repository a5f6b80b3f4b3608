"""Where an embedder's forward pass runs: PyTorch (fp32, or bf16 where the CPU has it natively),
ONNX Runtime (fp32, or weights dynamically quantised to int8) or OpenVINO (its own precision for
this CPU: bf16 where native, else fp32).

The exported graph (the transformer, pooling and normalisation in one ONNX file) is made once per
model and reading length and kept under ``cache_root()/onnx``; ONNX Runtime and OpenVINO both run
it. Which backend a model uses (``auto``) is chosen by :mod:`pseudorel.retrieval.calibration`.
ONNX Runtime, onnx and OpenVINO are imported softly: where they are missing, only PyTorch runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

from pseudorel._io import cache_root
from pseudorel.machine import cpu_summary
from pseudorel.retrieval.nomic_bert import PREFIXES, NomicEmbedder

#: every backend, fastest-to-set-up first
BACKENDS = ("torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8", "openvino")
#: names the command line and older settings also accept
ALIASES = {"fp32": "torch-fp32", "bf16": "torch-bf16"}
#: the process-wide choice (``pseudorel --backend``); ``auto`` when unset
BACKEND_ENV = "PSEUDOREL_BACKEND"
EXPORT_VERSION = "2"  # bump when the exported graph changes


class UnsupportedModel(ValueError):
    """The model cannot be exported (an asymmetric router, a pooling the export does not know)."""


def canonical(name: str) -> str:
    """A backend's canonical name (``fp32`` -> ``torch-fp32``); ``auto`` stays ``auto``."""
    name = ALIASES.get(name, name)
    if name != "auto" and name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}' (use auto, {', '.join(BACKENDS)})")
    return name


def requested_backend(name: str = "auto") -> str:
    """``name``, or where it is ``auto`` the backend ``$PSEUDOREL_BACKEND`` names (if set)."""
    name = canonical(name)
    return canonical(os.environ.get(BACKEND_ENV, "auto") or "auto") if name == "auto" else name


def cache_precision(backend: str) -> str:
    """The string embedding caches key a backend by (PyTorch keeps the names it had: fp32, bf16)."""
    return {"torch-fp32": "fp32", "torch-bf16": "bf16"}.get(backend, backend)


def is_torch(backend: str) -> bool:
    return backend.startswith("torch-")


def native_bf16() -> bool:

    return bool({"avx512_bf16", "amx_bf16"} & set(cpu_summary()["flags"]))


def available_backends() -> tuple[str, ...]:
    """The backends that can run here: bf16 only where native, the others where installed."""
    have = {m: importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime", "openvino")}
    out = ["torch-fp32"]
    if native_bf16():
        out.append("torch-bf16")
    if have["onnx"] and have["onnxruntime"]:
        out += ["onnx-fp32", "onnx-int8"]
    if have["onnx"] and have["openvino"]:
        out.append("openvino")
    return tuple(out)


def _graph_parts(model):
    """(torch module taking input_ids + attention_mask, tokenizer, prefixes by task, normalise?)."""
    import torch

    if isinstance(model, NomicEmbedder):
        return model.model, model.tokenizer, PREFIXES, True
    modules = list(model)
    names = [type(m).__name__ for m in modules]
    if names[:2] != ["Transformer", "Pooling"] or any(n not in ("Transformer", "Pooling", "Normalize") for n in names):
        raise UnsupportedModel(f"modules {names}: only Transformer + Pooling (+ Normalize) export")
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None) or ("cls" if pooling.pooling_mode_cls_token else "mean")
    if mode not in ("mean", "cls"):
        raise UnsupportedModel(f"pooling '{mode}' does not export (mean or cls)")

    class Encoder(torch.nn.Module):
        def __init__(self, auto):
            super().__init__()
            self.auto = auto

        def forward(self, input_ids, attention_mask):
            hidden = self.auto(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if mode == "cls":
                return hidden[:, 0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1e-9)

    return Encoder(modules[0].auto_model), modules[0].tokenizer, {}, "Normalize" in names


@contextlib.contextmanager
def _eager_attention(module):
    """Plain attention while exporting: ONNX Runtime's optimiser fuses it into one Attention op."""
    auto = getattr(module, "auto", None)
    before = getattr(getattr(auto, "config", None), "_attn_implementation", None)
    if auto is None or before is None or not hasattr(auto, "set_attn_implementation"):
        yield
        return
    auto.set_attn_implementation("eager")
    try:
        yield
    finally:
        auto.set_attn_implementation(before)


def weights_digest(model) -> str:
    """A short id of a model's weights and reading length (what an exported graph depends on)."""
    import hashlib

    import torch

    module = getattr(model, "model", model)  # NomicEmbedder keeps its module in .model
    state = module.state_dict()
    # hashing nomic's weights takes most of a second: kept on the model while no tensor has
    # moved or changed (torch counts every in-place change in ``_version``, training included)
    key = (model.max_seq_length, tuple((n, t.data_ptr(), t._version) for n, t in state.items()))
    memo = model.__dict__.get("_pseudorel_digest")
    if memo is not None and memo[0] == key:
        return memo[1]
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{type(module).__name__}:{model.max_seq_length}".encode())
    with torch.no_grad():
        for name, tensor in state.items():
            h.update(name.encode())
            h.update(tensor.detach().to(torch.float32).contiguous().numpy().tobytes())
    model.__dict__["_pseudorel_digest"] = (key, h.hexdigest())
    return h.hexdigest()


GRAPHS = {"plain": "model.onnx", "int8": "model_int8.onnx"}


def export_graph(model, kind: str = "plain") -> Path:
    """The model's ONNX graph, made once per weights and reading length and written atomically (a
    half-made export is never used): ``plain`` as exported (ONNX Runtime and OpenVINO fuse it when
    they load it; an offline fusion pass measured no faster), ``int8`` its weights quantised."""
    import torch

    folder = cache_root() / "onnx" / f"{weights_digest(model)}-v{EXPORT_VERSION}"
    target = folder / GRAPHS[kind]
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        made = Path(tmp) / "made.onnx"
        if kind == "plain":
            module, tokenizer, _, _ = _graph_parts(model)
            example = tokenizer(["a short text", "a slightly longer text here"], padding=True, return_tensors="pt")
            axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
            with _eager_attention(module), torch.inference_mode(), warnings_quiet():
                torch.onnx.export(
                    module.eval(),
                    (example["input_ids"], example["attention_mask"]),
                    str(made),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["embedding"],
                    dynamic_axes={**axes, "embedding": {0: "batch"}},
                    opset_version=17,
                    dynamo=False,
                )
        else:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with warnings_quiet():
                quantize_dynamic(
                    str(export_graph(model, "plain")), str(made), weight_type=QuantType.QInt8, per_channel=True
                )
        os.replace(made, target)
    return target


@contextlib.contextmanager
def warnings_quiet():
    import logging
    import warnings

    # the quantiser and optimiser log shape-inference notes on the root logger
    loggers = [logging.getLogger(), logging.getLogger("onnxruntime")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


class ExportedEncoder:
    """An exported embedder behind the sentence-transformers calls pseudorel makes (``encode`` with
    ``task``/``prompt``, ``max_seq_length``, ``similarity_fn_name``), run by ONNX Runtime or OpenVINO."""

    def __init__(self, model, backend: str):
        import torch

        _, self.tokenizer, self.prefixes, self.normalize = _graph_parts(model)
        self.backend = backend
        self.max_seq_length = model.max_seq_length
        self.similarity_fn_name = getattr(model, "similarity_fn_name", None) or "cosine"
        self.asymmetric = bool(self.prefixes)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = dimension()
        path = export_graph(model, "int8" if backend == "onnx-int8" else "plain")
        threads = torch.get_num_threads()
        if backend == "openvino":
            import openvino

            core = openvino.Core()
            # compiled once per machine: a later process loads the compiled model instead of
            # compiling again (seconds for nomic, in every stage that loads it)
            core.set_property({"CACHE_DIR": str(cache_root() / "openvino")})
            compiled = core.compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": threads})
            request = compiled.create_infer_request()
            self._run = lambda feed: request.infer(feed)[0].copy()
        else:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self._run = lambda feed: session.run(None, feed)[0]

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(
        self,
        texts: list[str],
        batch_size: int = 32,
        task: str | None = None,
        prompt: str | None = None,
        convert_to_tensor: bool = False,
        **_ignored,
    ):
        import torch

        if prompt is None:
            prompt = self.prefixes.get(task or "", self.prefixes.get("query", "")) if self.prefixes else ""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            batch = self.tokenizer(
                [prompt + texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
            )
            feed = {k: batch[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            out[rows] = self._run(feed)
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return torch.from_numpy(out) if convert_to_tensor else out


def with_backend(model, backend: str):
    """``model`` run by ``backend`` (PyTorch backends: the model itself; the others: an
    :class:`ExportedEncoder`, kept on the model so each is built once per process)."""
    if is_torch(backend):
        return model
    made = model.__dict__.setdefault("_pseudorel_backends", {})
    if backend not in made:
        made[backend] = ExportedEncoder(model, backend)
    return made[backend]


__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "ExportedEncoder",
    "UnsupportedModel",
    "available_backends",
    "cache_precision",
    "canonical",
    "export_graph",
    "requested_backend",
    "weights_digest",
    "with_backend",
]
