"""Training on a Dask cluster: each run a task on a worker process, its events streamed back while it trains,
its result stored by the machine that submitted it.

    cluster = Cluster(workers=2)                      # a LocalCluster of two processes on this machine
    cluster = Cluster("tcp://lab-server:8786")        # or a scheduler started with `dask scheduler`
    run = cluster.submit(experiment, run_id, [RunRecorder(store, run_id)])
    result = run.wait()                               # observers heard every event, the store is written

The worker sends events with `log_event` on a topic of the run's own; the client replays them to the observers
on a thread of the run's own (Dask calls the topic handler on its event loop, where only enqueuing belongs). The
result — history, metrics, per-image predictions and the .keras file's bytes — comes back with the task, so the
workers need no shared filesystem and the store keeps a single writer. Stop is cooperative: the training loop
looks at a Dask `Event` twice a second. A worker that dies mid-run leaves the run `interrupted` with the epochs
received (the scheduler must not retry it elsewhere: `distributed.scheduler.allowed-failures` 0, set here for a
LocalCluster, and by the README's `dask scheduler` line for a lab).

Facts behind these choices, measured on this machine: ../shared/notes/dask-training.md.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

from .spec import Experiment
from .status import RunStatus
from .train import StopSignal, TrainingObserver, TrainResult, event_from, event_to_dict, notify

SCHEDULER_ENV = "MNISTLAB_SCHEDULER"
CONNECT_SECONDS = 5.0
STOP_CHECK_SECONDS = 0.5  # how often a remote run asks whether it was stopped (each ask is a ~2 ms round trip)
_DONE = object()


class ClusterError(Exception):
    """A cluster that cannot be reached or started, said in one sentence."""


class Cluster:
    """A Dask client: to the scheduler at `address`, or to a LocalCluster of `workers` processes on this machine
    (each with `threads` TensorFlow threads; by default the machine's cores shared out between them)."""

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int | None = None,
                 connect_seconds: float = CONNECT_SECONDS):
        if (address is None) == (workers is None):
            raise ValueError("give a scheduler address or a number of local workers")
        self._local = None
        if workers is not None:
            most = local_workers_at_most()
            if not 1 <= workers <= most:  # checked before a process starts: 10,000 ran out of file descriptors
                raise ClusterError(f"--workers {workers}: give 1 to {most} worker(s) on this machine (one a core: "
                                   f"each trains on a core of its own and holds about 0.7 GB).")
            threads = threads or max(1, (os.cpu_count() or 1) // workers)
            try:
                self._local = _local_cluster(workers)
            except Exception as err:  # noqa: BLE001 — processes that cannot start here (memory, limits): one sentence
                raise ClusterError(f"Could not start {workers} training process(es) on this machine: "
                                   f"{type(err).__name__}: {err}") from None
            address = self._local.scheduler_address
        self.address = address
        self.client = _connect(address, connect_seconds)
        self.threads = threads

    stores_runs = False  # a run's result comes back to this machine, whose RunRecorder writes the store

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def slots(self) -> int:
        """Runs at once: one a worker (asked of the scheduler: a lab machine may join or leave)."""
        return self.workers

    def submit(self, experiment: Experiment, run_id: str, observers=(), batch_every: int = 10) -> ClusterRun:
        """Start training `experiment` as the (already stored) run `run_id` on a free worker."""
        return ClusterRun(self, experiment, run_id, list(observers), batch_every)

    def close(self) -> None:
        self.client.close()
        if self._local is not None:
            self._local.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def local_workers_at_most() -> int:
    """As many local workers as the machine has cores: more would only take turns on them."""
    return os.cpu_count() or 1


def cluster_from(scheduler: str | None = None, workers: int | None = None) -> Cluster | None:
    """The cluster the user asked for: --workers N, else --scheduler ADDRESS, else $MNISTLAB_SCHEDULER; None means
    train here (the local executor)."""
    if workers is not None:
        return Cluster(workers=workers)
    address = scheduler or os.environ.get(SCHEDULER_ENV)
    return Cluster(address) if address else None


class ClusterRun:
    """One run in flight on the cluster. `wait()` returns its TrainResult once every observer has heard run_ended;
    `stop()` asks it to stop after its current batch, keeping the partial run."""

    def __init__(self, cluster: Cluster, experiment: Experiment, run_id: str, observers: list, batch_every: int):
        from distributed import Event

        self.cluster, self.experiment, self.run_id, self.observers = cluster, experiment, run_id, observers
        self.worker: str | None = None  # its address, once it has started there
        self.result: TrainResult | None = None
        self._events: queue.Queue = queue.Queue()
        self._finished = threading.Event()
        self._history = {"epochs": [], "batches": []}  # as received: what an interrupted run keeps
        self._started = time.perf_counter()
        client = cluster.client
        self.topic = f"mnistlab-{run_id}"
        self._stop = Event(f"mnistlab-stop-{run_id}", client=client)
        client.subscribe_topic(self.topic, lambda event: self._events.put(event[1]))  # on Dask's loop: enqueue only
        self.future = client.submit(remote_training, experiment.to_dict(), run_id, self.topic, self._stop.name,
                                    cluster.threads, batch_every, key=f"mnistlab-train-{run_id}", pure=False,
                                    retries=0)
        self.future.add_done_callback(lambda future: self._events.put(_DONE))
        threading.Thread(target=self._deliver, name=f"mnistlab-cluster-{run_id}", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> TrainResult | None:
        self._finished.wait(timeout)
        return self.result

    def _deliver(self) -> None:
        try:
            while (message := self._events.get()) is not _DONE:
                self._tell(message["kind"], self._event(message))
            self.result = self._outcome()
            self._tell("run_ended", self.result)
        finally:
            self.cluster.client.unsubscribe_topic(self.topic)
            self._finished.set()

    def _event(self, message: dict):
        kind = message["kind"]
        event = event_from(kind, message, self.experiment)
        if kind == "run_started":
            self.worker = event.environment.get("worker")
        if kind in ("batch_ended", "epoch_ended"):
            self._history["batches" if kind == "batch_ended" else "epochs"].append(event_to_dict(event))
        return event

    def _tell(self, name: str, event) -> None:
        notify(self.observers, name, event)

    def _outcome(self) -> TrainResult:
        """The task's result as a TrainResult (the model as its file), or an interrupted run if the worker died."""
        try:
            payload = self.future.result()
        except Exception as err:  # noqa: BLE001 — a worker or the scheduler gone, or the task itself failed there
            seconds, epochs = time.perf_counter() - self._started, self._history["epochs"]
            if not _lost(err):
                return TrainResult(RunStatus.FAILED, None, self._history, None, seconds,
                                   message=f"Training failed on the Dask worker: {type(err).__name__}: {err}")
            return TrainResult(RunStatus.INTERRUPTED, None, self._history, None, seconds,
                               message=f"The Dask worker training this run stopped ({type(err).__name__}); the run "
                                       f"keeps the {len(epochs)} epoch{'' if len(epochs) == 1 else 's'} received.",
                               epochs_run=epochs[-1]["completed"] if epochs else 0.0)
        model = ModelFile(payload["model"]) if payload["model"] is not None else None
        return TrainResult(payload["status"], model, payload["history"], payload["metrics"], payload["seconds"],
                           message=payload["message"], epochs_run=payload["epochs_run"],
                           predictions=payload["predictions"])


def _lost(err: Exception) -> bool:
    """Whether the run was lost with its worker or its scheduler (rather than failing in the training code)."""
    from distributed import CancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    return isinstance(err, (KilledWorker, CancelledError, CommClosedError, OSError, TimeoutError))


class ModelFile:
    """A trained model as the bytes of its .keras file: `save(path)` writes them (what RunStore.save_model asks of a
    model), so the machine that stores a remote run never needs TensorFlow."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)


# ------------------------------------------------------------------ on the worker

def remote_training(experiment: dict, run_id: str, topic: str, stop_name: str, threads: int | None,
                    batch_every: int) -> dict:
    """The task a worker runs: train, sending events on `topic`; return everything the store keeps."""
    import socket
    import tempfile

    from distributed import Event, get_worker

    from . import backend
    from .data import load_mnist_float
    from .train import train

    worker = get_worker()
    try:
        _use_threads(threads)  # a local cluster shares out the cores; a lab machine's worker uses all of its own
        sender = _EventSender(worker, topic, {**backend.environment(), "executor": "dask", "worker": worker.address,
                                              "host": socket.gethostname(), "worker_pid": os.getpid()})
        result = train(Experiment.from_dict(experiment), [sender], stop=_RemoteStop(Event(stop_name)),
                       data=load_mnist_float(), batch_every=batch_every)
    except Exception as err:  # a failed run is a result like any other (no MNIST here, no TensorFlow): it is stored
        return {"status": RunStatus.FAILED, "message": f"Training failed: {type(err).__name__}: {err}",
                "history": {"epochs": [], "batches": []}, "metrics": None, "predictions": None, "model": None,
                "seconds": 0.0, "epochs_run": 0.0}
    model = None
    if result.model is not None and result.metrics is not None:
        with tempfile.TemporaryDirectory() as folder:  # Keras saves only to a path ending in .keras
            path = Path(folder) / "model.keras"
            result.model.save(path)
            model = path.read_bytes()
    return {"status": result.status, "message": result.message, "history": result.history, "metrics": result.metrics,
            "predictions": result.predictions, "model": model, "seconds": result.seconds,
            "epochs_run": result.epochs_run}


class _EventSender(TrainingObserver):
    """Every training event as a plain dict on the run's topic (msgpack: Python numbers, no numpy)."""

    def __init__(self, worker, topic: str, environment: dict):
        self.worker, self.topic, self.environment = worker, topic, environment

    def _send(self, kind: str, fields: dict) -> None:
        self.worker.log_event(self.topic, {"kind": kind, **fields})

    def run_started(self, event):
        self._send("run_started", {**event_to_dict(event), "environment": self.environment})

    def batch_ended(self, event):
        self._send("batch_ended", event_to_dict(event))

    def epoch_ended(self, event):
        self._send("epoch_ended", event_to_dict(event))

    def evaluation_started(self, event):
        self._send("evaluation_started", event_to_dict(event))


class _RemoteStop(StopSignal):
    """A stop request that also looks, at most every STOP_CHECK_SECONDS, at the run's Dask Event."""

    def __init__(self, remote):
        super().__init__()
        self._remote = remote
        self._looked = time.monotonic()

    @property
    def requested(self) -> bool:
        if not self._event.is_set() and time.monotonic() - self._looked >= STOP_CHECK_SECONDS:
            self._looked = time.monotonic()
            if self._remote.is_set():
                self._event.set()
        return self._event.is_set()


def _use_threads(threads: int | None) -> None:
    """TensorFlow's thread pools sized to this worker's share of the cores; settable once per process (a later
    different value raises, the same value is a no-op), so a worker keeps its first setting."""
    if not threads:
        return
    from . import backend

    backend.keras()
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass


# ------------------------------------------------------------------ connecting

def _local_cluster(workers: int):
    import logging

    import dask
    from distributed import LocalCluster

    dask.config.set({"distributed.scheduler.allowed-failures": 0})  # a dead worker's run is interrupted, not rerun
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, silence_logs=logging.ERROR)


def _connect(address: str, seconds: float):
    """A client, or one sentence. Our own deadline too: a server on that port that is not Dask's can hold
    Client() forever."""
    from distributed import Client

    _check_listening(address, seconds)
    found = {}

    def attempt():
        try:
            found["client"] = Client(address, timeout=seconds, set_as_default=False)
        except Exception as err:  # noqa: BLE001 — OSError, TimeoutError, ValueError for a malformed address
            found["error"] = err

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds + 2)
    if "client" in found:
        return found["client"]
    raise ClusterError(_no_scheduler(address, seconds))


def check_address(address: str) -> tuple[str, str, int]:
    """A scheduler address as Dask reads it (tcp://host:port) — its scheme, host and port — checked before a Client
    exists: a Client that fails in its constructor is still closed when it is collected, and that close waits 10 s,
    then prints a TimeoutError traceback."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address)
        return (scheme, *parse_host_port(location))
    except (ValueError, TypeError) as err:
        raise ClusterError(f"{address!r} is not a Dask scheduler address ({err}); give one such as "
                           f"tcp://lab-server:8786.") from None


def _check_listening(address: str, seconds: float) -> None:
    """Whether anything accepts a connection at the address within `seconds`, asked with a plain socket, so that no
    Client is made (and left to time out when collected) where nothing listens."""
    import socket

    scheme, host, port = check_address(address)
    if scheme not in ("tcp", "tls"):
        return
    deadline = time.monotonic() + seconds
    while True:  # a scheduler that is still starting refuses at first, as Client's own connect allows for
        try:
            socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic())).close()
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise ClusterError(_no_scheduler(address, seconds)) from None
            time.sleep(0.1)


def _no_scheduler(address: str, seconds: float) -> str:
    return (f"No Dask scheduler answered at {address} within {seconds:g} s: start one with `dask scheduler` and "
            f"workers with `mnistlab worker {address}` (README, \"A class or a lab\"), or train on this machine "
            f"without --scheduler and without {SCHEDULER_ENV}.")


def train_stored(cluster: Cluster, store, experiments: list[Experiment], observers_for=lambda run_id, e: ()) -> list:
    """Train every experiment as a new stored run, all submitted at once (the scheduler starts each when a worker is
    free); [(run_id, TrainResult)] in the experiments' order. `observers_for(run_id, experiment)` adds listeners."""
    from .recorder import RunRecorder

    runs = []
    for experiment in experiments:
        run_id = store.create_run(experiment)
        runs.append(cluster.submit(experiment, run_id, [RunRecorder(store, run_id),
                                                        *observers_for(run_id, experiment)]))
    return [(run.run_id, run.wait()) for run in runs]
