"""Training throughput through mnistlab.train, as the dashboard runs it, against a bare model.fit.

Both sides train the same spec on the same data with the same batch size and seed. The
mnistlab side runs in a worker thread with every observer attached (the run recorder writing
the store, the dashboard's LiveRun) while a reader thread polls LiveRun snapshots twice a
second, as the Train page does. Each side's throughput is the training images per second
of its epochs after the first (the first includes tracing); runs alternate sides, and the
ratio is computed per pair, then the median reported.

    python bench/train_throughput.py [--presets "MLP 6,CNN 4"] [--pairs 3] [--epochs 3] [--smoke]
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


def epoch_rate(epoch_seconds: list[float], images: int, validation_split: float) -> float:
    """Training images per second over the epochs after the first (Keras holds out the last split)."""
    trained = images - int(images * validation_split)
    timed = epoch_seconds[1:] or epoch_seconds
    return trained / median(timed)


def bare_fit(experiment, data) -> float:
    """images/s of a plain model.fit with only an epoch timer (two calls per epoch)."""
    keras = backend.keras()
    (x_train, y_train), _ = data
    config = experiment.config
    keras.utils.set_random_seed(config.seed)
    model = build_model(experiment)
    seconds, start = [], [0.0]

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            start[0] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - start[0])

    model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
              validation_split=config.validation_split, callbacks=[EpochTimer()], verbose=0)
    return epoch_rate(seconds, len(x_train), config.validation_split)


def mnistlab_train(experiment, data) -> float:
    """images/s through mnistlab.train in a worker thread, observed like the dashboard observes it."""
    (x_train, _), _ = data
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_id = store.create_run(experiment)
        live = LiveRun(run_id, experiment)
        result = {}
        done = threading.Event()

        def work():
            result["r"] = train(experiment, [RunRecorder(store, run_id), live], stop=live.stop, data=data,
                                batch_every=5)
            done.set()

        def poll():
            while not done.is_set():
                live.snapshot()
                time.sleep(0.5)

        threads = [threading.Thread(target=work), threading.Thread(target=poll)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return epoch_rate([e["seconds"] for e in result["r"].history["epochs"]], len(x_train),
                      experiment.config.validation_split)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="MLP 6,CNN 4")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
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
        ratios, bare_rates, ours_rates = [], [], []
        for pair in range(args.pairs):
            order = (bare_fit, mnistlab_train) if pair % 2 == 0 else (mnistlab_train, bare_fit)
            rates = {fn.__name__: fn(experiment, data) for fn in order}
            bare_rates.append(rates["bare_fit"])
            ours_rates.append(rates["mnistlab_train"])
            ratios.append(rates["mnistlab_train"] / rates["bare_fit"])
            print(f"  {name} pair {pair + 1}: bare {rates['bare_fit']:,.0f} img/s, mnistlab "
                  f"{rates['mnistlab_train']:,.0f} img/s, ratio {ratios[-1]:.3f}", flush=True)
        print(f"{name}: median ratio mnistlab/bare = {median(ratios):.3f} "
              f"(bare median {median(bare_rates):,.0f} img/s, mnistlab median {median(ours_rates):,.0f} img/s, "
              f"{args.pairs} interleaved pairs, {args.epochs} epochs each, first epoch excluded)")


if __name__ == "__main__":
    main()
