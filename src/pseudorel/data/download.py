"""Download a dataset zip, verify its checksum and unpack it atomically into a cache."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
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
) -> Path:
    """Fetch ``url`` (a zip), verify ``checksum``, and unpack it so its top folder becomes ``target``.

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
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise DownloadError(f"{url}: unsafe path in archive: {member}")
                zf.extractall(unpacked)
        except zipfile.BadZipFile:
            raise DownloadError(f"{url}: not a valid zip archive") from None
        entries = [p for p in unpacked.iterdir() if not p.name.startswith("__MACOSX")]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        shutil.move(str(root), str(target))
    return target
