"""Inside the network, per drawing: every layer's output plus the occlusion saliency for CNN 5.

In this process, on --drawings varied drawings (bench/predict_latency.py's), preprocessed as the Draw
page does: `mnistlab.inspect.activations` (one forward pass for every layer) and
`saliency(..., "occlusion")` (169 occluded copies in one batch), against a plain single-image
prediction of the same model called the same way (the baseline). CNN 5's architecture; inference
time does not depend on the weights. Goal (issue 12): p50 ≤ 150 ms for activations + occlusion.

    python bench/inspect_latency.py [--drawings 50] [--smoke]
"""

from __future__ import annotations

import argparse
import time

from common import machine, median, percentile
from predict_latency import drawings

from mnistlab import inspect
from mnistlab.build import build_model
from mnistlab.preprocess import canvas_to_mnist
from mnistlab.presets import get_preset


def timed(action, inputs) -> list[float]:
    times = []
    for item in inputs:
        start = time.perf_counter()
        action(item)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=50)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count = 5 if args.smoke else args.drawings
    model = build_model(get_preset("CNN 5").experiment)
    images = [image for image in map(canvas_to_mnist, drawings(count)) if image is not None]
    for image in images[:3]:  # warm: trace the calls once
        model(image.reshape(1, 28, 28, 1), training=False)
        inspect.activations(model, image)
        inspect.saliency(model, image)
    baseline = timed(lambda image: model(image.reshape(1, 28, 28, 1), training=False), images)
    layers = timed(lambda image: inspect.activations(model, image), images)
    occlusion = timed(lambda image: inspect.saliency(model, image, "occlusion"), images)
    gradient = timed(lambda image: inspect.saliency(model, image, "gradient_x_input"), images)
    both = [a + b for a, b in zip(layers, occlusion)]
    ms = lambda values: f"p50 {median(values) * 1000:.1f} ms, p95 {percentile(values, 95) * 1000:.1f} ms"  # noqa: E731
    print(f"machine: {machine()}")
    print(f"CNN 5, {len(images)} drawings, in this process:")
    print(f"  baseline, one prediction (model call): {ms(baseline)}")
    print(f"  every layer's output (one pass): {ms(layers)}")
    print(f"  occlusion saliency (169 patches, one batch): {ms(occlusion)}")
    print(f"  gradient × input saliency: {ms(gradient)}")
    print(f"  activations + occlusion: {ms(both)}; vs one prediction {median(both) / median(baseline):.1f}×")


if __name__ == "__main__":
    main()
