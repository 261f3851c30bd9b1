"""The dashboard's own training process behind the interface a Dask cluster has: `submit` a stored run with its
observers and get back a run to `stop` or `wait` on — so that the worker's one loop schedules both alike.

The process (`trainer_process.py`) trains one run at a time (`slots` is 1: on two cores, parallel training would only
slow both) and writes the run's files itself, as `RunRecorder` does for a cluster run here (`stores_runs`). It is
started warm (TensorFlow imported, MNIST loaded) so that the first Train is quick; TensorFlow keeps a few megabytes
per model it ever built for the life of a process, so the process is replaced, while idle, once it has grown by
RECYCLE_GROWTH since its first run (which itself takes about 250 MiB of one-off allocations).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from child import GrowthWatch
from mnistlab.spec import Experiment
from mnistlab.store import RunStore
from mnistlab.status import RunStatus
from mnistlab.train import TrainResult, event_from, notify

TRAINER = Path(__file__).resolve().with_name("trainer_process.py")
RECYCLE_GROWTH = 256 * 2**20  # replace the training process once it has grown this much since its first run


class TrainerProcess:
    """The child process that trains, and the pipe its events come back on."""

    def __init__(self, home: Path):
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, MNISTLAB_HOME=str(home), MNISTLAB_EVENTS_FD=str(write_fd))
        self.process = subprocess.Popen([sys.executable, str(TRAINER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, env=env, pass_fds=(write_fd,), text=True)
        os.close(write_fd)
        self.events = os.fdopen(read_fd, "r")
        ready = self.next_event()
        if ready is None or ready["type"] != "ready":
            code = self.process.wait()
            self.events.close()
            raise RuntimeError((ready or {}).get("message") or f"The training process exited with code {code}.")
        self.growth = GrowthWatch()  # from its size after its first run

    def send(self, order: dict) -> None:
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()

    def next_event(self) -> dict | None:
        line = self.events.readline()
        return json.loads(line) if line else None

    def interrupt(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.events.close()


class LocalTrainer:
    """Runs trained here, one at a time, in the training process."""

    slots = 1  # runs at once
    stores_runs = True  # the training process writes each run's files itself

    def __init__(self, store: RunStore, warm: bool = True):
        self.store = store
        self.process: TrainerProcess | None = None
        self._runs: queue.Queue[LocalRun] = queue.Queue()
        # One thread of its own starts the process and trains every run: the process dies with the thread that
        # started it (die_with_parent's PR_SET_PDEATHSIG is per thread), so that thread must outlive every run.
        threading.Thread(target=self._serve, args=(warm,), name="mnistlab-trainer", daemon=True).start()

    def submit(self, experiment: Experiment, run_id: str, observers=(), batch_every: int = 5) -> LocalRun:
        """Start training `experiment` as the (already stored) run `run_id` once the process is free."""
        run = LocalRun(self, experiment, run_id, list(observers), batch_every)
        self._runs.put(run)
        return run

    def _serve(self, warm: bool) -> None:
        if warm:
            self.process = self._start()  # TensorFlow imported, MNIST loaded: the first Train is quick
        while True:
            self._runs.get().train()

    def _ready(self) -> TrainerProcess:
        """The process, started again if it is not running (raises OSError or RuntimeError with why not)."""
        if self.process is None or self.process.process.poll() is not None:
            self.process = None
            self.process = TrainerProcess(self.store.home)
        return self.process

    def _recycle_if_grown(self, rss: int) -> None:
        """Replace the process now, while idle, so the next run finds a warm one."""
        if self.process is not None and self.process.growth.grown(rss, RECYCLE_GROWTH):
            self.process.close()
            self.process = self._start()

    def _start(self) -> TrainerProcess | None:
        try:
            return TrainerProcess(self.store.home)
        except (OSError, RuntimeError):
            return None  # the next run tries again and says why


class LocalRun:
    """One run on the training process: its events reach the observers on the trainer's thread; `stop()` asks it to
    stop after its current batch, keeping the partial run; `wait()` returns its TrainResult."""

    def __init__(self, trainer: LocalTrainer, experiment: Experiment, run_id: str, observers: list, batch_every: int):
        self.trainer, self.experiment, self.run_id, self.observers = trainer, experiment, run_id, observers
        self.batch_every = batch_every
        self.result: TrainResult | None = None
        self._lock = threading.Lock()
        self._stop_asked = False
        self._process: TrainerProcess | None = None  # once the run's order is sent
        self._finished = threading.Event()

    def stop(self) -> None:
        with self._lock:
            self._stop_asked = True
            if self._process is not None:
                self._process.interrupt()  # the training process stops after its current batch

    def wait(self, timeout: float | None = None) -> TrainResult | None:
        self._finished.wait(timeout)
        return self.result

    def train(self) -> None:
        """On the trainer's thread: send the run to the process and relay its events until it ends."""
        try:
            self.result = self._train(self.batch_every)
        finally:
            self._finished.set()

    def _train(self, batch_every: int) -> TrainResult:
        try:
            process = self.trainer._ready()
        except (OSError, RuntimeError) as err:
            return self._failed(f"Training could not start. {err}")
        with self._lock:
            # Stop pressed while the training process was still starting: there was no process to interrupt yet,
            # so the order itself carries it (the run stops after its first batch and keeps that, like any stop).
            process.send({"run_id": self.run_id, "experiment": self.experiment.to_dict(), "batch_every": batch_every,
                          "stop": self._stop_asked})
            self._process = process
        while (event := process.next_event()) is not None:
            kind = event.pop("type")
            if kind == "run_ended":
                result = TrainResult(event["status"], None, {"epochs": [], "batches": []}, None, 0.0,
                                     message=event.get("message", ""))
                notify(self.observers, "run_ended", result)
                self.trainer._recycle_if_grown(event["rss"])
                return result
            notify(self.observers, kind, event_from(kind, event, self.experiment))
        code = process.process.wait()
        self.trainer.process = None
        return self._failed(f"The training process ended unexpectedly (exit code {code}).")

    def _failed(self, message: str) -> TrainResult:
        """A run the process could not train: said to the observers and written to the store here."""
        result = TrainResult(RunStatus.FAILED, None, {"epochs": [], "batches": []}, None, 0.0, message=message)
        try:
            self.trainer.store.update(self.run_id, status=RunStatus.FAILED, message=message)
        except Exception:  # noqa: BLE001 — the run folder may be gone (deleted from another tab)
            pass
        notify(self.observers, "run_ended", result)  # after the store: a page that hears it reads the failure
        return result
