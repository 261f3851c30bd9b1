"""Lesson mode: the report as a live lesson. Each step compares two networks; the class predicts (better, the same,
or worse?), votes from its own browsers, may vote again after discussing, then sees the answer.

The teacher drives (opens and closes the votes, reveals, moves between steps); everyone votes, once per browser
session per vote, anonymously. The lesson is kept in $MNISTLAB_HOME/lesson.json and read afresh at every look, so a
server restart in the middle of a step loses nothing and every session sees the same step.

Steps are the report's sequence by default: each experiment against the one its finding compares it with
(presets.FINDING_COMPARES, the nearest one where it names two). A step's answer comes from the store's runs of the two
networks, judged by the same statistics as Compare (mnistlab.verdict).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write_text
from .groups import Group, groups
from .home import default_home
from .i18n import N_, _
from .presets import FINDING_COMPARES, PRESETS, Preset, get_preset, matching_preset
from .roles import Person, Refused, check_teacher
from .spec import Experiment
from .store import Run

LESSON_FILE = "lesson.json"
CHOICES = ("better", "same", "worse")
CHOICE_NAMES = {"better": N_("Better"), "same": N_("The same"), "worse": N_("Worse")}  # shown as _(name)
QUESTION, VOTE, CLOSED, SECOND_VOTE, SECOND_CLOSED, REVEALED = (
    "question", "vote", "closed", "second_vote", "second_closed", "revealed")
_locks: dict[Path, threading.Lock] = {}  # one per lesson file, for every Lesson of this process (every session)


RUN = "run:"  # a step's network that is a run of the store, not one of the report's: "run:<run id>"


@dataclass(frozen=True)
class Step:
    before: str  # a preset's name, or RUN + a run's id (a lesson of one's own)
    after: str


def question(before: str, after: str) -> str:
    """The step's question, with its two networks' names."""
    return _("Will {after} be better, the same, or worse than {before}?").format(after=after, before=before)


@dataclass(frozen=True)
class Network:
    """One side of a step, as the page shows it and the answer judges it."""
    name: str
    experiment: Experiment
    params: int | None
    finding: str | None  # the report's sentence (a preset's), marked for the catalog
    side: "Side | None"  # its runs in the store, None when there is none


def network(ref: str, runs: list[Run]) -> Network | None:
    """A step's network: one of the report's (and its runs, whatever their epochs, images or seed), or a run of the
    store (and the runs of its setup); None for a run that is gone, or a name that is no preset."""
    if ref.startswith(RUN):
        run = next((run for run in runs if run.run_id == ref[len(RUN):]), None)
        if run is None:
            return None
        group = next((group for group in groups(runs) if run in group.runs), None)
        side = Side(group, run.experiment.config.train_limit is None) if group else None
        return Network(run.name, run.experiment, run.info.get("params"), None, side)
    try:
        preset = get_preset(ref)
    except KeyError:  # a lesson file edited by hand
        return None
    return Network(preset.name, preset.experiment, preset.params, preset.report.finding, side_of(preset, runs))


def report_steps() -> list[Step]:
    """The report's lesson: every experiment with a finding, against the nearest experiment it compares with."""
    order = [preset.name for preset in PRESETS]
    steps = []
    for name in order:
        compared = [other for other, _claim in FINDING_COMPARES.get(name, ())]
        if compared:
            steps.append(Step(max(compared, key=order.index), name))
    return steps


class Lesson:
    """The lesson's state in one small JSON file, changed under a lock by read-modify-write."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.path = Path(home or default_home()) / LESSON_FILE
        self._lock = _locks.setdefault(self.path, threading.Lock())

    # ---------------------------------------------------------------- reading

    def state(self) -> dict:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        return _valid(state)

    def steps(self) -> list[Step]:
        return [Step(**step) for step in self.state()["steps"]]

    def current(self) -> tuple[int, Step, str]:
        """(step number, the step, its phase)."""
        state = self.state()
        return state["step"], Step(**state["steps"][state["step"]]), state["phase"]

    def votes(self, step: int, second: bool = False) -> dict[str, str]:
        """The votes of one vote: browser session tag → choice."""
        return _votes(self.state(), step, second)

    def my_vote(self, person: Person, step: int, second: bool = False) -> str | None:
        return self.votes(step, second).get(person.tag)

    def version(self) -> tuple | None:
        """What changes whenever the lesson does: a page redraws when it sees a new one."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    # ---------------------------------------------------------------- the teacher's actions

    def go_to(self, person: Person, step: int) -> None:
        check_teacher(person, N_("In a class, only the teacher can move the lesson to another step."))

        def change(state):
            if not 0 <= step < len(state["steps"]):
                raise Refused(_("The lesson has no step {number}.").format(number=step + 1))
            state["step"], state["phase"] = step, self._phase_of(state, step)
        self._change(change)

    def open_vote(self, person: Person) -> None:
        check_teacher(person, N_("In a class, only the teacher can open a vote."))
        self._move({QUESTION: VOTE, CLOSED: SECOND_VOTE}, _("There is no vote to open now."))

    def close_vote(self, person: Person) -> None:
        check_teacher(person, N_("In a class, only the teacher can close a vote."))
        self._move({VOTE: CLOSED, SECOND_VOTE: SECOND_CLOSED}, _("There is no open vote to close."))

    def reveal(self, person: Person) -> None:
        check_teacher(person, N_("In a class, only the teacher can reveal the answer."))

        def change(state):
            if state["phase"] not in (CLOSED, SECOND_CLOSED):
                raise Refused(_("Close the vote before revealing the answer."))
            state["phase"] = REVEALED
            state["revealed"] = sorted(set(state["revealed"]) | {state["step"]})
        self._change(change)

    def use_steps(self, person: Person, steps: list[Step]) -> None:
        """A lesson of the teacher's own (or the report's again): it starts at its first step, with no votes."""
        check_teacher(person, N_("In a class, only the teacher can change the lesson."))
        if not steps:
            raise Refused(_("A lesson needs at least one step."))
        for step in steps:
            for ref in (step.before, step.after):
                if not ref.startswith(RUN):
                    get_preset(ref)  # KeyError for a name that is no preset
        self._change(lambda state: state.update(steps=[step.__dict__ for step in steps], step=0, phase=QUESTION,
                                                votes={}, revealed=[]))

    # ---------------------------------------------------------------- everyone's

    def vote(self, person: Person, choice: str) -> None:
        """One vote per browser session per vote; only while a vote is open."""
        if choice not in CHOICES:
            raise Refused(_("A vote is one of: better, the same, worse."))

        def change(state):
            if state["phase"] not in (VOTE, SECOND_VOTE):
                raise Refused(_("The vote is not open: wait for the teacher to open it."))
            box = state["votes"].setdefault(str(state["step"]), {}).setdefault(
                "second" if state["phase"] == SECOND_VOTE else "first", {})
            if person.tag in box:
                raise Refused(_("You have voted in this vote already."))
            box[person.tag] = choice
        self._change(change)

    # ---------------------------------------------------------------- inside

    def _move(self, moves: dict, refusal: str) -> None:
        def change(state):
            if state["phase"] not in moves:
                raise Refused(refusal)
            state["phase"] = moves[state["phase"]]
        self._change(change)

    def _change(self, change) -> None:
        with self._lock:
            state = self.state()
            change(state)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(state, indent=1, sort_keys=True))

    @staticmethod
    def _phase_of(state: dict, step: int) -> str:
        """A step returned to: revealed if it was, else its question (its votes are kept)."""
        return REVEALED if step in state["revealed"] else QUESTION


def _valid(state: dict) -> dict:
    """The lesson as kept, or the report's lesson at its first step where the file is missing or damaged."""
    try:
        steps = [Step(str(step["before"]), str(step["after"])) for step in state["steps"]]
        if not steps or not 0 <= int(state["step"]) < len(steps) or state["phase"] not in (
                QUESTION, VOTE, CLOSED, SECOND_VOTE, SECOND_CLOSED, REVEALED):
            raise ValueError
        votes = {str(key): {kind: {str(tag): choice for tag, choice in box.items() if choice in CHOICES}
                            for kind, box in value.items() if kind in ("first", "second")}
                 for key, value in dict(state.get("votes", {})).items()}
        revealed = sorted({int(step) for step in state.get("revealed", []) if 0 <= int(step) < len(steps)})
        return {"steps": [step.__dict__ for step in steps], "step": int(state["step"]), "phase": state["phase"],
                "votes": votes, "revealed": revealed}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {"steps": [step.__dict__ for step in report_steps()], "step": 0, "phase": QUESTION, "votes": {},
                "revealed": []}


def _votes(state: dict, step: int, second: bool) -> dict[str, str]:
    return dict(state["votes"].get(str(step), {}).get("second" if second else "first", {}))


def split(votes: dict[str, str]) -> dict[str, int]:
    """How many chose each answer, in CHOICES' order."""
    return {choice: sum(vote == choice for vote in votes.values()) for choice in CHOICES}


# ---------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Side:
    group: Group
    full: bool  # trained at the report's own settings (all images, its epochs); a run of one's own: all images


def side_of(preset: Preset, runs: list[Run]) -> Side | None:
    """The store's runs of a preset's network (any epochs, images or seed): the group at the report's full settings
    with the most seeds, else the largest group (quick versions on a slice); None when there is none."""
    mine = [run for run in runs if run.metrics and matching_preset(run.experiment) == preset]
    found = groups(mine)
    if not found:
        return None
    full = [group for group in found if _full(group, preset)]
    best = max(full or found, key=lambda group: len(group.runs))
    return Side(best, bool(full))


def _full(group: Group, preset: Preset) -> bool:
    config, report = group.runs[0].experiment.config, preset.experiment.config
    return config.train_limit is None and config.epochs == report.epochs


@dataclass(frozen=True)
class Answer:
    choice: str  # better, same or worse: what `after` is, against `before`
    real: bool
    sentence: str  # the statistics' own sentence (Compare's)
    full: bool  # both sides at the report's settings; else about quick versions on a slice


def answer(step: Step, runs: list[Run], labels) -> Answer | None:
    """The step's answer from the store's runs, or None where either network has no finished run. Two groups of
    seeds: Welch's t on their accuracies; otherwise McNemar's test on their newest runs (needs the test labels)."""
    from .verdict import Side as VerdictSide
    from .verdict import compare

    networks = network(step.before, runs), network(step.after, runs)
    if None in networks or None in (networks[0].side, networks[1].side):
        return None
    before, after = (one.side for one in networks)
    both_groups = len(before.group.runs) > 1 and len(after.group.runs) > 1
    if not both_groups and labels is None:
        return None
    sides = [VerdictSide(one.name, one.side.group if both_groups else Group((one.side.group.runs[-1],)))
             for one in reversed(networks)]
    result = compare(*sides, labels=labels if not both_groups else None)
    real = result["p_value"] < 0.05
    gain = result["difference"] if both_groups else result["only_a"] - result["only_b"]
    choice = "same" if not real else ("better" if gain > 0 else "worse")
    return Answer(choice, real, result["sentence"], before.full and after.full)


def predicted(first: dict[str, str], second: dict[str, str], choice: str) -> tuple[int, int]:
    """How many of the class's last vote on a step (the second, if there was one) chose the answer, of how many."""
    last = second or first
    return sum(vote == choice for vote in last.values()), len(last)


def _name(ref: str, runs: list[Run]) -> str:
    """A step's network by name: a preset's is its ref; a run's is looked up (its id, if it is gone)."""
    run_id = ref.removeprefix(RUN)
    return ref if run_id == ref else next((run.name for run in runs if run.run_id == run_id), run_id)


def summary(lesson: Lesson, runs: list[Run], labels, answer_of=None) -> list[dict]:
    """The lesson's end, one row per step: the question, the class's split in each vote, the answer (for a step that
    was revealed: `answer_of(step)`, `answer` by default — a page passes one that remembers) and the share of the
    class that predicted it in its last vote. No student is named."""
    answer_of = answer_of or (lambda step: answer(step, runs, labels))
    state, rows = lesson.state(), []
    for number, raw in enumerate(state["steps"]):
        step = Step(**raw)
        names = [_name(ref, runs) for ref in (step.before, step.after)]
        first, second = _votes(state, number, False), _votes(state, number, True)
        found = answer_of(step) if number in state["revealed"] else None
        right, voted = predicted(first, second, found.choice) if found else (0, 0)
        rows.append({"step": number + 1, "question": question(*names), "first_vote": split(first),
                     "second_vote": split(second) if second else None, "answer": found.choice if found else None,
                     "right": right / voted if voted else None})
    return rows
