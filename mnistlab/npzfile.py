"""Reading an .npz that someone handed us: exactly the arrays we expect, by their full member names, each checked
from its .npy header before a byte of its data is read.

Two holes this closes. numpy's `np.load(path)[key]` answers to a raw member named `key` before `key.npy`, so a
check made on `key.npy`'s header says nothing about what is then read; and a member's header, or its compressed
stream, can promise gigabytes. Here a member that is not `NAME.npy` refuses the file, and an array is read from
the member whose header was checked, never more bytes than that header declared.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

# What a damaged or hostile archive raises from zipfile and numpy: a bad zip, a corrupt deflate stream, an encrypted
# member (RuntimeError), a header numpy refuses.
_UNREADABLE = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, RuntimeError)


class NpzError(ValueError):
    """The file is not an .npz we can read; the message is what is wrong with it as a predicate ("holds pickled
    objects, …"), for a sentence that begins with the file's name."""


Header = tuple[tuple[int, ...], np.dtype]


def read_npz(path: str | os.PathLike, choose: Callable[[dict[str, Header]], Iterable[str]]
             ) -> tuple[dict[str, np.ndarray], dict[str, Header]]:
    """The arrays that `choose` names once it has seen every member's header (it raises to refuse the file), read
    from the very members whose headers it saw: never more bytes than those headers declare, never a pickle.
    Returns the arrays and the headers. A member that is not an .npy array, two members of one name, or a compression
    numpy does not use refuse the file; so does anything but a file (a FIFO, even behind a link, would never end)."""
    if not Path(path).is_file():
        raise NpzError("is not a plain file")
    with _unreadable_as_npz_error():
        archive = zipfile.ZipFile(path)
    with archive:
        with _unreadable_as_npz_error():
            names = _check_members(archive)
            headers = {name[:-4]: _header(archive, name) for name in names}
        chosen = list(choose(headers))
        with _unreadable_as_npz_error():
            arrays = {name: _read_member(archive, f"{name}.npy") for name in chosen}
    return arrays, headers


@contextmanager
def _unreadable_as_npz_error():
    try:
        yield
    except NpzError:
        raise
    except _UNREADABLE as err:
        raise NpzError(_reason(err)) from None


def _check_members(archive: zipfile.ZipFile) -> list[str]:
    """The members' names, once each is known to be an .npy array stored as numpy stores one. zipfile inflates a
    deflated member a bounded chunk at a time, but decompresses a whole bz2 or lzma chunk at once: a few KB of bz2
    can be gigabytes, before a single header byte could be checked."""
    members = archive.infolist()
    if any(member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for member in members):
        raise NpzError("holds an array compressed by a method numpy does not use (only stored or deflated)")
    names = [member.filename for member in members]
    odd = [name for name in names if not name.endswith(".npy")]
    if odd:
        raise NpzError(f"holds {odd[0]!r}, which is not an .npy array")
    if len(set(names)) != len(names):
        raise NpzError("holds two members of one name")
    return names


def _header(archive: zipfile.ZipFile, name: str) -> Header:
    with archive.open(name) as member:
        shape, _, dtype = _read_header(member)
    return tuple(shape), dtype


def _read_header(member):
    version = np.lib.format.read_magic(member)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read(member)
    if dtype.hasobject:
        raise NpzError("holds pickled objects, which are never loaded")
    return shape, fortran_order, dtype


def _read_member(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name) as member:
        shape, fortran_order, dtype = _read_header(member)
        return _read_data(member, tuple(shape), dtype, fortran_order)


def _read_data(member, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    data = member.read(size)
    if len(data) != size:
        raise NpzError("has an array shorter than its header says")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C").copy()


def _reason(err: Exception) -> str:
    if isinstance(err, zipfile.BadZipFile):
        return f"is truncated or not an npz archive ({err})"
    if isinstance(err, (zlib.error, EOFError)) or "compressed" in str(err).lower():
        return f"has damaged compressed data ({err})"
    return f"cannot be read ({type(err).__name__}: {err})"
