"""Drawing → probabilities: canvas_to_mnist + one inference, on 200 varied 280×280 RGBA canvases.

Timed as the Draw page does it (preprocessing in the caller, then the prediction process,
dashboard/predictor.py, with the model loaded from the store) and as a direct call of
`predict_drawing` in the caller's process, which shows what the hop to the other process
costs. Baseline in the same run: Keras's `model.predict` on one already-preprocessed image,
the call a notebook would make. The model is the report's CNN 5
architecture (inference time does not depend on the weights). Drawings are real MNIST test
digits scaled to random sizes and placed at random positions, with both canvas conventions
(opaque white, transparent).

    python bench/predict_latency.py [--drawings 200] [--smoke]
"""

from __future__ import annotations

import argparse
from functools import partial
import tempfile
import time

import numpy as np
from PIL import Image

from common import machine, median, percentile

from mnistlab.build import build_model
from mnistlab.data import load_mnist
from mnistlab.predict import predict_drawing
from mnistlab.preprocess import canvas_to_mnist
from mnistlab.presets import get_preset
from mnistlab.store import RunStore
from predictor import Predictor


def drawings(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    (_, _), (x_test, _) = load_mnist()
    canvases = []
    for i in range(count):
        side = int(rng.integers(40, 270))
        top, left = (int(rng.integers(0, 280 - side + 1)) for _ in range(2))
        ink = np.asarray(Image.fromarray(x_test[i]).resize((side, side), Image.Resampling.BILINEAR))
        canvas = np.zeros((280, 280, 4), np.uint8)
        if i % 2:  # opaque white background, dark ink
            canvas[...] = 255
            canvas[top:top + side, left:left + side, :3] = 255 - ink[..., None]
        else:  # transparent background, ink in alpha
            canvas[top:top + side, left:left + side, 3] = ink
        canvases.append(canvas)
    return canvases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=200)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count = 10 if args.smoke else args.drawings
    experiment = get_preset("CNN 5").experiment
    canvases = drawings(count)
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_id = store.create_run(experiment)
        store.save_model(run_id, build_model(experiment))
        run, model, predictor = store.load(run_id), store.load_model(run_id), Predictor(store)
        predictor.predict_drawing(run, canvases[0])  # warm up every path once
        predict_drawing(model, canvases[0])
        model.predict(canvas_to_mnist(canvases[0])[None, ..., None], verbose=0)
        ours, direct, baseline = [], [], []
        for i, canvas in enumerate(canvases):  # interleaved, taking turns at going first (warm caches)
            paths = [(ours, partial(predictor.predict_drawing, run, canvas)),
                     (direct, partial(predict_drawing, model, canvas))]
            for times, path in paths if i % 2 else paths[::-1]:
                start = time.perf_counter()
                prediction = path()
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            model.predict(prediction.steps.centred[None, ..., None], verbose=0)
            baseline.append(time.perf_counter() - start)
        predictor.close()
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    print(f"machine: {machine()}")
    print(f"drawing → probabilities as the Draw page does it (prediction process), {count} drawings: "
          f"p50 {ms(median(ours))}, p95 {ms(percentile(ours, 95))}")
    print(f"the same, called directly in the caller's process: p50 {ms(median(direct))}, "
          f"p95 {ms(percentile(direct, 95))}")
    print(f"baseline model.predict on one preprocessed image: p50 {ms(median(baseline))}, "
          f"p95 {ms(percentile(baseline, 95))}")
    print(f"ratio ours/baseline at p50: {median(ours) / median(baseline):.2f}")


if __name__ == "__main__":
    main()
