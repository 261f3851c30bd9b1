"""Training throughput through mnistlab.train, as the dashboard runs it, against a bare model.fit.

Both sides train the same spec on the same data with the same batch size and seed. The
mnistlab side is a `train()` call in a worker thread with every observer attached (the run
recorder writing the store every epoch, the dashboard's LiveRun) while a reader thread polls
LiveRun twice a second, as the Train page does; it is timed from the fit's start until the
last epoch's observers are done, so the per-batch callback and the per-epoch writes count.
The bare side is `model.fit` alone. Throughput = training images × epochs / seconds. What
train() does after the fit (evaluating the test set, metrics, saving the model) is a fixed
cost per run, reported on its own line.

Both sides run once untimed first (the second run in a process is faster: allocator and
thread pools are warm); then pairs alternate which side goes first. Reported: the median of
the per-pair ratios, and the ratio of each side's best run (the least disturbed by the
machine's noise).

On these shared 2-core machines whole runs vary by ±30% from one to the next, more than the
3% we want to see. So the script also accounts for our cost directly: it times the work
mnistlab adds (the per-batch callback with Keras's log conversion, the observers, the
per-epoch store write) over thousands of calls, and divides it by the time of a bare epoch.

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
from mnistlab.recorder import RunRecorder
from mnistlab.store import RunStore
from mnistlab.train import TrainingObserver, train
from live import LiveRun


END_OF_RUN: list[float] = []


def trained_images(experiment, data) -> int:
    (x_train, _), _ = data
    n = len(x_train)
    return (n - int(n * experiment.config.validation_split)) * experiment.config.epochs


class PhaseTimer(TrainingObserver):
    """Listens last: when fit started, when the last epoch's observers were done, when the run ended."""

    def run_started(self, event):
        self.start = (time.perf_counter(), time.process_time())

    def epoch_ended(self, event):
        self.fitted = (time.perf_counter(), time.process_time())

    def run_ended(self, result):
        self.ended = time.perf_counter()


def bare_fit(experiment, data) -> tuple[float, float]:
    """(wall, CPU) seconds of a plain model.fit."""
    keras = backend.keras()
    (x_train, y_train), _ = data
    config = experiment.config
    keras.utils.set_random_seed(config.seed)
    model = build_model(experiment)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
              validation_split=config.validation_split, verbose=0)
    return time.perf_counter() - start, time.process_time() - cpu


def mnistlab_train(experiment, data) -> tuple[float, float]:
    """(wall, CPU) seconds of the fit inside mnistlab.train — from its start to the last epoch's observers
    done — in a worker thread, observed like the dashboard observes it. The end of the run (test-set
    evaluation, metrics, saving the model) is timed apart, in END_OF_RUN."""
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_id = store.create_run(experiment)
        live = LiveRun(run_id, experiment)
        done = threading.Event()

        def poll():
            while not done.is_set():
                live.snapshot()
                time.sleep(0.5)

        timer = PhaseTimer()

        def work():
            train(experiment, [RunRecorder(store, run_id), live, timer], data=data, batch_every=5)
            done.set()

        threads = [threading.Thread(target=work), threading.Thread(target=poll)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        END_OF_RUN.append(timer.ended - timer.fitted[0])
        return timer.fitted[0] - timer.start[0], timer.fitted[1] - timer.start[1]


def observer_cost(experiment, data, bare_epoch_seconds: float, calls: int = 2000) -> str:
    """Our added work per epoch, timed directly, as a share of a bare epoch."""
    import tensorflow as tf
    from keras.src.utils.python_utils import pythonify_logs

    from mnistlab.train import RunStarted, StopSignal, _bridge_class

    (x_train, _), _ = data
    config = experiment.config
    n_fit = len(x_train) - int(len(x_train) * config.validation_split)
    steps = -(-n_fit // config.batch_size)
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_id = store.create_run(experiment)
        live = LiveRun(run_id, experiment)
        bridge = _bridge_class()([RunRecorder(store, run_id), live], StopSignal(), 5)
        bridge.set_model(build_model(experiment))
        bridge.start(RunStarted(experiment, config.epochs, steps, n_fit, 0), time.perf_counter())
        bridge.on_epoch_begin(0)
        logs = {"loss": tf.constant(0.3), "accuracy": tf.constant(0.9)}
        start = time.perf_counter()
        for batch in range(calls):
            bridge.on_train_batch_end(batch % steps, pythonify_logs(logs))
        per_batch = (time.perf_counter() - start) / calls
        epoch_logs = {"loss": 0.3, "accuracy": 0.9, "val_loss": 0.3, "val_accuracy": 0.9}
        start = time.perf_counter()
        for epoch in range(20):
            bridge.on_epoch_begin(epoch)
            bridge.on_epoch_end(epoch, epoch_logs)
        per_epoch_end = (time.perf_counter() - start) / 20
    added = steps * per_batch + per_epoch_end
    return (f"added work per epoch: {steps} batches × {per_batch * 1e6:.1f} µs + epoch end (store write, "
            f"fsync) {per_epoch_end * 1000:.1f} ms = {added * 1000:.1f} ms, {added / bare_epoch_seconds:.2%} of a "
            f"bare epoch ({bare_epoch_seconds:.2f} s, best run) → throughput ratio ≥ "
            f"{bare_epoch_seconds / (bare_epoch_seconds + added):.3f}")


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
        ratios, cpu_ratios, bare_times, ours_times = [], [], [], []
        END_OF_RUN.clear()
        for pair in range(args.pairs):
            order = (bare_fit, mnistlab_train) if pair % 2 == 0 else (mnistlab_train, bare_fit)
            times = {fn.__name__: fn(experiment, data) for fn in order}
            (bare_wall, bare_cpu), (ours_wall, ours_cpu) = times["bare_fit"], times["mnistlab_train"]
            bare_times.append(bare_wall)
            ours_times.append(ours_wall)
            ratios.append(bare_wall / ours_wall)
            cpu_ratios.append(bare_cpu / ours_cpu)
            print(f"  {name} pair {pair + 1}: bare {images / bare_wall:,.0f} img/s, mnistlab "
                  f"{images / ours_wall:,.0f} img/s, ratio {ratios[-1]:.3f} (CPU-time ratio {cpu_ratios[-1]:.3f})",
                  flush=True)
        print(f"{name}: throughput ratio mnistlab/bare: median of pairs {median(ratios):.3f}, best runs "
              f"{min(bare_times) / min(ours_times):.3f}, CPU time median {median(cpu_ratios):.3f} "
              f"(bare best {images / min(bare_times):,.0f} img/s, mnistlab best {images / min(ours_times):,.0f} "
              f"img/s; {args.pairs} alternating pairs after a warm-up, {args.epochs} epochs each)")
        print(f"{name}: end of run, after the fit (test-set evaluation, metrics, saving the model): median "
              f"{median(END_OF_RUN):.2f} s")
        print(f"{name}: " + observer_cost(experiment, data, min(bare_times) / args.epochs), flush=True)

if __name__ == "__main__":
    main()
