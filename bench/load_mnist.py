"""load_mnist from the npz, cold and warm, against numpy.load of the same file in the same run.

Cold: the in-process cache cleared, so the file is read, checked and cached. Warm: the cached
arrays. Baseline: numpy.load reading the same four arrays. Interleaved, median of repeats.

    python bench/load_mnist.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from common import machine, median

from mnistlab import data


def numpy_load(path: str) -> None:
    with np.load(path, allow_pickle=False) as npz:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            npz[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    path = os.environ[data.ENV_VAR]
    cold, warm, baseline = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        numpy_load(path)
        baseline.append(time.perf_counter() - start)
        data._load_cached.cache_clear()
        start = time.perf_counter()
        data.load_mnist()
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        data.load_mnist()
        warm.append(time.perf_counter() - start)
    print(f"machine: {machine()}")
    print(f"file: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    print(f"numpy.load (baseline): median {median(baseline) * 1000:.1f} ms")
    print(f"load_mnist cold: median {median(cold) * 1000:.1f} ms, ratio to numpy {median(cold) / median(baseline):.2f}")
    print(f"load_mnist warm: median {median(warm) * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
