import gzip

import numpy as np
import pytest

from mnistlab import data
from mnistlab.data import DataError, load_mnist, load_mnist_float


def test_real_mnist_shapes_and_types(mnist_path):
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert set(np.unique(y_test)) == set(range(10))
    assert x_train.max() == 255


def test_environment_variable_is_a_source(mnist_path, monkeypatch):
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_path))
    assert load_mnist()[1][1].shape == (10000,)


def test_cached_in_process(mnist_path):
    assert load_mnist(mnist_path)[0][0] is load_mnist(mnist_path)[0][0]
    (x, y), _ = load_mnist_float(mnist_path)
    assert x.shape == (60000, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() == 1


def _write_idx(path, array, compress):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb", compresslevel=1) as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def test_idx_folder_gzipped_or_not(mnist_path, tmp_path):
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    for key, array in dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test).items():
        _write_idx(tmp_path / data.IDX_FILES[key], array, compress=key.endswith("test"))
    (x2, y2), (x3, y3) = load_mnist(tmp_path)
    assert np.array_equal(x2, x_train) and np.array_equal(y3, y_test)


def _npz(path, **overrides):
    arrays = {"x_train": np.zeros((60000, 28, 28), np.uint8), "y_train": np.zeros(60000, np.uint8),
              "x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10000, np.uint8)}
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("overrides,message", [
    ({"x_test": np.zeros((10000, 28, 27), np.uint8)}, "x_test has shape (10000, 28, 27), expected (10000, 28, 28)"),
    ({"y_train": np.zeros(60000, np.int64)}, "y_train has dtype int64, expected uint8"),
    ({"y_test": np.full(10000, 11, np.uint8)}, "label 11, outside 0–9"),
    ({"y_test": None}, "lacks the array y_test"),
])
def test_bad_npz_is_one_sentence(tmp_path, overrides, message):
    path = _npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(DataError) as info:
        load_mnist(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_truncated_npz(mnist_path, tmp_path):
    path = tmp_path / "truncated.npz"
    path.write_bytes(mnist_path.read_bytes()[:100_000])
    with pytest.raises(DataError, match="truncated or not an npz"):
        load_mnist(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist; set MNISTLAB_DATA"):
        load_mnist(tmp_path / "nowhere.npz")


def test_pickled_npz_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle was executed')",))

    objects = np.empty(1, dtype=object)
    objects[0] = Boom()
    path = _npz(tmp_path / "pickled.npz", x_train=objects)
    with pytest.raises(DataError, match="pickled objects, which are never loaded"):
        load_mnist(path)


def test_offline_without_source_says_how_to_point_at_a_file(monkeypatch, tmp_path):
    import keras

    monkeypatch.delenv("MNISTLAB_DATA", raising=False)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "no-cache.npz")

    def offline():
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    data._download_with_keras.cache_clear()
    with pytest.raises(DataError) as info:
        load_mnist()
    assert "MNISTLAB_DATA=" in str(info.value) and "could not be downloaded" in str(info.value)
