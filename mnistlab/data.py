"""Real MNIST, from a file you point at or from Keras's own download.

Sources, first found wins: the `path` argument, the `MNISTLAB_DATA` environment
variable, Keras's cache file (~/.keras/datasets/mnist.npz, or the one under MNIST Lab's
own Keras folder), and finally
`keras.datasets.mnist.load_data()`, which downloads on a machine with internet.
A source is a Keras-layout `mnist.npz` or a folder with the four IDX files.
"""

from __future__ import annotations

import gzip
import os
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from .home import keras_home
from .i18n import _, ngettext, number
from .npzfile import NpzError, read_npz

ENV_VAR = "MNISTLAB_DATA"
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"  # where plain Keras keeps it
EXPECTED = {
    "x_train": ((60000, 28, 28), np.uint8),
    "y_train": ((60000,), np.uint8),
    "x_test": ((10000, 28, 28), np.uint8),
    "y_test": ((10000,), np.uint8),
}
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class DataError(RuntimeError):
    """MNIST could not be loaded; the message is one sentence naming the file and the problem."""


Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Return (x_train, y_train), (x_test, y_test) as uint8 arrays, cached per source."""
    source = _choose_source(path)
    if source is None:
        return _download_with_keras()
    return _load_cached(str(Path(source).expanduser().resolve()))


def load_mnist_float(path: str | os.PathLike | None = None):
    """MNIST scaled to [0, 1] as float32 with a channel axis: (N, 28, 28, 1), ready for Keras."""
    source = _choose_source(path)
    key = "keras-download" if source is None else str(Path(source).expanduser().resolve())
    return _float_cached(key)


def describe_source(path: str | os.PathLike | None = None) -> str:
    source = _choose_source(path)
    return str(source) if source is not None else "keras.datasets.mnist (download)"


def _choose_source(path) -> Path | None:
    if path is not None:
        return Path(path)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    for cache in (KERAS_CACHE, keras_home() / "datasets" / "mnist.npz"):
        if cache.is_file():
            return cache
    return None


@lru_cache(maxsize=4)
def _float_cached(key: str):
    (x_train, y_train), (x_test, y_test) = (
        _download_with_keras() if key == "keras-download" else _load_cached(key))
    scale = np.float32(1 / 255)
    return ((x_train[..., None] * scale, y_train), (x_test[..., None] * scale, y_test))


@lru_cache(maxsize=4)
def _load_cached(source: str):
    path = Path(source)
    if path.is_dir():
        arrays = _read_idx_folder(path)
    elif path.is_file():
        arrays = _read_npz(path)
    else:
        raise DataError(_("MNIST file {path} does not exist; set {variable} to a Keras-layout mnist.npz or a folder "
                          "with the four IDX files.").format(path=path, variable=ENV_VAR))
    _check(arrays, path)
    for array in arrays.values():
        array.setflags(write=False)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_npz(path: Path) -> dict:
    """Exactly MNIST's four arrays, each checked from its header (a header may promise gigabytes) and then read from
    that same member; a file with any other member is refused."""
    try:
        return read_npz(path, lambda headers: _check_npz_headers(headers, path))[0]
    except NpzError as err:
        raise DataError(_("MNIST file {path} {problem}.").format(path=path, problem=err)) from None


def _check_npz_headers(headers: dict, path: Path) -> list[str]:
    unexpected = sorted(set(headers) - set(EXPECTED))
    missing = sorted(set(EXPECTED) - set(headers))
    if missing or unexpected:
        message = (ngettext("MNIST file {path} lacks the array {arrays}; expected Keras's layout (x_train, y_train, "
                            "x_test, y_test) and nothing else.",
                            "MNIST file {path} lacks the arrays {arrays}; expected Keras's layout (x_train, y_train, "
                            "x_test, y_test) and nothing else.", len(missing)) if missing else
                   _("MNIST file {path} also holds {arrays}; expected Keras's layout (x_train, y_train, x_test, "
                     "y_test) and nothing else."))
        raise DataError(message.format(path=path, arrays=", ".join(missing or unexpected)))
    for key, (shape, dtype) in EXPECTED.items():
        found_shape, found_dtype = headers[key]
        if found_dtype != np.dtype(dtype):
            raise DataError(_("MNIST file {path}: {key} has dtype {found}, expected {wanted}.").format(
                path=path, key=key, found=found_dtype, wanted=np.dtype(dtype)))
        if found_shape != shape:
            raise DataError(_("MNIST file {path}: {key} has shape {found}, expected {wanted}.").format(
                path=path, key=key, found=found_shape, wanted=shape))
    return list(EXPECTED)


def _read_idx_folder(folder: Path) -> dict:
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(_("MNIST folder {folder} lacks {file} (or {file}.gz).").format(folder=folder, file=stem))
        arrays[key] = _read_idx(found, EXPECTED[key][0])
    return arrays


def _read_idx(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """An IDX file's array, its header checked against MNIST's own `shape` before the body is read, and
    never more read than that shape holds: a small gzip that inflates to gigabytes stops at the header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            magic = handle.read(4)
            if len(magic) < 4 or magic[0:2] != b"\x00\x00" or magic[2] != 0x08:
                raise DataError(_("MNIST file {path} is not an unsigned-byte IDX file.").format(path=path))
            raw_dims = handle.read(4 * magic[3])
            dims = tuple(int.from_bytes(raw_dims[i:i + 4], "big") for i in range(0, len(raw_dims), 4))
            if dims != shape:
                raise DataError(_("MNIST file {path} holds an array of shape {found}, expected {wanted}.").format(
                    path=path, found=dims, wanted=shape))
            size = int(np.prod(shape))
            body = handle.read(size)
            extra = handle.read(1)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(_("MNIST file {path} cannot be read ({problem}).").format(path=path, problem=err)) from None
    if len(body) != size or extra:
        message = (_("MNIST file {path} is truncated: its header promises {size} bytes of data.") if len(body) != size
                   else _("MNIST file {path} is longer than its header says: its header promises {size} bytes of "
                          "data."))
        raise DataError(message.format(path=path, size=number(size)))
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _check(arrays: dict, path: Path) -> None:
    for key, (shape, dtype) in EXPECTED.items():
        array = arrays[key]
        if array.dtype != dtype:
            raise DataError(_("MNIST file {path}: {key} has dtype {found}, expected {wanted}.").format(
                path=path, key=key, found=array.dtype, wanted=np.dtype(dtype)))
        if array.shape != shape:
            raise DataError(_("MNIST file {path}: {key} has shape {found}, expected {wanted}.").format(
                path=path, key=key, found=array.shape, wanted=shape))
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DataError(_("MNIST file {path}: {key} has label {label}, outside 0–9.").format(
                path=path, key=key, label=int(arrays[key].max())))


@lru_cache(maxsize=1)
def _download_with_keras():
    try:
        from .backend import keras

        keras = keras()
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # any network or file failure becomes one sentence
        raise DataError(_("MNIST could not be downloaded ({problem}); offline, set {variable}=/path/to/mnist.npz "
                          "(Keras's layout) or to a folder with the four IDX files.").format(
            problem=type(err).__name__, variable=ENV_VAR)) from None
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    _check(arrays, KERAS_CACHE)
    return (x_train, y_train), (x_test, y_test)
