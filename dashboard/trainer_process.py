"""The dashboard's training process: trains the runs the server sends it, one at a time.

Run by `trainer_client.LocalTrainer` as a child process, so that TensorFlow's per-model memory
(which a long-lived process never fully returns) stays out of the server and is released
whenever the worker recycles this process. Protocol, one JSON object per line:

    stdin  ← {"run_id": ..., "experiment": {...}}       train this run (already stored as queued)
    events → {"type": "ready", "rss": ...}               warm: TensorFlow imported, MNIST loaded
             {"type": "failed", "message": ...}           could not get warm (then it exits)
             {"type": "run_started" | "batch_ended" | "epoch_ended" | "evaluation_started", ...event fields}
             {"type": "run_ended", "status": ..., "message": ..., "rss": ...}

Events go to the file descriptor named by MNISTLAB_EVENTS_FD (stdout stays free for anything
a library prints). SIGINT asks the current run to stop after its batch. The process exits
when stdin closes, and dies with its parent (Linux), so a killed server leaves its run
`interrupted` rather than training on unseen.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from child import checkout_on_path, die_with_parent, rss_bytes

checkout_on_path()
from mnistlab import backend  # noqa: E402
from mnistlab.data import DataError, load_mnist_float  # noqa: E402
from mnistlab.spec import Experiment  # noqa: E402
from mnistlab.recorder import RunRecorder  # noqa: E402
from mnistlab.store import RunStore
from mnistlab.train import StopSignal, TrainingObserver, event_to_dict, train  # noqa: E402


class EventWriter(TrainingObserver):
    """Forwards every training event as a JSON line."""

    def __init__(self, stream):
        self.stream = stream
        self.ended = False

    def send(self, kind: str, **fields) -> None:
        self.stream.write(json.dumps({"type": kind, **fields}) + "\n")
        self.stream.flush()

    def run_started(self, event):
        self.send("run_started", **event_to_dict(event))

    def batch_ended(self, event):
        self.send("batch_ended", **event_to_dict(event))

    def epoch_ended(self, event):
        self.send("epoch_ended", **event_to_dict(event))

    def evaluation_started(self, event):
        self.send("evaluation_started", **event_to_dict(event))

    def run_ended(self, result):
        self.ended = True
        self.send("run_ended", status=result.status, message=result.message, rss=rss_bytes())


def main() -> None:
    die_with_parent()
    events = os.fdopen(int(os.environ["MNISTLAB_EVENTS_FD"]), "w", buffering=1)
    writer = EventWriter(events)
    current = {"stop": StopSignal()}
    signal.signal(signal.SIGINT, lambda signum, frame: current["stop"].request())
    try:
        backend.keras()
        data = load_mnist_float()
    except Exception as err:  # no MNIST (offline, broken file) or no TensorFlow: say why, then leave
        writer.send("failed", message=str(err) if isinstance(err, DataError) else f"{type(err).__name__}: {err}")
        sys.exit(1)
    store = RunStore()
    writer.send("ready", rss=rss_bytes())
    for line in sys.stdin:
        order = json.loads(line)
        current["stop"] = stop = StopSignal()
        if order.get("stop"):  # stopped before it could start
            stop.request()
        writer.ended = False
        try:
            experiment = Experiment.from_dict(order["experiment"])
            store.claim(order["run_id"])
            train(experiment, [RunRecorder(store, order["run_id"]), writer], stop=stop, data=data,
                  batch_every=order.get("batch_every", 5))
        except Exception as err:  # recorded as failed by the observers if training had started
            if not writer.ended:
                writer.send("run_ended", status="failed", rss=rss_bytes(),
                            message=f"Training failed: {type(err).__name__}: {err}")


if __name__ == "__main__":
    main()
