"""One process-wide training worker for the dashboard.

Browser sessions submit runs; a single background thread trains them one at a time (two
cores: parallel training would only slow both). The worker is an observer of
`mnistlab.train` through `LiveRun`, a plain object guarded by a lock that pages copy from
when they poll. Nothing here calls Streamlit.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from mnistlab.spec import Experiment, validate
from mnistlab.store import RunRecorder, RunStore
from mnistlab.train import StopSignal, TrainingObserver


@dataclass
class LiveSnapshot:
    """A copy of a live run's state, safe to read without the lock."""
    run_id: str
    name: str
    status: str
    epoch: int
    epochs: int
    batch: int
    steps: int
    elapsed: float
    eta: float | None
    epochs_history: list[dict]
    batches_history: list[dict]
    message: str = ""

    @property
    def fraction(self) -> float:
        if not self.epochs or not self.steps:
            return 0.0
        done = (max(self.epoch, 1) - 1) * self.steps + self.batch
        return min(1.0, done / (self.epochs * self.steps))


class LiveRun(TrainingObserver):
    """The state of the run being trained, updated from the training thread."""

    def __init__(self, run_id: str, experiment: Experiment):
        self.run_id = run_id
        self.experiment = experiment
        self.stop = StopSignal()
        self._lock = threading.Lock()
        self._status = "starting"
        self._epoch = self._epochs = self._batch = self._steps = 0
        self._started = time.perf_counter()
        self._elapsed = 0.0
        self._eta: float | None = None
        self._epoch_seconds: list[float] = []
        self._epoch_rows: list[dict] = []
        self._batch_rows: list[dict] = []
        self._message = ""

    def run_started(self, event):
        with self._lock:
            self._status = "running"
            self._epochs, self._steps = event.epochs, event.steps_per_epoch
            self._started = time.perf_counter()

    def batch_ended(self, event):
        with self._lock:
            self._epoch, self._batch, self._elapsed = event.epoch, event.batch, event.elapsed
            self._batch_rows.append(vars(event))
            if self._epoch_seconds:
                per_epoch = sum(self._epoch_seconds) / len(self._epoch_seconds)
                self._eta = per_epoch * (self._epochs - event.epoch + 1 - event.batch / self._steps)

    def epoch_ended(self, event):
        with self._lock:
            self._epoch_seconds.append(event.seconds)
            self._epoch_rows.append(vars(event))
            self._epoch, self._batch, self._elapsed, self._eta = event.epoch, self._steps, event.elapsed, event.eta

    def run_ended(self, result):
        with self._lock:
            self._status, self._message = result.status, result.message

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            elapsed = time.perf_counter() - self._started if self._status == "running" else self._elapsed
            return LiveSnapshot(self.run_id, self.experiment.name, self._status, self._epoch, self._epochs,
                                self._batch, self._steps, elapsed, self._eta, list(self._epoch_rows),
                                list(self._batch_rows), self._message)


@dataclass
class QueuedRun:
    run_id: str
    experiment: Experiment
    cancelled: bool = field(default=False)


class TrainingWorker:
    """A queue of runs and the thread that trains them in order."""

    def __init__(self, store: RunStore, batch_every: int = 5):
        self.store = store
        self.batch_every = batch_every
        self._queue: queue.Queue[QueuedRun] = queue.Queue()
        self._pending: list[QueuedRun] = []
        self._lock = threading.Lock()
        self._current: LiveRun | None = None
        self._last: LiveRun | None = None
        self._thread = threading.Thread(target=self._loop, name="mnistlab-training", daemon=True)
        self._thread.start()

    def submit(self, experiment: Experiment) -> str:
        """Validate, store the run as queued, and put it in line. Returns the run id."""
        validate(experiment)
        run_id = self.store.create_run(experiment)
        item = QueuedRun(run_id, experiment)
        with self._lock:
            self._pending.append(item)
        self._queue.put(item)
        return run_id

    def stop(self, run_id: str) -> bool:
        """Stop the running run after its current batch, or take a queued one out of line (and out of the store:
        a run that never started has nothing worth keeping)."""
        with self._lock:
            if self._current and self._current.run_id == run_id:
                self._current.stop.request()
                return True
            for item in self._pending:
                if item.run_id == run_id:
                    item.cancelled = True
                    self._pending.remove(item)
                    self.store.delete(run_id)
                    return True
        return False

    def current(self) -> LiveSnapshot | None:
        with self._lock:
            live = self._current
        return live.snapshot() if live else None

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
            return self._current is not None or bool(self._pending)

    def _record_failure(self, run_id: str, message: str) -> None:
        try:
            self.store.update(run_id, status="failed", message=message)
        except Exception:  # the run folder may be gone (deleted from another tab)
            pass

    def _loop(self):
        from mnistlab.train import train

        while True:
            item = self._queue.get()
            if item.cancelled:
                continue
            live = LiveRun(item.run_id, item.experiment)
            with self._lock:
                self._pending.remove(item)
                self._current = live
            try:
                self.store.claim(item.run_id)
                train(item.experiment, [RunRecorder(self.store, item.run_id), live], stop=live.stop,
                      batch_every=self.batch_every)
            except Exception as err:  # the run is recorded as failed; the worker carries on
                message = f"Training failed: {type(err).__name__}: {err}"
                live.run_ended(_Failed(message))
                self._record_failure(item.run_id, message)
            finally:
                with self._lock:
                    self._current, self._last = None, live


@dataclass
class _Failed:
    """Stands in for a TrainResult when training raised before producing one."""
    message: str
    status: str = "failed"
