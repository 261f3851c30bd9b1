import json

import math

import numpy as np
import pytest

from mnistlab.presets import get_preset
from mnistlab.recorder import RunRecorder
from mnistlab.store import RunStore
from mnistlab.train import StopSignal, TrainingObserver, train


class Recorder(TrainingObserver):
    def __init__(self):
        self.events = []

    def run_started(self, event):
        self.events.append(("started", event))

    def batch_ended(self, event):
        self.events.append(("batch", event))

    def epoch_ended(self, event):
        self.events.append(("epoch", event))

    def run_ended(self, result):
        self.events.append(("ended", result))

    def of(self, kind):
        return [e for k, e in self.events if k == kind]


def test_short_real_training_is_stored_with_every_file(small_cnn, store_home):
    store = RunStore()
    run_id = store.create_run(small_cnn)
    events = Recorder()
    result = train(small_cnn, [events, RunRecorder(store, run_id)], batch_every=5)

    assert result.status == "completed"
    assert result.metrics["accuracy"] > 0.8, result.metrics["accuracy"]
    assert result.metrics["n"] == 10000
    started = events.of("started")[0]
    assert (started.train_samples, started.validation_samples, started.steps_per_epoch) == (3600, 400, 113)
    batches = events.of("batch")
    assert [b.batch for b in batches] == list(range(5, 113, 5)) + [113]
    assert all(np.isfinite(b.loss) for b in batches)
    (epoch,) = events.of("epoch")
    assert epoch.val_accuracy is not None and epoch.eta == 0
    assert events.events[-1][0] == "ended"

    folder = store_home / "runs" / run_id
    assert {p.name for p in folder.iterdir()} == {"run.json", "spec.json", "history.json", "metrics.json",
                                                 "predictions.npy", "model.keras", ".lock"}
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "completed" and info["epochs_run"] == 1 and info["device"] == "CPU"
    assert info["tensorflow_version"].startswith("2.") and info["train_seconds"] > 0
    history = json.loads((folder / "history.json").read_text())
    assert len(history["epochs"]) == 1 and len(history["batches"]) == 23
    assert (folder / "run.json").read_text() == json.dumps(info, indent=2, sort_keys=True)

    run = store.load(run_id)
    assert run.experiment == small_cnn and run.metrics["accuracy"] == result.metrics["accuracy"]
    model = store.load_model(run_id)
    from mnistlab.data import load_mnist_float
    from mnistlab.predict import probabilities

    (_, _), (x_test, y_test) = load_mnist_float()
    assert np.mean(probabilities(model, x_test[:500]).argmax(1) == y_test[:500]) > 0.8


def test_stop_request_mid_epoch_keeps_partial_run(small_cnn, store_home):
    store = RunStore()
    spec = small_cnn.with_config(epochs=3)
    run_id = store.create_run(spec)
    stop = StopSignal()

    heard = []

    class StopAtBatch10(TrainingObserver):
        def batch_ended(self, event):
            if event.epoch == 2 and event.batch >= 10:
                stop.request()

        def evaluation_started(self, event):
            heard.append(("evaluating", event.epochs_completed))

        def run_ended(self, result):
            heard.append(("ended", result.status))

    result = train(spec, [StopAtBatch10(), RunRecorder(store, run_id)], stop=stop, batch_every=1)
    assert result.status == "stopped"
    last = result.history["batches"][-1]
    assert (last["epoch"], last["batch"]) in ((2, 10), (2, 11))
    assert len(result.history["epochs"]) == 2  # Keras closes the interrupted epoch…
    steps = math.ceil(4000 * 0.9 / 32)
    fraction = round(1 + last["batch"] / steps, 4)  # …which counts as the share of it that was trained
    assert result.epochs_run == fraction == result.history["epochs"][-1]["completed"]
    assert result.history["epochs"][0]["completed"] == 1.0
    assert heard == [("evaluating", fraction), ("ended", "stopped")]  # the page can say "evaluating" meanwhile
    run = store.load(run_id)
    assert run.status == "stopped" and run.metrics["accuracy"] > 0.5 and run.info["epochs_run"] == fraction
    assert store.load_model(run_id) is not None


def test_report_mlp9_diverges_and_is_stored(store_home):
    spec = get_preset("MLP 9").experiment.with_config(epochs=2, train_limit=6000)
    store = RunStore()
    run_id = store.create_run(spec)
    result = train(spec, [RunRecorder(store, run_id)])
    assert result.status == "diverged"
    assert "learning rate is too high" in result.message
    assert result.history["batches"][-1]["epoch"] == 1
    run = store.load(run_id)
    assert run.status == "diverged" and run.info["message"] == result.message
    assert run.metrics["accuracy"] < 0.5
    assert len(run.history()["batches"]) >= 1


def test_same_seed_same_result():
    spec = get_preset("MLP 1").experiment.with_config(epochs=1, train_limit=2000)
    first, second = train(spec), train(spec)
    assert first.metrics["accuracy"] == second.metrics["accuracy"]
    assert first.history["epochs"][0]["loss"] == pytest.approx(second.history["epochs"][0]["loss"], rel=1e-6)


def test_early_stopping_is_applied():
    spec = get_preset("MLP 1").experiment.with_config(epochs=30, train_limit=600, early_stopping_patience=1,
                                                      learning_rate=5.0)
    result = train(spec)
    assert result.status in ("completed", "diverged")
    assert result.epochs_run < 30


def test_eta_and_clock_for_progress_lines():
    from mnistlab.train import clock, eta_seconds

    assert eta_seconds([], epochs=2, epoch=1, batch=25, steps=100, elapsed=5.0) == pytest.approx(35.0)
    assert eta_seconds([18.0], epochs=2, epoch=2, batch=50, steps=100, elapsed=27.0) == pytest.approx(9.0)
    # 3 s of building and tracing before batch 5, then 0.01 s a batch: not 5 minutes, but about 2 s for 2 epochs
    assert eta_seconds([], epochs=2, epoch=1, batch=5, steps=100, elapsed=3.0, first=(5, 3.0)) is None
    assert eta_seconds([], epochs=2, epoch=1, batch=25, steps=100, elapsed=3.2, first=(5, 3.0)) == pytest.approx(1.75)
    assert (clock(None), clock(5.4), clock(125)) == ("…", "0:05", "2:05")
