"""Time from submitting a run to the first live batch point being readable by the Train page.

A warm worker (one run already trained in this process, MNIST cached), then repeated runs:
submit, poll the worker's LiveRun snapshot every 10 ms as fast as a page could, stop the run
as soon as a point is there. Goal: ≤ 2 s.

    python bench/first_point.py [--repeats 10] [--preset "CNN 4"]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from common import machine, median, percentile

from mnistlab.presets import get_preset
from mnistlab.store import RunStore
from worker import TrainingWorker


def wait(predicate, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--preset", default="CNN 4")
    args = parser.parse_args()
    experiment = get_preset(args.preset).experiment.with_config(epochs=1)
    with tempfile.TemporaryDirectory() as home:
        worker = TrainingWorker(RunStore(home))
        warm_up = worker.submit(experiment.with_config(train_limit=2000))
        wait(lambda: not worker.busy)
        assert RunStore(home).load(warm_up).status == "completed"
        delays = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run_id = worker.submit(experiment)
            wait(lambda: (snap := worker.current()) is not None and snap.run_id == run_id and snap.batches_history)
            delays.append(time.perf_counter() - start)
            worker.stop(run_id)
            wait(lambda: not worker.busy)
    print(f"machine: {machine()}")
    print(f"submit → first live batch point ({args.preset}, full training set, batch point every "
          f"{worker.batch_every} batches), {args.repeats} runs: median {median(delays):.2f} s, "
          f"p95 {percentile(delays, 95):.2f} s, max {max(delays):.2f} s")
    print("each run: " + ", ".join(f"{d:.2f}" for d in delays) + " s")


if __name__ == "__main__":
    main()
