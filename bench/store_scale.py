"""The store at a semester's scale: listing, and a Draw-page rerun's store cost, with 100 to 10,000 runs.

Each size gets a fresh store of realistic run folders (a CNN spec, per-epoch history, metrics whose
mistakes list is 100 entries for most runs and 2,000 for one in ten, as weak models have), written
directly rather than trained. For each size it times, in this process:

    parse every folder   what every listing cost before the catalog (the baseline: _parse_run per folder)
    first listing        the catalog built from the folders
    listing, new process the catalog exists; a process mirrors it (a CLI command, a restarted server)
    listing, warm        the same process again: what a dashboard rerun pays
    Draw rerun           store.model_runs(...) as the Draw page asks it, warm

Goals (issue 11): a warm listing of 10,000 runs ≤ 100 ms; a Draw rerun that costs the same at every size.

    python bench/store_scale.py [--sizes 100,1000,10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, machine, median

from mnistlab.presets import get_preset
from mnistlab.spec import total_params

DRAW_QUERY = {"best": 40, "newest": 10}  # as dashboard/app_pages/draw.py asks it
NEW_PROCESS = """
import sys, time
from mnistlab.store import RunStore
start = time.perf_counter()
count = len(RunStore(sys.argv[1]).list_runs().runs)
print(count, time.perf_counter() - start)
"""


def write_runs(home: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    experiment = get_preset("CNN 4").experiment.with_config(epochs=3)
    spec, params = json.dumps(experiment.to_dict()), total_params(experiment)
    runs = home / "runs"
    runs.mkdir(parents=True)
    for i in range(count):
        run_id = f"2026{i:08d}-cnn-4-{i:04x}"
        folder = runs / run_id
        folder.mkdir()
        accuracy = rng.uniform(0.80, 0.995)
        mistakes = [{"index": rng.randrange(10_000), "true": rng.randrange(10), "predicted": rng.randrange(10),
                     "confidence": rng.random()} for _ in range(2000 if i % 10 == 0 else 100)]
        (folder / "spec.json").write_text(spec)
        (folder / "run.json").write_text(json.dumps({
            "run_id": run_id, "name": f"CNN 4 #{i}", "status": "completed", "created": "2026-11-29T10:00:00+00:00",
            "params": params, "pid": 1, "pid_started": 1, "epochs_run": 3, "train_seconds": 60.0,
            "finished": "2026-11-29T10:01:00+00:00", "epochs_planned": 3, "steps_per_epoch": 422}))
        (folder / "metrics.json").write_text(json.dumps({
            "accuracy": accuracy, "keras_precision": accuracy, "keras_recall": accuracy, "macro_f1": accuracy,
            "per_class_accuracy": [accuracy] * 10, "confusion_matrix": [[100] * 10] * 10, "mistakes": mistakes}))
        (folder / "history.json").write_text(json.dumps({"epochs": [{"epoch": e, "loss": 0.1} for e in range(3)],
                                                         "batches": []}))
        (folder / "model.keras").write_bytes(b"not loaded by this benchmark")


def timed(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return median(times)


def measure(count: int, repeats: int) -> dict:
    from mnistlab import store as store_module
    from mnistlab.store import RunStore

    home = Path(tempfile.mkdtemp(prefix=f"store-scale-{count}-"))
    write_runs(home, count)
    time.sleep(2.1)  # past catalog.RACY_SECONDS: the folders' stamps can be trusted, as for any run not just written
    folders = sorted((home / "runs").iterdir())
    baseline = timed(lambda: [store_module._parse_run(folder) for folder in folders], 1)
    store = RunStore(home)
    start = time.perf_counter()
    listed = len(store.list_runs().runs)
    first = time.perf_counter() - start
    assert listed == count, (listed, count)
    out = subprocess.run([sys.executable, "-c", NEW_PROCESS, str(home)], capture_output=True, text=True, cwd=REPO,
                         check=True)
    new_process = float(out.stdout.split()[1])
    warm = timed(store.list_runs, repeats)
    draw = timed(lambda: store.model_runs(**DRAW_QUERY), max(repeats, 20))
    return {"runs": count, "parse every folder": baseline, "first listing": first, "listing, new process": new_process,
            "listing, warm": warm, "Draw rerun": draw}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = [measure(int(size), args.repeats) for size in args.sizes.split(",")]
    columns = list(rows[0])[1:]
    print("| runs | " + " | ".join(columns) + " | warm listing vs parsing every folder |")
    print("|---:|" + "---:|" * (len(columns) + 1))
    for row in rows:
        cells = " | ".join(f"{row[c] * 1000:,.1f} ms" for c in columns)
        print(f"| {row['runs']:,} | {cells} | {row['listing, warm'] / row['parse every folder']:.3f}× |")
    smallest, largest = rows[0], rows[-1]
    print(f"Draw rerun's store cost at {largest['runs']:,} runs vs {smallest['runs']:,}: "
          f"{largest['Draw rerun'] / smallest['Draw rerun']:.2f}×")


if __name__ == "__main__":
    main()
