"""Atomic files and the run lock: how the store (and the drawings' class set) write a file, so that a crash never
leaves half of one, and how two processes change one run's run.json without undoing each other."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


class StoreError(RuntimeError):
    """The store could not be read or written; the message says where and why."""


def write_json(path: Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=True))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over the target."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise StoreError(f"Cannot write {path}: {err.strerror or err}.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise StoreError(f"Cannot write {path}: {err.strerror or err}.") from None


STALE_SECONDS = 600  # a temporary file this old belongs to no write in progress: every write takes well under it


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files (`.NAME.*.tmp`, `.model-*.keras`) that a writer killed before its rename left in
    `folder`, once they are STALE_SECONDS old; a write in progress is never touched."""
    try:
        with os.scandir(folder) as entries:
            temporaries = [entry for entry in entries if entry.name.startswith(".") and (
                entry.name.endswith(".tmp") or entry.name.startswith(".model-")) and entry.is_file(follow_symlinks=False)]
        for entry in temporaries:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
    except OSError:
        pass  # a folder we cannot read or clean is no worse than before


@contextmanager
def locked(folder: Path):
    """The run's lock (an advisory lock on its .lock file), held across processes."""
    try:
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise StoreError(f"Cannot lock run {folder.name}: {err.strerror or err}.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def file_stamp(path: Path) -> tuple | None:
    """What tells a file's new version from its old one (the store replaces files whole: a new inode),
    or None when there is no such file."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns

