"""Scoring every model on the class's drawings, as the Class test page asks for it (issue 14).

The report's presets (all 15 by default), each trained one epoch on 1,000 images (inference cost does
not depend on the weights), and 1,000 drawings (MNIST test digits: the 28×28 inputs the page sends).
Through the dashboard's Predictor (the prediction process, as the Class test page asks): the first
request (every model loaded, every drawing read), the request after one more drawing is saved (each
model reads the new one only), and the same set again (remembered); and whether the process stayed
the same one (a process grown past its limit is replaced, and its models loaded again). Baseline in the same run: one model's plain `model.predict` on the same images, here.
Goal: all presets on 1,000 drawings ≤ 2 s.

    python bench/class_scoring.py [--presets all] [--drawings 1000] [--smoke]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))

from mnistlab.data import load_mnist  # noqa: E402
from mnistlab.presets import PRESETS, get_preset  # noqa: E402
from mnistlab.recorder import RunRecorder  # noqa: E402
from mnistlab.store import RunStore
from mnistlab.train import train  # noqa: E402


def store_of_presets(home: str, names: list[str]) -> RunStore:
    store = RunStore(home)
    for name in names:
        experiment = get_preset(name).experiment
        experiment = replace(experiment, config=replace(experiment.config, epochs=1, train_limit=1000))
        train(experiment, [RunRecorder(store, store.create_run(experiment))])
    return store


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="all")
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    names = [p.name for p in PRESETS] if args.presets == "all" else args.presets.split(",")
    count = args.drawings
    if args.smoke:
        names, count = ["MLP 1", "CNN 1"], 50
    (_, _), (x_test, _) = load_mnist()
    images = x_test[:count]
    with tempfile.TemporaryDirectory() as home:
        store = store_of_presets(home, names)
        from predictor import Predictor

        runs = store.list_runs().runs
        predictor = Predictor(store)
        try:
            started = predictor.stats()  # started and warm: TensorFlow imported in the process
            first = timed(lambda: predictor.score(runs, images))
            one_more = timed(lambda: predictor.score(runs, x_test[:count + 1]))
            again = timed(lambda: predictor.score(runs, x_test[:count + 1]))
            after = predictor.stats()
        finally:
            predictor.close()
        model = store.load_model(runs[0].run_id)
        model.predict(images[..., None] / 255.0, verbose=0)  # traced
        baseline = timed(lambda: model.predict(images[..., None] / 255.0, batch_size=1000, verbose=0))
    print(f"machine: {machine()}")
    print(f"{len(names)} models × {count:,} drawings, through the prediction process:")
    print(f"  first request (models loaded): {first:.2f} s")
    print(f"  after one more drawing (every model scores the new set): {one_more:.2f} s")
    print(f"  the same set again (remembered): {again * 1000:.1f} ms")
    print(f"  prediction process: {started['rss'] / 2**20:.0f} → {after['rss'] / 2**20:.0f} MiB, "
          f"{'the same process' if started['pid'] == after['pid'] else 'replaced on the way (it grew too much)'}, "
          f"{after['loads']} model loads")
    print(f"  baseline, one model's plain model.predict on the same images here ({runs[0].name}): "
          f"{baseline * 1000:.0f} ms; all models after a new drawing vs {len(names)} × baseline: "
          f"{one_more / (len(names) * baseline):.2f}×")


if __name__ == "__main__":
    main()
