"""Training with live progress events.

`train` runs `model.fit` and tells observers what happens; it knows none of them.
An observer subclasses `TrainingObserver` and overrides only the events it cares about
(as sacred's run observers do). The CLI printer, the run store and the dashboard all listen.

Events arrive on a Keras callback thread (Keras dispatches batch callbacks asynchronously),
so an observer must be quick and must not touch UI state directly.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import backend
from .data import load_mnist_float
from .metrics import evaluate_predictions, predicted_classes
from .spec import Experiment, memory_estimate, validate
from .status import RunStatus

DIVERGENCE_FACTOR = 10


@dataclass(frozen=True)
class RunStarted:
    experiment: Experiment
    epochs: int
    steps_per_epoch: int
    train_samples: int
    validation_samples: int
    environment: dict | None = None  # set when the run trains elsewhere (a Dask worker): its TensorFlow, Keras, device


@dataclass(frozen=True)
class BatchEnded:
    epoch: int          # 1-based
    batch: int          # 1-based within the epoch
    step: int           # 1-based over the whole run
    loss: float         # Keras's running mean over the epoch so far
    accuracy: float
    elapsed: float


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    epochs: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    elapsed: float
    eta: float
    completed: float = 0.0  # epochs trained so far: a run stopped 30% into epoch 2 has completed 1.3, not 2


@dataclass(frozen=True)
class EvaluationStarted:
    """Training is over (completed, stopped or diverged); the model is now scored on the 10,000 test images."""
    epochs_completed: float


@dataclass
class TrainResult:
    status: str
    model: object
    history: dict
    metrics: dict | None
    seconds: float
    message: str = ""
    epochs_run: float = 0.0  # fractional when stopped inside an epoch (see EpochEnded.completed)
    predictions: np.ndarray | None = None  # the predicted digit per test image (uint8), for comparing runs


_log = logging.getLogger(__name__)
EVENT_CLASSES = {"run_started": RunStarted, "batch_ended": BatchEnded, "epoch_ended": EpochEnded,
                 "evaluation_started": EvaluationStarted}


def event_from(kind: str, values: dict, experiment: Experiment):
    """An event sent as plain values (a pipe's JSON line, a Dask worker's logged event) back as its object. Keys
    that are not the event's are left out: Dask adds its own, such as the worker's address."""
    event_class = EVENT_CLASSES[kind]
    known = {name: values[name] for name in event_class.__dataclass_fields__ if name in values and name != "experiment"}
    return event_class(experiment, **known) if event_class is RunStarted else event_class(**known)


def event_to_dict(event) -> dict:
    """An event as plain values, for a pipe's JSON line or a Dask worker's logged event (`event_from` turns them
    back): the experiment is left out, as whoever receives the event has it."""
    return {name: getattr(event, name) for name in event.__dataclass_fields__ if name != "experiment"}


def notify(observers, name: str, event) -> None:
    """Tell every observer of an event (`name` is the observer method). An observer watches a run — a progress
    printer, a page, a recorder whose folder was deleted meanwhile — and never decides its outcome: one that fails
    is logged, and the others still hear the event and the run goes on. The same in every process a run is
    trained or watched in (here, the dashboard's training process, a Dask worker, the machine a run was sent from)."""
    for observer in observers:
        try:
            getattr(observer, name)(event)
        except Exception:  # noqa: BLE001
            _log.exception("observer %s failed on %s", type(observer).__name__, name)


class TrainingObserver:
    """No-op defaults: override what you need."""

    def run_started(self, event: RunStarted) -> None: ...

    def batch_ended(self, event: BatchEnded) -> None: ...

    def epoch_ended(self, event: EpochEnded) -> None: ...

    def evaluation_started(self, event: EvaluationStarted) -> None: ...

    def run_ended(self, result: TrainResult) -> None: ...


class StopSignal:
    """Thread-safe stop request: training ends after the current batch."""

    def __init__(self):
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()


def train(experiment: Experiment, observers=(), stop: StopSignal | None = None, data=None,
          batch_every: int = 10, verbose: int = 0) -> TrainResult:
    """Train the experiment on MNIST and evaluate it on the 10,000 test images.

    `data` is ((x_train, y_train), (x_test, y_test)) as float32 (N, 28, 28, 1) arrays in [0, 1]
    and integer labels; by default it is `load_mnist_float()`. Observers hear a batch
    event every `batch_every` batches. The outcome is `completed`, `stopped` (stop requested),
    `diverged` (loss became NaN, infinite, or exploded; see `_has_diverged`) or `failed` (an exception, re-raised after
    observers heard it).
    """
    validate(experiment)
    keras = backend.keras()
    from .build import build_model

    config = experiment.config
    (x_train, y_train), (x_test, y_test) = data if data is not None else load_mnist_float()
    if config.train_limit:
        x_train, y_train = x_train[:config.train_limit], y_train[:config.train_limit]
    keras.utils.set_random_seed(config.seed)
    stop = stop or StopSignal()
    bridge = _bridge_class()(list(observers), stop, batch_every)
    started = time.perf_counter()
    model = None
    try:
        model = build_model(experiment)
        n_val = int(len(x_train) * config.validation_split)
        n_fit = len(x_train) - n_val
        steps = math.ceil(n_fit / config.batch_size)
        bridge.start(RunStarted(experiment, config.epochs, steps, n_fit, n_val), started)
        model.fit(x_train, y_train, batch_size=config.batch_size, epochs=config.epochs,
                  validation_split=config.validation_split, callbacks=_callbacks(experiment, bridge),
                  verbose=verbose)
        status = bridge.outcome()
        bridge.evaluating()
        batch = memory_estimate(experiment).evaluation_batch  # a wide layer's maps must fit the budget
        probabilities = predict_probabilities(model, x_test, batch)
        metrics = evaluate_predictions(probabilities, y_test)
        predictions = predicted_classes(probabilities).astype(np.uint8)
    except Exception as err:
        result = TrainResult(RunStatus.FAILED, model, bridge.history, None, time.perf_counter() - started,
                             message=f"{type(err).__name__}: {err}", epochs_run=bridge.completed)
        bridge.finish(result)
        raise
    result = TrainResult(status, model, bridge.history, metrics, time.perf_counter() - started,
                         message=bridge.message, epochs_run=bridge.completed, predictions=predictions)
    bridge.finish(result)
    return result


def predict_probabilities(model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    return model.predict(images, batch_size=batch_size, verbose=0)


def _callbacks(experiment: Experiment, bridge) -> list:
    callbacks = [bridge]
    patience = experiment.config.early_stopping_patience
    if patience:
        keras = backend.keras()
        monitor = "val_loss" if experiment.config.validation_split > 0 else "loss"
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True))
    return callbacks


@functools.cache
def _bridge_class():
    """The Keras callback that turns fit's hooks into observer events (Keras is imported lazily)."""
    keras = backend.keras()

    class ObserverBridge(_BridgeLogic, keras.callbacks.Callback):
        pass

    return ObserverBridge


class _BridgeLogic:
    """Keras's fit hooks → observer events, the divergence check and the stop request, every batch."""

    def __init__(self, observers, stop, batch_every):
        super().__init__()
        self.observers = observers
        self.stop = stop
        self.batch_every = max(1, batch_every)
        self.history = {"epochs": [], "batches": []}
        self.diverged_at = None
        self._first_loss = None
        self.message = ""
        self._started = 0.0
        self._epoch_started = 0.0
        self._epoch = 0
        self._epochs = 0
        self._steps = 0
        self._batches = 0  # trained in the current epoch

    def start(self, event: RunStarted, started: float) -> None:
        self._started = started
        self._epochs, self._steps = event.epochs, event.steps_per_epoch
        self._emit("run_started", event)

    def finish(self, result: TrainResult) -> None:
        self._emit("run_ended", result)

    @property
    def completed(self) -> float:
        """Epochs trained: whole epochs, plus the share of the last one's batches when it was cut short."""
        if not self._steps:
            return 0.0
        return round(max(self._epoch - 1, 0) + self._batches / self._steps, 4)

    def evaluating(self) -> None:
        self._emit("evaluation_started", EvaluationStarted(self.completed))

    def outcome(self) -> str:
        if self.diverged_at is not None:
            return RunStatus.DIVERGED
        return RunStatus.STOPPED if self.stop.requested else RunStatus.COMPLETED

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._batches = 0
        self._epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self._batches = batch + 1
        loss = float(logs.get("loss", float("nan")))
        if self._first_loss is None:
            self._first_loss = loss
        if self.diverged_at is None and _has_diverged(loss, self._first_loss):
            self.diverged_at = (self._epoch, batch + 1)
            self.message = (f"The loss jumped from {self._first_loss:.3g} to {loss:.4g} at epoch {self._epoch}, "
                            f"batch {batch + 1}: the learning rate is too high for this network, "
                            f"so training stopped.")
            self.model.stop_training = True
        if self.stop.requested:
            self.model.stop_training = True
        if (batch + 1) % self.batch_every == 0 or batch + 1 == self._steps or self.model.stop_training:
            now = time.perf_counter()
            event = BatchEnded(self._epoch, batch + 1, (self._epoch - 1) * self._steps + batch + 1,
                               loss, float(logs.get("accuracy", float("nan"))), now - self._started)
            self.history["batches"].append(event_to_dict(event))
            self._emit("batch_ended", event)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        now = time.perf_counter()
        seconds = now - self._epoch_started
        elapsed = now - self._started
        done = epoch + 1
        remaining = 0 if self.model.stop_training else self._epochs - done
        event = EpochEnded(done, self._epochs, _num(logs.get("loss")), _num(logs.get("accuracy")),
                           _num(logs.get("val_loss"), None), _num(logs.get("val_accuracy"), None),
                           seconds, elapsed, elapsed / done * remaining, self.completed)
        self.history["epochs"].append(event_to_dict(event))
        self._emit("epoch_ended", event)

    def _emit(self, name, event):
        notify(self.observers, name, event)


def eta_seconds(epoch_seconds: list[float], epochs: int, epoch: int, batch: int, steps: int,
                elapsed: float, first: tuple[int, float] | None = None) -> float | None:
    """Seconds left at `batch` of `epoch`: the mean epoch so far times the epochs left; during the
    first epoch, extrapolated from its batches (`elapsed` since the run started).

    `first` is (batch, elapsed) of the first batch a watcher heard of: the time before it is building the model and
    tracing its graph, not training, so the first epoch's pace is taken from the batches after it (until there are
    some, the time left is unknown: None). Extrapolated from the start, a 12-second run's ETA read 5:03."""
    done_in_epoch = batch / steps
    if epoch_seconds:
        per_epoch = sum(epoch_seconds) / len(epoch_seconds)
    elif first is None:
        per_epoch = elapsed / done_in_epoch
    elif batch > first[0] and elapsed > first[1]:
        per_epoch = (elapsed - first[1]) / (batch - first[0]) * steps
    else:
        return None
    return per_epoch * (epochs - epoch + 1 - done_in_epoch)


def clock(seconds: float | None) -> str:
    """m:ss for progress lines; "…" while unknown."""
    if seconds is None:
        return "…"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _has_diverged(loss: float, first_loss: float) -> bool:
    """NaN or infinite, or DIVERGENCE_FACTOR times the first batch's loss: the weights have blown up.

    With a softmax output Keras computes the loss from logits, so a blown-up network shows a
    huge but finite loss (the report's MLP 9 jumps from 2.4 to about 1,800 on its second batch)
    before it collapses to predicting one digit; NaN alone would miss it.
    """
    return not math.isfinite(loss) or (math.isfinite(first_loss) and loss > DIVERGENCE_FACTOR * first_loss)


def _num(value, default=float("nan")):
    return default if value is None else float(value)

