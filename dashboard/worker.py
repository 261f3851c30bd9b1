"""One process-wide training worker for the dashboard: the queue of runs, and the one loop that starts them.

Browser sessions submit runs; a single background thread hands each to an executor as soon as it has a free place:
the dashboard's own training process (`trainer_client.LocalTrainer`, one run at a time), or a Dask cluster
(`mnistlab.executor.Cluster`, with MNISTLAB_SCHEDULER or MNISTLAB_WORKERS), as many at once as it has workers. Both
take a run the same way — submit, then stop or wait — and feed its events to a `LiveRun` (live.py) that the pages
copy from when they poll. Nothing here calls Streamlit.

In a class, the line is where rights are checked for the queue: a student's run is queued only within the budget
(mnistlab.roles), stopped or removed only by the student who queued it or the teacher, and the teacher's runs go
ahead of the students' waiting ones.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from live import LiveRun, LiveSnapshot
from mnistlab.classroom import ClassSettings
from mnistlab.i18n import N_
from mnistlab.executor import SCHEDULER_ENV  # the name only: Dask itself is imported when a cluster is used
from mnistlab.recorder import RunRecorder
from mnistlab.roles import SOLO, Person, Role, check_queue, check_run_change, check_teacher, owner_of
from mnistlab.spec import Experiment, validate
from mnistlab.status import RunStatus
from mnistlab.store import RunStore
from mnistlab.train import TrainingObserver, TrainResult
from trainer_client import LocalTrainer

ORIGIN = "dashboard"  # run.json's origin for runs queued here
WARM_VAR = "MNISTLAB_WARM_TRAINER"  # "0": start the training process at the first run, not with the worker
WORKERS_ENV = "MNISTLAB_WORKERS"  # N: a LocalCluster of N training processes started by the server
CLUSTER_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class QueuedRun:
    run_id: str
    experiment: Experiment
    person: Person = SOLO  # who queued it
    repeat: tuple[int, int] | None = None  # (k, n): the k-th run of a Repeat × n

    @property
    def name(self) -> str:
        return self.experiment.name


class TrainingWorker:
    """A queue of runs, the thread that starts them on the executor, and their live state."""

    def __init__(self, store: RunStore, batch_every: int = 5, scheduler: str | None = None,
                 settings: ClassSettings | None = None):
        """`scheduler`: a Dask scheduler's address (default: $MNISTLAB_SCHEDULER) to train there, as many runs at
        once as it has workers, or "local:N" ($MNISTLAB_WORKERS=N) for N worker processes on this machine; without
        one, runs train here, one at a time. `settings`: the class's budget for students (kept under the store's home)."""
        self.store = store
        self.settings = settings or ClassSettings(store.home)
        self.batch_every = batch_every
        workers = os.environ.get(WORKERS_ENV, "").strip()
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or (f"local:{workers}" if workers else None)
        self.problem: str | None = None  # why queued runs are not training (a scheduler that does not answer)
        self.executor = None  # LocalTrainer or Cluster, once the loop has one
        self._pending: list[QueuedRun] = []  # in the order queued
        self._lock = threading.Lock()
        self._places = threading.Condition(self._lock)  # told when a run is queued or a place comes free
        self._submitting = threading.Lock()  # one submit at a time: a student's count and their new run agree
        self._flying: dict[str, tuple[LiveRun, object]] = {}  # run id → (live state, its LocalRun or ClusterRun)
        self._queued_by: dict[str, Person] = {}  # run id → who queued it, for every run waiting or in flight
        self._repeats: dict[str, tuple[int, int]] = {}  # run id → (k, n) for the runs of a Repeat × n here
        self._last: LiveRun | None = None
        self._thread = threading.Thread(target=self._loop, name="mnistlab-training", daemon=True)
        self._thread.start()
        self._requeue_unstarted()

    def submit(self, experiment: Experiment, person: Person = SOLO, reproduction: bool = False,
               repeat: tuple[int, int] | None = None) -> str:
        """Validate, check that `person` may queue it (a student: within the class's budget; the report's reproductions:
        the teacher), store the run as queued, and put it in line. Returns the run id; raises roles.Refused."""
        validate(experiment)
        if reproduction:
            check_teacher(person, N_("In a class, only the teacher can queue the report's reproductions."))
        with self._submitting:
            with self._lock:
                theirs = sum(1 for other in self._queued_by.values() if person.shares_a_budget_with(other))
            check_queue(person, experiment, self.settings.budget, theirs)
            run_id = self.store.create_run(experiment, origin=ORIGIN, queued_by=person.as_record())
            self._enqueue(QueuedRun(run_id, experiment, person, repeat))
        return run_id

    def stop(self, run_id: str, person: Person = SOLO) -> bool:
        """Stop a run in flight after its current batch, or take a queued one out of line (and out of the store:
        a run that never started has nothing worth keeping). Only the teacher, or the student who queued it, may."""
        with self._lock:
            owner = self._queued_by.get(run_id)
            if owner is None:
                return False
            in_flight = run_id in self._flying
            check_run_change(person, owner.as_record(), "stop" if in_flight else "remove")
            if in_flight:
                live, started = self._flying[run_id]
                live.stopping()
                if started is not None:
                    started.stop()
                return True
            self._take_out_of_line([item for item in self._pending if item.run_id == run_id])
        return True

    def remove_students_waiting(self, person: Person) -> int:
        """The teacher's one action to give the machine back: every student's waiting run out of line."""
        check_teacher(person, N_("In a class, only the teacher can remove the students' waiting runs."))
        with self._lock:
            students = [item for item in self._pending if item.person.role is Role.STUDENT]
            self._take_out_of_line(students)
        return len(students)

    def repeat_of(self, run_id: str) -> tuple[int, int] | None:
        """(k, n) when the run waiting or in flight is the k-th of a Repeat × n."""
        with self._lock:
            return self._repeats.get(run_id)

    def queued_by(self, run_id: str) -> Person | None:
        """Who queued a run that is waiting or in flight here (None for any other run)."""
        with self._lock:
            return self._queued_by.get(run_id)

    def _take_out_of_line(self, items: list[QueuedRun]) -> None:
        """Called holding the lock."""
        for item in items:
            self._pending.remove(item)
            self._queued_by.pop(item.run_id, None)
            self._repeats.pop(item.run_id, None)
            try:
                self.store.delete(item.run_id)
            except Exception:  # noqa: BLE001 — deleted from another tab already
                pass

    def current(self) -> LiveSnapshot | None:
        """The run in flight (the first one, when a cluster trains several)."""
        flying = self.in_flight()
        return flying[0] if flying else None

    def in_flight(self) -> list[LiveSnapshot]:
        """Every run training now, oldest first."""
        with self._lock:
            lives = [live for live, _ in self._flying.values()]
        return [live.snapshot() for live in lives]

    def last_finished(self) -> LiveSnapshot | None:
        with self._lock:
            live = self._last
        return live.snapshot() if live else None

    def queued(self) -> list[tuple[str, str]]:
        """The runs waiting, as (run id, name), in the order they will start."""
        return [(item.run_id, item.name) for item in self.waiting()]

    def waiting(self) -> list[QueuedRun]:
        """The runs waiting, with who queued each, in the order they will start."""
        with self._lock:
            return sorted(self._pending, key=_turn)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._flying) or bool(self._pending)

    # ---------------------------------------------------------------- the loop

    def _loop(self):
        if not self.scheduler:  # warm now: TensorFlow imported, MNIST loaded, so the first Train is quick
            self.executor = LocalTrainer(self.store, warm=os.environ.get(WARM_VAR, "1") != "0")
        while True:
            with self._places:
                while not self._pending:
                    self._places.wait()
            while self.executor is None:
                self.executor = self._connect()
                if self.executor is None:
                    time.sleep(CLUSTER_RETRY_SECONDS)  # the runs stay in line; the Train page says why
            item = self._next_in_line()
            if item is not None:
                self._start(item)

    def _next_in_line(self) -> QueuedRun | None:
        """Once the executor has a free place (a cluster's workers are counted afresh each second: one still starting,
        or a lab machine joining, counts), the run whose turn it is leaves the line: the teacher's first, then the
        oldest. None when the line emptied while it waited."""
        while True:
            places = max(1, self.executor.slots)  # asked outside the lock the pages read through
            with self._places:
                if not self._pending:
                    return None
                if len(self._flying) < places:
                    item = min(self._pending, key=_turn)
                    self._pending.remove(item)
                    self._flying[item.run_id] = (LiveRun(item.run_id, item.experiment), None)
                    return item
                self._places.wait(1.0)

    def _start(self, item: QueuedRun) -> None:
        with self._lock:
            live, _ = self._flying[item.run_id]
        recorders = [] if self.executor.stores_runs else [RunRecorder(self.store, item.run_id)]
        try:
            started = self.executor.submit(item.experiment, item.run_id,
                                           [*recorders, live, _Landed(self, item.run_id)], batch_every=self.batch_every)
        except Exception as err:  # noqa: BLE001 — a cluster's connection broke: this run fails, the next reconnects
            self.executor = None
            self._fail(item.run_id, live, f"The Dask cluster could not take the run: {err}")
            self._landed(item.run_id)
            return
        with self._lock:
            if item.run_id in self._flying:
                self._flying[item.run_id] = (live, started)
                if live.snapshot().status == "stopping":  # Stop pressed while it was being submitted
                    started.stop()

    def _connect(self):
        from mnistlab.executor import Cluster, ClusterError

        count = self.scheduler.removeprefix("local:") if self.scheduler.startswith("local:") else None
        if count is not None and not (count.isdigit() and int(count) >= 1):
            self.problem = f"{WORKERS_ENV}={count!r}: give the number of training processes to start, such as 2."
            return None
        try:
            cluster = Cluster(workers=int(count)) if count else Cluster(self.scheduler)
        except ClusterError as err:
            self.problem = str(err)
            return None
        self.problem = None
        return cluster

    def _landed(self, run_id: str) -> None:
        with self._places:
            live, _ = self._flying.pop(run_id, (None, None))
            self._queued_by.pop(run_id, None)
            self._repeats.pop(run_id, None)
            self._last = live or self._last
            self._places.notify_all()

    def _fail(self, run_id: str, live: LiveRun, message: str) -> None:
        try:
            self.store.update(run_id, status=RunStatus.FAILED, message=message)
        except Exception:  # noqa: BLE001 — the run folder may be gone (deleted from another tab)
            pass
        live.run_ended(TrainResult(RunStatus.FAILED, None, {"epochs": [], "batches": []}, None, 0.0, message=message))

    # ---------------------------------------------------------------- the line

    def _enqueue(self, item: QueuedRun) -> None:
        with self._places:
            self._pending.append(item)
            self._queued_by[item.run_id] = item.person
            if item.repeat:
                self._repeats[item.run_id] = item.repeat
            self._places.notify_all()

    def _requeue_unstarted(self) -> None:
        """Runs queued here that never started before the server last stopped: in line again, oldest first.
        (Their queue lived in the old server's memory; the store still has them, owned by a process now gone.)"""
        for run in reversed(self.store.list_runs().runs):
            if run.info.get("origin") == ORIGIN and run.status == RunStatus.INTERRUPTED and "started" not in run.info:
                self.store.claim(run.run_id)
                self._enqueue(QueuedRun(run.run_id, run.experiment, _person(owner_of(run.info))))


def _turn(item: QueuedRun) -> bool:
    """The order of the line: a student's run waits behind the teacher's (min and sorted keep the order queued)."""
    return item.person.role is Role.STUDENT


def _person(record: dict | None) -> Person:
    """Who queued a run, from run.json (a run queued before roles existed was this machine's)."""
    try:
        return Person(Role(record["role"]), record["tag"]) if record else SOLO
    except (KeyError, ValueError):
        return SOLO


class _Landed(TrainingObserver):
    """Frees the run's place once every other observer has heard its end."""

    def __init__(self, worker: TrainingWorker, run_id: str):
        self.worker, self.run_id = worker, run_id

    def run_ended(self, result):
        self.worker._landed(self.run_id)
