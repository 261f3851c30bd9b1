"""Repeats over seeds: which seeds to train, and which runs belong together.

A group is every finished run of one network and training setup apart from the seed: the same layers,
optimizer, learning rate, epochs, batch, split and data — so their scores differ by chance alone, and
their spread says how much a single run's number can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .i18n import _
from .significance import Spread
from .spec import Experiment
from .store import Run

MAX_REPEATS = 20  # seeds in one request: 20 full CNN trainings is already a night on a laptop


def parse_seeds(text: str) -> tuple[int, ...]:
    """ "1,2,3" → (1, 2, 3): distinct non-negative integers, at most MAX_REPEATS."""
    if text.count(",") > 2 * MAX_REPEATS:  # checked before a seed is read: the list may be a megabyte long
        raise ValueError(f"--seeds names more than {MAX_REPEATS} seeds; give at most {MAX_REPEATS} in one go.")
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--seeds {text!r} is not a comma-separated list of whole numbers (e.g. 1,2,3).") from None
    if not seeds:
        raise ValueError("--seeds names no seed; give a list such as 1,2,3.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} repeats a seed: the same seed trains the same run again.")
    if any(seed < 0 or seed >= 2**31 for seed in seeds):
        raise ValueError("Seeds are whole numbers from 0 to 2147483647.")
    return _at_most(seeds)


def repeat_seeds(count: int, first: int = 1, what: str = "--repeats") -> tuple[int, ...]:
    """`count` consecutive seeds from `first`: --repeats 3 is seeds 1, 2, 3."""
    if count < 1:
        raise ValueError(_("{what} {count}: give at least 1.").format(what=what, count=count))
    if count > MAX_REPEATS:  # before the seeds are listed: a count can be 2**63
        raise ValueError(_("{count} seeds is more than {most} repeats in one go.").format(count=count, most=MAX_REPEATS))
    return _at_most(tuple(range(first, first + count)))


def _at_most(seeds: tuple[int, ...]) -> tuple[int, ...]:
    if len(seeds) > MAX_REPEATS:
        raise ValueError(_("{count} seeds is more than {most} repeats in one go.").format(count=len(seeds),
                                                                                         most=MAX_REPEATS))
    if seeds[-1] >= 2**31:
        raise ValueError(_("Seeds are whole numbers from 0 to 2147483647."))
    return seeds


def group_key(experiment: Experiment) -> Experiment:
    """What runs of one group share: the spec with its name and seed blanked (hashable and compared field by
    field, so grouping a semester of runs costs no serialisation)."""
    return replace(experiment, name="", config=replace(experiment.config, seed=0))


@dataclass(frozen=True)
class Group:
    runs: tuple[Run, ...]  # finished runs with metrics, oldest first

    @property
    def name(self) -> str:
        return self.runs[0].name

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.experiment.config.seed for run in self.runs)

    def spread(self, metric: str = "accuracy") -> Spread:
        return Spread(tuple(float(run.metrics[metric]) for run in self.runs))


def oldest_first(run: Run) -> tuple:
    """A run's place in time: its creation to the nanosecond (two runs of a Repeat are made within one second, where
    ids sort by their random ending), then its id (runs made before created_ns was recorded, or a run.json edited
    by hand: anything but a whole number counts as 0)."""
    made = run.info.get("created_ns", 0)
    return (made if type(made) is int else 0), run.run_id


def groups(runs: list[Run]) -> list[Group]:
    """Finished runs (with metrics) gathered by group_key, each group's runs oldest first, one run per seed (the
    newest, when a seed was trained twice); groups in order of their newest run, newest first."""
    by_key: dict[Experiment, dict[int, Run]] = {}
    for run in sorted((run for run in runs if run.metrics), key=oldest_first):
        by_key.setdefault(group_key(run.experiment), {})[run.experiment.config.seed] = run
    found = [Group(tuple(sorted(seeds.values(), key=oldest_first))) for seeds in by_key.values()]
    return sorted(found, key=lambda group: max(map(oldest_first, group.runs)), reverse=True)
