"""Who may do what when a dashboard serves a class: the teacher, the students, and the students' training budget.

Outside a class (the dashboard on this machine only) the person at the laptop is `SOLO` and may do everything, as
before roles existed. In a class, the teacher may do everything; a student may look at everything, draw, save
drawings, and queue runs within the budget; of what is shared, a student may change only what their own browser
session made: their runs (stop, remove, rename, delete) and the drawings they saved.

Every check raises `Refused` with the sentence a page shows as it is; the code that acts (the training worker's
queue, `classroom.ClassActions`) calls these checks itself, so no widget, callback or page can act around them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .i18n import N_, _, ngettext, number
from .spec import Experiment


class Role(StrEnum):
    SOLO = "solo"  # not a class: the dashboard serves only this machine
    TEACHER = "teacher"
    STUDENT = "student"


class Refused(PermissionError):
    """An action this person may not take; the message is the sentence that says why."""


@dataclass(frozen=True)
class Person:
    """One browser session: its role, and an anonymous tag that marks what it made (its runs, its drawings)."""

    role: Role
    tag: str
    address: str | None = None  # the browser's address as the server sees it (not kept in run.json)

    @property
    def runs_the_class(self) -> bool:
        """The teacher, or the only person there is."""
        return self.role is not Role.STUDENT

    @property
    def label(self) -> str:
        """How the class panel names this session: never a name, only its role and the start of its tag."""
        return "the teacher" if self.role is Role.TEACHER else f"student {self.tag[:4]}" if \
            self.role is Role.STUDENT else "this machine"

    def as_record(self) -> dict:
        """What run.json keeps of who queued a run."""
        return {"role": str(self.role), "tag": self.tag}

    def shares_a_budget_with(self, other: "Person") -> bool:
        """Whether `other`'s runs count against this student's budget: their own, and those of every other tab of the
        same device (a new tab is a new session, and twenty tabs must not make twenty budgets). Devices are told
        apart by address, except on loopback, where a class tried out on one machine is everyone at once."""
        return other.tag == self.tag or (self.address is not None and self.address == other.address
                                         and self.address not in LOOPBACK_ADDRESSES)


LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class Budget:
    """What each student may train: at most `runs_at_once` of their runs waiting or training, each at most `epochs`
    epochs on at most `train_images` training images; nothing at all when `training` is off."""

    training: bool = True
    runs_at_once: int = 2
    epochs: int = 5
    train_images: int = 10_000

    LIMITS = {"runs_at_once": (1, 20), "epochs": (1, 50), "train_images": (1_000, 60_000)}
    BUDGET_LIMITS = {  # what a setting out of its range is told, as _(message)
        "runs_at_once": N_("A student's runs at once must be a whole number from {low} to {high}."),
        "epochs": N_("A student's epochs must be a whole number from {low} to {high}."),
        "train_images": N_("A student's train images must be a whole number from {low} to {high}."),
    }

    def checked(self) -> "Budget":
        """This budget, or a Refused naming the first setting out of its range."""
        for name, (low, high) in self.LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise Refused(_(self.BUDGET_LIMITS[name]).format(low=number(low), high=number(high)))
        return self

    def as_dict(self) -> dict:
        return {"training": self.training, "runs_at_once": self.runs_at_once, "epochs": self.epochs,
                "train_images": self.train_images}

    @classmethod
    def from_dict(cls, data) -> "Budget":
        """A budget kept in a file; anything unreadable in it gives the default budget."""
        try:
            budget = cls(**{key: data[key] for key in cls().as_dict() if key in data}).checked()
        except (Refused, TypeError):
            return cls()
        return budget if isinstance(budget.training, bool) else cls()


SOLO = Person(Role.SOLO, "")  # outside a class: whoever uses the dashboard or the command line


def owner_of(info) -> dict | None:
    """Who queued a run, as run.json keeps it (None for a run made outside the dashboard: the command line)."""
    queued_by = info.get("queued_by")
    return queued_by if isinstance(queued_by, dict) and isinstance(queued_by.get("tag"), str) else None


def may_change_run(person: Person, owner: dict | None) -> bool:
    """Whether `person` may stop, remove, rename or delete a run queued by `owner` (see owner_of)."""
    return person.runs_the_class or (owner is not None and owner.get("tag") == person.tag)


RUN_CHANGE_REFUSALS = {
    "stop": N_("In a class, a student can stop only the runs they queued themselves; this one is someone else's."),
    "remove": N_("In a class, a student can remove only the runs they queued themselves; this one is someone else's."),
    "rename": N_("In a class, a student can rename only the runs they queued themselves; this one is someone else's."),
    "delete": N_("In a class, a student can delete only the runs they queued themselves; this one is someone else's."),
}


def check_run_change(person: Person, owner: dict | None, action: str) -> None:
    """May `person` `action` ("stop", "remove", "rename", "delete") a run queued by `owner`?"""
    if not may_change_run(person, owner):
        raise Refused(_(RUN_CHANGE_REFUSALS[action]))


def check_teacher(person: Person, refusal: str) -> None:
    """Actions that are the teacher's alone; `refusal` is the sentence a student gets, marked with N_ ("In a class,
    only the teacher can …") and translated here, when it is said."""
    if not person.runs_the_class:
        raise Refused(_(refusal))


def check_drawing_change(person: Person, drawing_session: str) -> None:
    if not person.runs_the_class and drawing_session != person.tag:
        raise Refused(_("In a class, a student can delete only the drawings they saved themselves, to undo a wrong "
                        "label."))


def check_queue(person: Person, experiment: Experiment, budget: Budget, waiting_or_training: int) -> None:
    """May `person` queue this run, with `waiting_or_training` of theirs already in line or in flight?"""
    if person.runs_the_class:
        return
    if not budget.training:
        raise Refused(_("The teacher has turned student training off for now; you can still draw, compare and look "
                        "inside every model."))
    if waiting_or_training >= budget.runs_at_once:
        raise Refused(ngettext("In this class a student may have {count} run waiting or training at once; wait until "
                               "one of yours has finished (or remove one on Train).",
                               "In this class a student may have {count} runs waiting or training at once; wait until "
                               "one of yours has finished (or remove one on Train).",
                               budget.runs_at_once).format(count=budget.runs_at_once))
    config = experiment.config
    if config.epochs > budget.epochs:
        raise Refused(_("In this class a student's run trains at most {most} epochs; this one asks for {asked}.").format(
            most=budget.epochs, asked=config.epochs))
    if (config.train_limit or 60_000) > budget.train_images:
        raise Refused(_("In this class a student's run trains on at most {most} images; this one asks for {asked} "
                        "(tick “Train on a slice”).").format(most=number(budget.train_images),
                                                             asked=number(config.train_limit or 60_000)))


def fit_to_budget(experiment: Experiment, budget: Budget) -> Experiment:
    """The experiment shortened to what a student may train (fewer epochs, a slice of the images): what Build and
    Draw queue for a student, so that a preset's Train works within the budget instead of being refused."""
    config = experiment.config
    return replace(experiment, config=replace(config, epochs=min(config.epochs, budget.epochs),
                                              train_limit=min(config.train_limit or 60_000, budget.train_images)))
