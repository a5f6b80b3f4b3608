"""Download a dataset archive (zip or tar.gz), verify its checksum and unpack it atomically into a cache."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from pseudorel._io import file_digest
from pseudorel.errors import DownloadError


def _fetch(url: str, dest: Path, timeout: float) -> None:
    from tqdm.auto import tqdm

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {Path(url).name}") as bar:
                while block := response.read(1 << 16):
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"{url}: download failed ({reason})") from None


def download_and_extract(
    url: str,
    target: Path,
    checksum: str | None = None,
    algorithm: str = "md5",
    timeout: float = 60.0,
    convert: Callable[[Path, Path], None] | None = None,
) -> Path:
    """Fetch ``url`` (a zip or a tar.gz), verify ``checksum``, and unpack it so its top folder
    becomes ``target``; ``convert(unpacked, folder)``, if given, writes ``folder`` (a BEIR folder)
    from the unpacked files instead.

    Nothing appears at ``target`` unless the whole archive was fetched, verified and unpacked.
    """
    target = Path(target)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmp:
        archive = Path(tmp) / "archive.zip"
        _fetch(url, archive, timeout)
        if checksum is not None:
            actual = file_digest(archive, algorithm)
            if actual != checksum:
                raise DownloadError(f"{url}: {algorithm} checksum mismatch (expected {checksum}, got {actual})")
        unpacked = Path(tmp) / "unpacked"
        _unpack(url, archive, unpacked)
        entries = [p for p in unpacked.iterdir() if not p.name.startswith("__MACOSX")]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        if convert is not None:
            converted = Path(tmp) / "converted"
            converted.mkdir()
            convert(root, converted)
            root = converted
        shutil.move(str(root), str(target))
    return target


def _unpack(url: str, archive: Path, unpacked: Path) -> None:
    """A zip or a (gzipped) tar archive into ``unpacked``, refusing members that leave it."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            _safe(url, names)
            zf.extractall(unpacked)
        return
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            _safe(url, [m.name for m in members])
            if any(not (m.isfile() or m.isdir()) for m in members):
                raise DownloadError(f"{url}: links or devices in the archive")
            tf.extractall(unpacked, filter="data")
    except tarfile.TarError:
        raise DownloadError(f"{url}: not a valid zip or tar archive") from None


def _safe(url: str, names: list[str]) -> None:
    for name in names:
        if name.startswith("/") or ".." in Path(name).parts:
            raise DownloadError(f"{url}: unsafe path in archive: {name}")
