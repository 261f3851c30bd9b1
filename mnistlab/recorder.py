"""The training observer that keeps a run's folder up to date as it trains (the store itself knows nothing of
training)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes, write_json
from .liveness import owner
from .status import RunStatus
from .store import PREDICTIONS, RunStore, now_iso
from .train import TrainingObserver, event_to_dict


class RunRecorder(TrainingObserver):
    """Observer that keeps a run's files up to date: no per-batch disk writes, one write per epoch. The events it
    hears are for watching the run as it trains; the history it keeps is the one the TrainResult brings."""

    def __init__(self, store: RunStore, run_id: str):
        self.store = store
        self.run_id = run_id
        self._epochs: list[dict] = []
        self._batches: list[dict] = []

    def run_started(self, event) -> None:
        from . import backend

        environment = event.environment or {**backend.environment(), "executor": "local"}  # a remote run says its own
        self.store.update(self.run_id, status=RunStatus.RUNNING, started=now_iso(), **environment, epochs_planned=event.epochs,
                          steps_per_epoch=event.steps_per_epoch, train_samples=event.train_samples,
                          validation_samples=event.validation_samples, **owner())

    def batch_ended(self, event) -> None:
        self._batches.append(event_to_dict(event))

    def epoch_ended(self, event) -> None:
        self._epochs.append(event_to_dict(event))
        self._write_history({"epochs": self._epochs, "batches": self._batches})
        self.store.update(self.run_id, epochs_run=event.completed)

    def run_ended(self, result) -> None:
        folder = self.store.runs_dir / self.run_id
        self._write_history(result.history)  # the trainer's own record: a remote run's events may arrive late or never
        if result.metrics is not None:
            write_json(folder / "metrics.json", result.metrics)
        if result.predictions is not None:
            write_predictions(folder, result.predictions)
        if result.model is not None and result.metrics is not None:
            self.store.save_model(self.run_id, result.model)
        self.store.update(self.run_id, status=result.status, finished=now_iso(),
                          train_seconds=round(result.seconds, 3), epochs_run=result.epochs_run,
                          message=result.message)

    def _write_history(self, history: dict) -> None:
        write_json(self.store.runs_dir / self.run_id / "history.json",
                   {"epochs": list(history.get("epochs", [])), "batches": list(history.get("batches", []))})


def write_predictions(folder: Path, predictions: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(predictions, np.uint8), allow_pickle=False)
    atomic_write_bytes(folder / PREDICTIONS, buffer.getvalue())

