"""Training throughput through mnistlab.train, as the dashboard runs it, against a bare model.fit.

Both sides train the same spec on the same data with the same batch size and seed, and both
evaluate the 10,000 test images at the end. The mnistlab side is a whole `train()` call in a
worker thread with every observer attached (the run recorder writing the store every epoch,
the dashboard's LiveRun) while a reader thread polls LiveRun twice a second, as the Train page
does. The bare side is build_model + model.fit + model.predict on the test set. Each side is
timed from start to end, so every cost of ours counts (per-batch callback, per-epoch writes,
metrics). Throughput = training images × epochs / seconds.

Both sides run once untimed first (the second run in a process is faster: allocator and
thread pools are warm); then pairs alternate which side goes first. Reported: the median of
the per-pair ratios, and the ratio of each side's best run (the least disturbed by the
machine's noise).

    python bench/train_throughput.py [--presets "MLP 6,CNN 4"] [--pairs 5] [--epochs 4] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time

from common import machine, median

from mnistlab import backend
from mnistlab.build import build_model
from mnistlab.data import load_mnist_float
from mnistlab.presets import get_preset
from mnistlab.store import RunRecorder, RunStore
from mnistlab.train import train
from worker import LiveRun


def trained_images(experiment, data) -> int:
    (x_train, _), _ = data
    n = len(x_train)
    return (n - int(n * experiment.config.validation_split)) * experiment.config.epochs


def bare_fit(experiment, data) -> float:
    """Seconds for build_model + a plain model.fit + model.predict on the test set."""
    keras = backend.keras()
    (x_train, y_train), (x_test, _) = data
    config = experiment.config
    start = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    model = build_model(experiment)
    model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
              validation_split=config.validation_split, verbose=0)
    model.predict(x_test, batch_size=1000, verbose=0)
    return time.perf_counter() - start


def mnistlab_train(experiment, data) -> float:
    """Seconds for mnistlab.train in a worker thread, observed like the dashboard observes it."""
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_id = store.create_run(experiment)
        live = LiveRun(run_id, experiment)
        done = threading.Event()

        def poll():
            while not done.is_set():
                live.snapshot()
                time.sleep(0.5)

        def work():
            train(experiment, [RunRecorder(store, run_id), live], stop=live.stop, data=data, batch_every=5)
            done.set()

        start = time.perf_counter()
        threads = [threading.Thread(target=work), threading.Thread(target=poll)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="MLP 6,CNN 4")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="tiny run: checks the script works, measures nothing")
    args = parser.parse_args()
    if args.smoke:
        args.pairs, args.epochs = 1, 2
    data = load_mnist_float()
    if args.smoke:
        (x, y), test = data
        data = ((x[:3000], y[:3000]), test)
    print(f"machine: {machine()}")
    for name in args.presets.split(","):
        experiment = get_preset(name.strip()).experiment.with_config(epochs=args.epochs)
        images = trained_images(experiment, data)
        warm_up = experiment.with_config(epochs=1)
        bare_fit(warm_up, data)
        mnistlab_train(warm_up, data)
        ratios, bare_times, ours_times = [], [], []
        for pair in range(args.pairs):
            order = (bare_fit, mnistlab_train) if pair % 2 == 0 else (mnistlab_train, bare_fit)
            times = {fn.__name__: fn(experiment, data) for fn in order}
            bare_times.append(times["bare_fit"])
            ours_times.append(times["mnistlab_train"])
            ratios.append(times["bare_fit"] / times["mnistlab_train"])
            print(f"  {name} pair {pair + 1}: bare {images / times['bare_fit']:,.0f} img/s, mnistlab "
                  f"{images / times['mnistlab_train']:,.0f} img/s, ratio {ratios[-1]:.3f}", flush=True)
        print(f"{name}: throughput ratio mnistlab/bare: median of pairs {median(ratios):.3f}, best runs "
              f"{min(bare_times) / min(ours_times):.3f} (bare best {images / min(bare_times):,.0f} img/s, "
              f"mnistlab best {images / min(ours_times):,.0f} img/s; {args.pairs} alternating pairs after a "
              f"warm-up, {args.epochs} epochs each)")

if __name__ == "__main__":
    main()
