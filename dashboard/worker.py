"""One process-wide training worker for the dashboard.

Browser sessions submit runs; a single background thread hands them, one at a time (two
cores: parallel training would only slow both), to a warm child process that trains them
(`trainer_process.py`) — or, with a Dask scheduler (MNISTLAB_SCHEDULER), to the cluster, as many
at once as it has workers (`mnistlab.executor`; the store is still written here). TensorFlow
keeps a few megabytes per model it ever built for the life of a process; training in a child
keeps that out of the server, and the worker replaces the child once it has grown by
RECYCLE_GROWTH since its first run (which itself takes about 250 MiB of one-off allocations).
The child's events feed `LiveRun`, a plain object guarded by a lock that pages copy from when
they poll. Nothing here calls Streamlit.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from child import GrowthWatch
from mnistlab.spec import Experiment, validate
from mnistlab.store import INTERRUPTED, RunRecorder, RunStore
from mnistlab.executor import SCHEDULER_ENV  # the name only: Dask itself is imported when a cluster is used
from mnistlab.train import TrainingObserver, eta_seconds, event_from

TRAINER = Path(__file__).resolve().with_name("trainer_process.py")
ORIGIN = "dashboard"  # run.json's origin for runs queued here
WARM_VAR = "MNISTLAB_WARM_TRAINER"  # "0": start the training process at the first run, not with the worker
RECYCLE_GROWTH = 256 * 2**20  # replace the training process once it has grown this much since its first run
WORKERS_ENV = "MNISTLAB_WORKERS"  # N: a LocalCluster of N training processes started by the server
CLUSTER_RETRY_SECONDS = 5.0


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
            self._batch_rows.append(vars(event))
            self._eta = eta_seconds(self._epoch_seconds, self._epochs, event.epoch, event.batch, self._steps,
                                    event.elapsed)

    def epoch_ended(self, event):
        with self._lock:
            self._epoch_seconds.append(event.seconds)
            self._epoch_rows.append(vars(event))
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


@dataclass
class QueuedRun:
    run_id: str
    experiment: Experiment
    cancelled: bool = field(default=False)


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


class TrainingWorker:
    """A queue of runs, the thread that feeds them to the training process, and their live state."""

    def __init__(self, store: RunStore, batch_every: int = 5, scheduler: str | None = None):
        """`scheduler`: a Dask scheduler's address (default: $MNISTLAB_SCHEDULER) to train there, as many runs at
        once as it has workers, or "local:N" ($MNISTLAB_WORKERS=N) for N worker processes on this machine; without
        one, runs train here, one at a time."""
        self.store = store
        self.batch_every = batch_every
        workers = os.environ.get(WORKERS_ENV, "").strip()
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or (f"local:{workers}" if workers else None)
        self.problem: str | None = None  # why queued runs are not training (a scheduler that does not answer)
        self._queue: queue.Queue[QueuedRun] = queue.Queue()
        self._pending: list[QueuedRun] = []
        self._lock = threading.Lock()
        self._slots = threading.Condition(self._lock)
        self._current: LiveRun | None = None
        self._flying: dict[str, tuple[LiveRun, object]] = {}  # on the cluster: run id → (live state, ClusterRun)
        self._last: LiveRun | None = None
        self._trainer: TrainerProcess | None = None
        loop = self._cluster_loop if self.scheduler else self._loop
        self._thread = threading.Thread(target=loop, name="mnistlab-training", daemon=True)
        self._thread.start()
        self._requeue_unstarted()

    def submit(self, experiment: Experiment) -> str:
        """Validate, store the run as queued, and put it in line. Returns the run id."""
        validate(experiment)
        run_id = self.store.create_run(experiment, origin=ORIGIN)
        self._enqueue(QueuedRun(run_id, experiment))
        return run_id

    def _enqueue(self, item: QueuedRun) -> None:
        with self._lock:
            self._pending.append(item)
        self._queue.put(item)

    def _requeue_unstarted(self) -> None:
        """Runs queued here that never started before the server last stopped: in line again, oldest first.
        (Their queue lived in the old server's memory; the store still has them, owned by a process now gone.)"""
        for run in reversed(self.store.list_runs().runs):
            if run.info.get("origin") == ORIGIN and run.status == INTERRUPTED and "started" not in run.info:
                self.store.claim(run.run_id)
                self._enqueue(QueuedRun(run.run_id, run.experiment))

    def stop(self, run_id: str) -> bool:
        """Stop the running run after its current batch, or take a queued one out of line (and out of the store:
        a run that never started has nothing worth keeping)."""
        with self._lock:
            if run_id in self._flying:
                live, remote = self._flying[run_id]
                live.stopping()
                if remote is not None:
                    remote.stop()
                return True
            if self._current and self._current.run_id == run_id:
                self._current.stopping()
                if self._trainer:
                    self._trainer.interrupt()  # the training process stops after its current batch
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
            lives = [self._current] if self._current else [live for live, _ in self._flying.values()]
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
            return self._current is not None or bool(self._flying) or bool(self._pending)

    def _loop(self):
        if os.environ.get(WARM_VAR, "1") != "0":
            self._trainer = self._start_trainer()  # TensorFlow imported, MNIST loaded: the first Train is quick
        while True:
            item = self._queue.get()
            if item.cancelled:
                continue
            live = LiveRun(item.run_id, item.experiment)
            with self._lock:
                self._pending.remove(item)
                self._current = live
            try:
                self._train(item, live)
            finally:
                with self._lock:
                    self._current, self._last = None, live

    def _cluster_loop(self):
        """Hand each queued run to the Dask cluster once a worker is free; the cluster's events feed its LiveRun and
        the store is written here (RunRecorder), as for a local run."""
        cluster = None
        while True:
            item = self._queue.get()
            while not item.cancelled and (cluster := cluster or self._connect()) is None:
                time.sleep(CLUSTER_RETRY_SECONDS)  # the run stays in line; the Train page says why
            if item.cancelled:
                continue
            while True:  # workers are counted afresh each second: one still starting, or a lab machine joining, counts
                slots = max(1, cluster.workers)  # asked of the scheduler outside the lock the pages read through
                with self._slots:
                    if item.cancelled or len(self._flying) < slots:
                        break
                    self._slots.wait(1.0)
            with self._lock:
                if item.cancelled:  # taken out of line while it waited (stop() removed it from _pending)
                    continue
                live = LiveRun(item.run_id, item.experiment)
                self._pending.remove(item)
                self._flying[item.run_id] = (live, None)
            try:
                remote = cluster.submit(item.experiment, item.run_id,
                                        [RunRecorder(self.store, item.run_id), live, _Landed(self, item.run_id)],
                                        batch_every=self.batch_every)
            except Exception as err:  # noqa: BLE001 — the connection broke: this run fails, the next reconnects
                cluster = None
                self._landed(item.run_id)
                self._fail(item.run_id, live, f"The Dask cluster could not take the run: {err}")
                continue
            with self._lock:
                if item.run_id in self._flying:
                    self._flying[item.run_id] = (live, remote)
                    if live.snapshot().status == "stopping":  # Stop pressed while it was being submitted
                        remote.stop()

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
        with self._slots:
            live, _ = self._flying.pop(run_id, (None, None))
            self._last = live or self._last
            self._slots.notify_all()

    def _train(self, item: QueuedRun, live: LiveRun) -> None:
        """Send the run to the training process (started on first use) and relay its events."""
        if self._trainer is None or self._trainer.process.poll() is not None:
            try:
                self._trainer = TrainerProcess(self.store.home)
            except (OSError, RuntimeError) as err:
                self._trainer = None
                self._fail(item.run_id, live, f"Training could not start. {err}")
                return
        # Stop pressed while the training process was still starting: there was no process to interrupt yet,
        # so the order itself carries it (the run stops after its first batch and keeps that, like any stop).
        self._trainer.send({"run_id": item.run_id, "experiment": item.experiment.to_dict(),
                            "batch_every": self.batch_every, "stop": live.snapshot().status == "stopping"})
        while (event := self._trainer.next_event()) is not None:
            kind = event.pop("type")
            if kind == "run_ended":
                live.run_ended(SimpleNamespace(**event))
                if self._trainer.growth.grown(event["rss"], RECYCLE_GROWTH):
                    self._recycle()
                return
            _forward(live, kind, event, item.experiment)
        code = self._trainer.process.wait()
        self._fail(item.run_id, live, f"The training process ended unexpectedly (exit code {code}).")
        self._trainer = None

    def _recycle(self) -> None:
        """Replace the training process now, while idle, so the next run finds a warm one."""
        self._trainer.close()
        self._trainer = self._start_trainer()

    def _start_trainer(self) -> TrainerProcess | None:
        try:
            return TrainerProcess(self.store.home)
        except (OSError, RuntimeError):
            return None  # the next run tries again and says why

    def _fail(self, run_id: str, live: LiveRun, message: str) -> None:
        live.run_ended(SimpleNamespace(status="failed", message=message))
        try:
            self.store.update(run_id, status="failed", message=message)
        except Exception:  # the run folder may be gone (deleted from another tab)
            pass


class _Landed(TrainingObserver):
    """Frees the run's place on the cluster once every other observer has heard its end."""

    def __init__(self, worker: TrainingWorker, run_id: str):
        self.worker, self.run_id = worker, run_id

    def run_ended(self, result):
        self.worker._landed(self.run_id)


def _forward(live: LiveRun, kind: str, fields: dict, experiment: Experiment) -> None:
    """Turn an event line back into the event object and hand it to the live run."""
    getattr(live, kind)(event_from(kind, fields, experiment))
