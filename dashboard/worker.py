"""One process-wide training worker for the dashboard: the queue of runs, and the one loop that starts them.

Browser sessions submit runs; a single background thread hands each to an executor as soon as it has a free place:
the dashboard's own training process (`trainer_client.LocalTrainer`, one run at a time), or a Dask cluster
(`mnistlab.executor.Cluster`, with MNISTLAB_SCHEDULER or MNISTLAB_WORKERS), as many at once as it has workers. Both
take a run the same way — submit, then stop or wait — and feed its events to a `LiveRun` (live.py) that the pages
copy from when they poll. Nothing here calls Streamlit.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field

from live import LiveRun, LiveSnapshot
from mnistlab.executor import SCHEDULER_ENV  # the name only: Dask itself is imported when a cluster is used
from mnistlab.spec import Experiment, validate
from mnistlab.status import RunStatus
from mnistlab.recorder import RunRecorder
from mnistlab.store import RunStore
from mnistlab.train import TrainingObserver, TrainResult
from trainer_client import LocalTrainer

ORIGIN = "dashboard"  # run.json's origin for runs queued here
WARM_VAR = "MNISTLAB_WARM_TRAINER"  # "0": start the training process at the first run, not with the worker
WORKERS_ENV = "MNISTLAB_WORKERS"  # N: a LocalCluster of N training processes started by the server
CLUSTER_RETRY_SECONDS = 5.0

@dataclass
class QueuedRun:
    run_id: str
    experiment: Experiment
    cancelled: bool = field(default=False)


class TrainingWorker:
    """A queue of runs, the thread that starts them on the executor, and their live state."""

    def __init__(self, store: RunStore, batch_every: int = 5, scheduler: str | None = None):
        """`scheduler`: a Dask scheduler's address (default: $MNISTLAB_SCHEDULER) to train there, as many runs at
        once as it has workers, or "local:N" ($MNISTLAB_WORKERS=N) for N worker processes on this machine; without
        one, runs train here, one at a time."""
        self.store = store
        self.batch_every = batch_every
        workers = os.environ.get(WORKERS_ENV, "").strip()
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or (f"local:{workers}" if workers else None)
        self.problem: str | None = None  # why queued runs are not training (a scheduler that does not answer)
        self.executor = None  # LocalTrainer or Cluster, once the loop has one
        self._queue: queue.Queue[QueuedRun] = queue.Queue()
        self._pending: list[QueuedRun] = []
        self._lock = threading.Lock()
        self._places = threading.Condition(self._lock)
        self._flying: dict[str, tuple[LiveRun, object]] = {}  # run id → (live state, its LocalRun or ClusterRun)
        self._last: LiveRun | None = None
        self._thread = threading.Thread(target=self._loop, name="mnistlab-training", daemon=True)
        self._thread.start()
        self._requeue_unstarted()

    def submit(self, experiment: Experiment) -> str:
        """Validate, store the run as queued, and put it in line. Returns the run id."""
        validate(experiment)
        run_id = self.store.create_run(experiment, origin=ORIGIN)
        self._enqueue(QueuedRun(run_id, experiment))
        return run_id

    def stop(self, run_id: str) -> bool:
        """Stop a run in flight after its current batch, or take a queued one out of line (and out of the store:
        a run that never started has nothing worth keeping)."""
        with self._lock:
            if run_id in self._flying:
                live, started = self._flying[run_id]
                live.stopping()
                if started is not None:
                    started.stop()
                return True
            for item in self._pending:
                if item.run_id == run_id:
                    item.cancelled = True
                    self._pending.remove(item)
                    self.store.delete(run_id)
                    return True
        return False

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
        with self._lock:
            return [(item.run_id, item.experiment.name) for item in self._pending]

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._flying) or bool(self._pending)

    # ---------------------------------------------------------------- the loop

    def _loop(self):
        if not self.scheduler:  # warm now: TensorFlow imported, MNIST loaded, so the first Train is quick
            self.executor = LocalTrainer(self.store, warm=os.environ.get(WARM_VAR, "1") != "0")
        while True:
            item = self._queue.get()
            while not item.cancelled and self.executor is None:
                self.executor = self._connect()
                if self.executor is None:
                    time.sleep(CLUSTER_RETRY_SECONDS)  # the run stays in line; the Train page says why
            if item.cancelled or not self._wait_for_a_place(item):
                continue
            self._start(item)

    def _wait_for_a_place(self, item: QueuedRun) -> bool:
        """Until the executor has a free place (a cluster's workers are counted afresh each second: one still
        starting, or a lab machine joining, counts); then the run leaves the line. False if it was taken out."""
        while True:
            places = max(1, self.executor.slots)  # asked outside the lock the pages read through
            with self._places:
                if item.cancelled:  # stop() took it out of line (and out of _pending) while it waited
                    return False
                if len(self._flying) < places:
                    self._pending.remove(item)
                    self._flying[item.run_id] = (LiveRun(item.run_id, item.experiment), None)
                    return True
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
        with self._lock:
            self._pending.append(item)
        self._queue.put(item)

    def _requeue_unstarted(self) -> None:
        """Runs queued here that never started before the server last stopped: in line again, oldest first.
        (Their queue lived in the old server's memory; the store still has them, owned by a process now gone.)"""
        for run in reversed(self.store.list_runs().runs):
            if run.info.get("origin") == ORIGIN and run.status == RunStatus.INTERRUPTED and "started" not in run.info:
                self.store.claim(run.run_id)
                self._enqueue(QueuedRun(run.run_id, run.experiment))


class _Landed(TrainingObserver):
    """Frees the run's place once every other observer has heard its end."""

    def __init__(self, worker: TrainingWorker, run_id: str):
        self.worker, self.run_id = worker, run_id

    def run_ended(self, result):
        self.worker._landed(self.run_id)
