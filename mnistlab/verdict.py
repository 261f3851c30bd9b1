"""Which is better? Two runs, or two groups of seeds, compared the honest way, in numbers and one sentence.

Two runs: McNemar's exact test on the test images only one of them gets right (their saved predictions).
Two groups (each at least two seeds of one setup): Welch's t-test on their accuracies. A group of one
run is a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .groups import Group, groups
from .i18n import _, decimal
from .significance import mcnemar, mcnemar_sentence, welch, welch_sentence
from .status import status_name
from .store import Run, RunStore, StoreError


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a group (two or more seeds) or a single run."""
    label: str
    group: Group

    @property
    def is_group(self) -> bool:
        return len(self.group.runs) > 1

    @property
    def run(self) -> Run:
        return self.group.runs[-1]  # a single run, or a group's newest


def side(store: RunStore, query: str, runs: list[Run] | None = None) -> Side:
    """What a user names: a run id (or ≥ 4 characters of one) is that run; a name is the group of every finished
    run with that name and one setup — the seeds of `train --repeats`. Raises StoreError with a sentence."""
    runs = store.list_runs().runs if runs is None else runs
    named = [run for run in runs if run.name == query and run.metrics]
    if named:
        found = groups(named)
        if len(found) > 1:
            raise StoreError(_("{count} different setups are named {name!r}; name one run by its id.").format(
                count=len(found), name=query))
        return Side(query, found[0])
    run = store.find_run(query)
    if not run.metrics:
        raise StoreError(_("Run {run_id} ({name}) has no test results ({status}) to compare.").format(
            run_id=run.run_id, name=run.name, status=status_name(run.status)))
    return Side(run.name, Group((run,)))


def group_digit_spread(group: Group) -> tuple[list[float], list[float] | None]:
    """A group's accuracy on each digit: the mean over its seeds, and their standard deviation (None for one run)."""
    per_digit = np.array([run.metrics["per_class_accuracy"] for run in group.runs], dtype=float)
    std = per_digit.std(axis=0, ddof=1).tolist() if len(per_digit) > 1 else None
    return per_digit.mean(axis=0).tolist(), std


def group_table(found: list[Group]) -> list[dict]:
    """One row per group of two or more seeds (from `groups`, newest first): what Compare shows of their spread."""
    rows = []
    for group in found:
        if len(group.runs) < 2:
            continue
        spread = group.spread()
        low, high = spread.interval()
        rows.append({"name": group.name, "seeds": ", ".join(map(str, group.seeds)), "runs": len(group.runs),
                     "mean accuracy": spread.mean, "std": spread.std, "min": spread.low, "max": spread.high,
                     "95% interval": f"{decimal(low)} – {decimal(high)}",
                     "mean precision (Keras)": group.spread("keras_precision").mean,
                     "mean recall (Keras)": group.spread("keras_recall").mean,
                     "mean macro F1": group.spread("macro_f1").mean})
    return rows


def compare(a: Side, b: Side, labels: np.ndarray | None) -> dict:
    """The test that fits the two sides, its numbers and the sentence that says what they mean. `labels` (the test
    set's) are needed for two runs, not for two groups."""
    if a.is_group and b.is_group:
        spread_a, spread_b = a.group.spread(), b.group.spread()
        test = welch(spread_a, spread_b)
        return {"test": "welch", "a": _group_numbers(a), "b": _group_numbers(b), "t": test.t, "df": test.df,
                "p_value": test.p_value, "difference": test.difference,
                "sentence": welch_sentence(a.label, b.label, spread_a, spread_b, test)}
    predictions = [_predictions(one.run) for one in (a, b)]
    test = mcnemar(predictions[0], predictions[1], labels)
    names = (a.label, b.label) if a.label != b.label else (f"{a.label} ({a.run.run_id})", f"{b.label} ({b.run.run_id})")
    note = "" if not (a.is_group or b.is_group) else " " + _("A group against a single run: the group's newest run "
                                                             "stands for it.")
    return {"test": "mcnemar", "a": _run_numbers(a.run), "b": _run_numbers(b.run), "only_a": test.only_a,
            "only_b": test.only_b, "p_value": test.p_value, "sentence": mcnemar_sentence(*names, test) + note}


def _predictions(run: Run) -> np.ndarray:
    predictions = run.predictions()
    if predictions is None:
        raise StoreError(_("Run {run_id} ({name}) has no saved predictions: it was trained before runs kept them, or "
                           "its predictions.npy is damaged. Train it again to compare it image by image.").format(
            run_id=run.run_id, name=run.name))
    return predictions


def _run_numbers(run: Run) -> dict:
    return {"run_id": run.run_id, "name": run.name, "seed": run.experiment.config.seed,
            "accuracy": run.metrics["accuracy"]}


def _group_numbers(one: Side) -> dict:
    spread = one.group.spread()
    return {"name": one.label, "run_ids": [run.run_id for run in one.group.runs], "seeds": list(one.group.seeds),
            "mean": spread.mean, "std": spread.std, "min": spread.low, "max": spread.high,
            "interval_95": list(spread.interval())}
