"""Training on a Dask cluster (mnistlab/executor.py) against training here, on this machine.

1. Throughput: a batch of --runs small runs (the MLP presets on a slice, one epoch) on a LocalCluster of
   1 worker × all cores' TensorFlow threads, then 2 workers × half the cores each; runs per minute and the ratio,
   in the same process, one after the other.
2. The added cost per run of going through Dask: one-epoch CNN 4 runs, each timed from the call until its run is
   stored, trained here (`train()` with the run recorder, warm, TensorFlow with every core) and on a warm
   1-worker cluster with every core; --pairs pairs taking turns. Goal: ≤ 5% of the local run.
3. A class of 30 each pressing Train on the quick demo (the Draw page's Quick CNN): its measured time on one
   worker × 30 ÷ workers, for 1, 4 and 30 workers (one machine each), plus the measured overhead per run.

    python bench/cluster.py [--runs 8] [--pairs 3] [--limit 10000] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # Dask's worker processes import this file again: bench's
from common import machine, median  # noqa: E402            common, not the dashboard's, which is first on their path

from mnistlab.data import load_mnist_float  # noqa: E402
from mnistlab.executor import Cluster, train_stored  # noqa: E402
from mnistlab.presets import QUICK_CNN, get_preset  # noqa: E402
from mnistlab.recorder import RunRecorder  # noqa: E402
from mnistlab.store import RunStore
from mnistlab.train import train  # noqa: E402

MLPS = [f"MLP {n}" for n in (1, 2, 3, 4, 5, 6, 7, 8)]
CLASS = 30


def small_runs(count: int, limit: int) -> list:
    return [get_preset(MLPS[i % len(MLPS)]).experiment.with_config(epochs=1, train_limit=limit, seed=i + 1)
            for i in range(count)]


def batch_seconds(workers: int, threads: int, experiments: list) -> float:
    """Seconds for the whole batch on a fresh LocalCluster, after one untimed run per worker (TensorFlow imported,
    MNIST read: what a lab's workers have done before the lesson)."""
    store = RunStore(tempfile.mkdtemp())
    with Cluster(workers=workers, threads=threads) as cluster:
        train_stored(cluster, store, experiments[:workers])  # warm every worker
        start = time.perf_counter()
        results = train_stored(cluster, store, experiments)
        seconds = time.perf_counter() - start
    assert all(result.status == "completed" for _, result in results), [r.status for _, r in results]
    return seconds


def local_run(store: RunStore, experiment, data) -> tuple[float, float]:
    """(seconds from the call until the run is stored, seconds of it outside train()'s own timing)."""
    start = time.perf_counter()
    run_id = store.create_run(experiment)
    result = train(experiment, [RunRecorder(store, run_id)], data=data)
    assert result.status == "completed"
    wall = time.perf_counter() - start
    return wall, wall - result.seconds


def cluster_run(cluster: Cluster, store: RunStore, experiment) -> tuple[float, float]:
    """The same through Dask: the outside part is the submission, the scheduling, the result's way back (the model's
    bytes) and the store's writes here; the worker's train() timing is the same code as the local one's."""
    start = time.perf_counter()
    [(_, result)] = train_stored(cluster, store, [experiment])
    assert result.status == "completed"
    wall = time.perf_counter() - start
    return wall, wall - result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=10_000, help="training images per small run")
    parser.add_argument("--cnn-limit", type=int, default=None, help="training images for CNN 4 (default: all)")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.pairs, args.limit, args.cnn_limit = 2, 1, 1000, 1000
    cores = os.cpu_count() or 1
    print(f"machine: {machine()}")

    experiments = small_runs(args.runs, args.limit)
    one = batch_seconds(1, cores, experiments)
    two = batch_seconds(2, max(1, cores // 2), experiments)
    print(f"1. {args.runs} small runs (MLP presets, 1 epoch, {args.limit:,} images): 1 worker × {cores} threads "
          f"{one:.1f} s ({60 * args.runs / one:.1f} runs/min); 2 workers × {max(1, cores // 2)} thread(s) {two:.1f} s "
          f"({60 * args.runs / two:.1f} runs/min); ratio {one / two:.2f}× the throughput with 2 workers")

    cnn4 = get_preset("CNN 4").experiment.with_config(epochs=1, train_limit=args.cnn_limit)
    data = load_mnist_float()
    store = RunStore(tempfile.mkdtemp())
    local_run(store, cnn4, data)  # warm: TensorFlow here, as a worker is after its first run
    here, there = [], []
    with Cluster(workers=1, threads=cores) as cluster:
        cluster_run(cluster, store, cnn4)
        for pair in range(args.pairs):
            order = [(here, lambda: local_run(store, cnn4, data)), (there, lambda: cluster_run(cluster, store, cnn4))]
            for times, run in (order if pair % 2 == 0 else order[::-1]):
                times.append(run())
    walls_here, walls_there = [w for w, _ in here], [w for w, _ in there]
    outside_here, outside_there = median([o for _, o in here]), median([o for _, o in there])
    overhead = outside_there - outside_here
    print(f"2. one-epoch CNN 4 ({cnn4.config.train_limit or 'all'} training images), call → run stored, median of "
          f"{args.pairs}: here {median(walls_here):.2f} s, through Dask {median(walls_there):.2f} s (runs here "
          f"{[round(t, 2) for t in walls_here]}, through Dask {[round(t, 2) for t in walls_there]})\n"
          f"   outside the training itself (train()'s own timing taken off each run): here {outside_here:.3f} s, "
          f"through Dask {outside_there:.3f} s: Dask adds {overhead:+.3f} s a run, "
          f"{overhead / median(walls_here):+.2%} of the local run")

    store = RunStore(tempfile.mkdtemp())
    with Cluster(workers=1, threads=cores) as cluster:
        cluster_run(cluster, store, QUICK_CNN)
        quick = median([cluster_run(cluster, store, QUICK_CNN)[0] for _ in range(max(1, args.pairs))])
    print(f"3. a class of {CLASS} each training the quick demo ({QUICK_CNN.name}, {QUICK_CNN.config.epochs} epochs on "
          f"{QUICK_CNN.config.train_limit:,} images): {quick:.1f} s a run on one worker of this machine "
          f"(Dask's own share measured above: {overhead:+.2f} s a run)")
    for workers in (1, 4, 30):
        waves = -(-CLASS // workers)
        print(f"   {workers:>2} worker(s): {waves} run(s) each, the last student's model after about "
              f"{waves * quick / 60:.1f} min")


if __name__ == "__main__":
    main()
