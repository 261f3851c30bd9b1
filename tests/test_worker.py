"""The dashboard's process-wide training worker and its training process, without Streamlit."""

import threading
import time

import pytest

from mnistlab.spec import Experiment
from mnistlab.store import RunStore
from worker import TrainingWorker


def _wait(predicate, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_two_sessions_submit_at_once_and_both_complete(small_cnn):
    store = RunStore()
    worker = TrainingWorker(store)
    ids = []
    barrier = threading.Barrier(2)

    def session(name):
        barrier.wait()
        ids.append(worker.submit(Experiment(name, small_cnn.layers, small_cnn.config)))

    threads = [threading.Thread(target=session, args=(f"session {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 2
    assert _wait(lambda: not worker.busy)
    runs = {run.run_id: run for run in store.list_runs().runs}
    assert {runs[i].status for i in ids} == {"completed"}
    assert {runs[i].name for i in ids} == {"session 0", "session 1"}


def test_live_points_arrive_and_stop_keeps_partial_run(small_cnn):
    store = RunStore()
    worker = TrainingWorker(store, batch_every=2)
    run_id = worker.submit(small_cnn.with_config(epochs=5, train_limit=None))
    assert _wait(lambda: (worker.current() is not None and len(worker.current().batches_history) >= 3), 60)
    snap = worker.current()
    assert snap.run_id == run_id and snap.status == "running" and 0 < snap.fraction < 1
    assert worker.stop(run_id)
    seen = set()
    assert _wait(lambda: seen.add((worker.current() or worker.last_finished()).status) or not worker.busy)
    assert seen & {"stopping", "evaluating"}, seen  # never "running" at 100% while it evaluates
    assert "running" not in seen
    run = store.load(run_id)
    assert run.status == "stopped" and run.metrics is not None and run.has_model
    assert 0 < run.info["epochs_run"] < 1  # stopped in its first epoch (54,000 images): a fraction of one
    assert worker.last_finished().status == "stopped"


def test_queued_run_can_be_removed_before_it_starts(small_cnn):
    store = RunStore()
    worker = TrainingWorker(store)
    first = worker.submit(small_cnn.with_config(epochs=3, train_limit=None))
    second = worker.submit(small_cnn)
    assert _wait(lambda: worker.current() is not None, 60)
    assert [rid for rid, _ in worker.queued()] == [second]
    assert worker.stop(second)
    worker.stop(first)  # while its training process is still starting: it stops after its first batch
    assert _wait(lambda: not worker.busy, 40)
    assert [run.run_id for run in store.list_runs().runs] == [first]
    assert store.load(first).status == "stopped" and store.load(first).info["epochs_run"] < 0.1


def test_a_crashed_training_process_fails_the_run_and_is_replaced(small_cnn):
    store = RunStore()
    worker = TrainingWorker(store)
    doomed = worker.submit(small_cnn.with_config(epochs=20, train_limit=None))
    assert _wait(lambda: worker.current() is not None and worker.current().batches_history, 60)
    worker.executor.process.process.kill()
    assert _wait(lambda: not worker.busy, 60)
    run = store.load(doomed)
    assert run.status == "failed" and "ended unexpectedly" in run.info["message"]
    after = worker.submit(small_cnn)
    assert _wait(lambda: not worker.busy)
    assert store.load(after).status == "completed"


def test_server_memory_stays_out_of_training(small_cnn):
    """Training happens in the child: the worker's own process never imports TensorFlow for it."""
    import subprocess
    import sys

    code = ("import sys, time; sys.path[:0] = ['.', 'dashboard']\n"
            "from mnistlab.store import RunStore\nfrom worker import TrainingWorker\n"
            "from mnistlab.presets import QUICK_CNN\n"
            "w = TrainingWorker(RunStore()); w.submit(QUICK_CNN.with_config(train_limit=2000, epochs=1))\n"
            "time.sleep(0.5)\nwhile w.busy: time.sleep(0.2)\n"
            "print('tensorflow' in sys.modules, RunStore().list_runs().runs[0].status)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=str(__import__("conftest").REPO))
    assert out.stdout.split() == ["False", "completed"], out.stderr[-2000:]


def test_training_process_is_replaced_once_it_has_grown(small_cnn, monkeypatch):
    import trainer_client

    monkeypatch.setattr(trainer_client, "RECYCLE_GROWTH", -2**40)  # any size counts as grown
    store = RunStore()
    worker = TrainingWorker(store)
    worker.submit(small_cnn)
    assert _wait(lambda: not worker.busy)
    first_pid = worker.executor.process.process.pid  # its first run only sets the baseline
    worker.submit(small_cnn)
    assert _wait(lambda: not worker.busy)
    assert _wait(lambda: worker.executor.process is not None and worker.executor.process.process.pid != first_pid, 60)
    assert [run.status for run in store.list_runs().runs] == ["completed", "completed"]


def test_live_run_estimates_time_left_from_the_first_batches(small_cnn):
    from mnistlab.train import BatchEnded, EpochEnded, RunStarted
    from live import LiveRun

    live = LiveRun("r", small_cnn)
    live.run_started(RunStarted(small_cnn, epochs=2, steps_per_epoch=100, train_samples=6400, validation_samples=0))
    live.batch_ended(BatchEnded(epoch=1, batch=25, step=25, loss=1.0, accuracy=0.5, elapsed=5.0))
    snap = live.snapshot()
    assert snap.eta is None  # the 5 s so far are mostly building the model: no pace yet ("…")
    assert snap.fraction == pytest.approx(25 / 200)
    live.batch_ended(BatchEnded(epoch=1, batch=50, step=50, loss=0.9, accuracy=0.6, elapsed=7.0))
    assert live.snapshot().eta == pytest.approx(8.0 * 1.5)  # 2 s for 25 batches → 8 s per epoch, 1.5 epochs left
    live.epoch_ended(EpochEnded(1, 2, 0.5, 0.8, None, None, seconds=18.0, elapsed=18.0, eta=18.0))
    live.batch_ended(BatchEnded(epoch=2, batch=50, step=150, loss=0.4, accuracy=0.9, elapsed=27.0))
    assert live.snapshot().eta == pytest.approx(18.0 * 0.5)
