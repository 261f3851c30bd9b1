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
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .home import keras_home

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
        raise DataError(f"MNIST file {path} does not exist; set {ENV_VAR} to a Keras-layout mnist.npz "
                        f"or a folder with the four IDX files.")
    _check(arrays, path)
    for array in arrays.values():
        array.setflags(write=False)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = sorted(set(EXPECTED) - set(npz.files))
            if missing:
                raise DataError(f"MNIST file {path} lacks the array(s) {', '.join(missing)}; "
                                f"expected Keras's layout (x_train, y_train, x_test, y_test).")
            return {key: npz[key] for key in EXPECTED}
    except DataError:
        raise
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise DataError(f"MNIST file {path} holds pickled objects, which are never loaded; "
                            f"use a plain uint8 npz.") from None
        raise DataError(f"MNIST file {path} is not a readable npz ({err}).") from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise DataError(f"MNIST file {path} is truncated or not an npz archive ({err}).") from None


def _read_idx_folder(folder: Path) -> dict:
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(f"MNIST folder {folder} lacks {stem} (or {stem}.gz).")
        arrays[key] = _read_idx(found)
    return arrays


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"MNIST file {path} cannot be read ({err}).") from None
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise DataError(f"MNIST file {path} is not an unsigned-byte IDX file.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected_size = header + int(np.prod(dims))
    if len(raw) != expected_size:
        raise DataError(f"MNIST file {path} is truncated: {len(raw)} bytes where its header "
                        f"promises {expected_size}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _check(arrays: dict, path: Path) -> None:
    for key, (shape, dtype) in EXPECTED.items():
        array = arrays[key]
        if array.dtype != dtype:
            raise DataError(f"MNIST file {path}: {key} has dtype {array.dtype}, expected {np.dtype(dtype)}.")
        if array.shape != shape:
            raise DataError(f"MNIST file {path}: {key} has shape {array.shape}, expected {shape}.")
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DataError(f"MNIST file {path}: {key} has label {int(arrays[key].max())}, "
                            f"outside 0–9.")


@lru_cache(maxsize=1)
def _download_with_keras():
    try:
        from .backend import keras

        keras = keras()
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # any network or file failure becomes one sentence
        raise DataError(f"MNIST could not be downloaded ({type(err).__name__}); offline, set "
                        f"{ENV_VAR}=/path/to/mnist.npz (Keras's layout) or to a folder with the "
                        f"four IDX files.") from None
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    _check(arrays, KERAS_CACHE)
    return (x_train, y_train), (x_test, y_test)
