"""The Report page's store work per rerun, beside the listing it starts from.

A store of N realistic runs (bench/store_scale.py's CNN 4 folders) plus the report's 15 experiments reproduced over
three seeds at its own settings, written directly rather than trained. Timed warm, in this process, as each rerun of
the Report page does it: the listing alone (the baseline), then the listing and everything the page asks of the runs
— the newest reproduction of each experiment, each experiment's seeds, and the findings' pairs (without McNemar's
per-image test, which reads the runs' predictions: that is statistics, not store work).

Goal (issue 29): the page's store work ≤ 30 ms a rerun at 1,000 runs.

    python bench/report_page.py [--runs 1000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import machine
from store_scale import timed, write_runs

from mnistlab.presets import PRESETS
from mnistlab.reproduce import RunIndex, compare, finding_verdicts, reproduction_experiment, reproduction_group
from mnistlab.spec import total_params
from mnistlab.store import RunStore


def write_reproductions(home: Path) -> int:
    """Every preset at the report's settings, seeds 42, 43, 44, completed with made-up metrics."""
    written = 0
    for number, preset in enumerate(PRESETS):
        for seed in (42, 43, 44):
            experiment = reproduction_experiment(preset, seed=seed)
            run_id = f"2027{number:04d}{seed:04d}-repro-{number:02x}{seed:02x}"
            folder = home / "runs" / run_id
            folder.mkdir()
            accuracy = min(0.999, preset.report.accuracy + (seed - 43) * 0.001)
            (folder / "spec.json").write_text(json.dumps(experiment.to_dict()))
            (folder / "run.json").write_text(json.dumps({
                "run_id": run_id, "name": preset.name, "status": "completed", "created": "2026-11-29T10:00:00+00:00",
                "params": total_params(experiment), "pid": 1, "pid_started": 1, "epochs_run": 30}))
            (folder / "metrics.json").write_text(json.dumps({
                "accuracy": accuracy, "keras_precision": accuracy, "keras_recall": accuracy, "macro_f1": accuracy,
                "per_class_accuracy": [accuracy] * 10, "confusion_matrix": [[100] * 10] * 10, "mistakes": []}))
            (folder / "model.keras").write_bytes(b"not loaded by this benchmark")
            written += 1
    return written


def report_rerun(store: RunStore) -> int:
    """What the Report page asks of the store on each rerun (dashboard/app_pages/report.py)."""
    index = RunIndex.of(store.list_runs().runs)
    comparisons = compare(index, list(PRESETS))
    groups = [reproduction_group(c.preset, index) for c in comparisons]
    return len(finding_verdicts(list(PRESETS), index, None)) + sum(group is not None for group in groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="CNN 4 runs besides the 45 reproductions")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    home = Path(tempfile.mkdtemp(prefix="report-page-"))
    write_runs(home, args.runs)
    reproductions = write_reproductions(home)
    time.sleep(2.1)  # past catalog.RACY_SECONDS, as for any run not just written
    store = RunStore(home)
    assert report_rerun(store) > 0  # warm: the catalog built, the findings found
    listing = timed(store.list_runs, args.repeats)
    page = timed(lambda: report_rerun(store), args.repeats)
    print(f"{args.runs + reproductions:,} runs: listing {listing * 1000:.1f} ms, the Report page's store work "
          f"{page * 1000:.1f} ms a rerun ({page / listing:.2f}× the listing; goal ≤ 30 ms at 1,000 runs)")


if __name__ == "__main__":
    main()
