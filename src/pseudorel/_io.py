"""Small file helpers: atomic writes and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pseudorel.distributed import is_main_process
from pseudorel.errors import UsageError


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash or an exception leaves any earlier file at ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual mode
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def append_durably(path: str | Path, line: str) -> None:
    """Append ``line`` to ``path`` in one write and fsync it: after a crash the file ends with the
    whole line, or without it (at worst a torn tail, which the reader must drop)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666 & ~_umask())
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_digest(path: str | Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file's bytes."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def text_digest(*parts: str) -> str:
    """sha256 over text parts, separated so that ("ab", "c") != ("a", "bc")."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def cache_root() -> Path:
    """Root of pseudorel's caches: $PSEUDOREL_CACHE_DIR or ~/.cache/pseudorel."""
    env = os.environ.get("PSEUDOREL_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "pseudorel"


def bars(progress: bool = True) -> bool:
    """Whether to draw progress bars: ``progress``, unless ``pseudorel --quiet`` turned them off
    (an explicit ``disable=False`` would override tqdm's own ``TQDM_DISABLE``)."""
    return progress and os.environ.get("TQDM_DISABLE") != "1"


LOCK_NAME = ".pseudorel.lock"


_HELD: dict[Path, IO] = {}  # outputs this process holds until it exits (see hold_output)


def lock_path(output: str | Path, file: bool = False) -> Path:
    """Where the lock of an output lives: inside a folder, beside a file."""
    output = Path(output)
    return output.parent / f".{output.name}{LOCK_NAME}" if file else output / LOCK_NAME


def hold_output(output: str | Path, command: str, file: bool = False) -> None:
    """Hold ``output`` (a folder, or with ``file`` a file) until this process exits, as
    :func:`output_lock` does for one block; holding it again in the same process is a no-op."""
    key = Path(output).resolve()
    if key in _HELD:
        return
    context = output_lock(output, command, file)
    context.__enter__()
    _HELD[key] = context


@contextlib.contextmanager
def output_lock(folder: str | Path, command: str, file: bool = False) -> Iterator[None]:
    """Hold ``folder`` (created if missing; with ``file``, a file's lock beside it) for one run: a
    second run into it, in this process or another, gets a :class:`~pseudorel.errors.UsageError`
    naming the holder instead of writing over its outputs. The lock is the OS's (``flock``): a
    killed run releases it."""
    import fcntl
    import json
    import sys
    import time

    folder = Path(folder)
    lock = lock_path(folder, file)
    lock.parent.mkdir(parents=True, exist_ok=True)
    if not is_main_process():  # the other ranks of one distributed run share rank 0's hold
        yield
        return
    handle = open(lock, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another run"
        handle.close()
        raise UsageError(f"{folder} is in use by {holder}: wait for it to finish, or choose another output") from None
    try:
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": started, "argv": sys.argv[1:8]}))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
