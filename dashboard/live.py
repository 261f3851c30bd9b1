"""A run being trained, as the pages see it: `LiveRun` hears the run's events (from the training process or a Dask
worker, on the worker's threads) and keeps its state under a lock; `snapshot()` is a copy the pages read when they
poll. Nothing here calls Streamlit."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from mnistlab.spec import Experiment
from mnistlab.train import TrainingObserver, eta_seconds, event_to_dict


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
    experiment: Experiment | None = None

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
        self._lock = threading.Lock()
        self._status = "starting"
        self._epoch = self._epochs = self._batch = self._steps = 0
        self._started = time.perf_counter()
        self._elapsed = 0.0
        self._eta: float | None = None
        self._first: tuple[int, float] | None = None  # the first batch heard of: (batch, elapsed)
        self._epoch_seconds: list[float] = []
        self._epoch_rows: list[dict] = []
        self._batch_rows: list[dict] = []
        self._message = ""

    def run_started(self, event):
        with self._lock:
            self._status = "stopping" if self._status == "stopping" else "running"
            self._epochs, self._steps = event.epochs, event.steps_per_epoch
            self._started = time.perf_counter()

    def batch_ended(self, event):
        with self._lock:
            self._epoch, self._batch, self._elapsed = event.epoch, event.batch, event.elapsed
            self._batch_rows.append(event_to_dict(event))
            self._first = self._first or (event.batch, event.elapsed)
            self._eta = eta_seconds(self._epoch_seconds, self._epochs, event.epoch, event.batch, self._steps,
                                    event.elapsed, self._first)

    def epoch_ended(self, event):
        with self._lock:
            self._epoch_seconds.append(event.seconds)
            self._epoch_rows.append(event_to_dict(event))
            self._epoch, self._batch, self._elapsed, self._eta = event.epoch, self._steps, event.elapsed, event.eta

    def stopping(self):
        """A stop was asked for: the training process ends the run after its current batch."""
        with self._lock:
            if self._status in ("starting", "running"):
                self._status = "stopping"

    def evaluation_started(self, event):
        with self._lock:
            self._status = "evaluating"

    def run_ended(self, result):
        with self._lock:
            self._status, self._message = result.status, result.message

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            elapsed = time.perf_counter() - self._started if self._status in ("running", "stopping") else self._elapsed
            return LiveSnapshot(self.run_id, self.experiment.name, self._status, self._epoch, self._epochs,
                                self._batch, self._steps, elapsed, self._eta, list(self._epoch_rows),
                                list(self._batch_rows), self._message, self.experiment)
