"""Every prediction the server shows, asked of one warm child process (prediction_process.py).

The server never imports TensorFlow: once Keras is in a Streamlit process, every script run
of every session pays for `keras.backend.clear_session()` and a full garbage collection
(1.8 CPU-seconds per drawing instead of 0.25; docs/benchmarks.md). So models are loaded, kept
(the last CAPACITY used, reloaded when model.keras changes) and run in a child process, as
training already is. The server preprocesses the drawing (numpy) and sends only the 28×28
input, with every model it wants read in one request.

Requests from all sessions go through one thread, first come first served, each one short:
a page asks its chosen model first and its table of other models in a second request, so one
student's table never stands between another student and their answer. A process that dies
is started again and the request sent once more; one that has grown by RECYCLE_GROWTH since
its first answer is replaced while idle. Nothing here calls Streamlit.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from child import GrowthWatch
from mnistlab.i18n import _
from mnistlab.inspect import Inspection
from mnistlab.predict import Prediction
from mnistlab.preprocess import Steps, preprocess_steps
from mnistlab.store import Run, RunStore, StoreError

PROCESS = Path(__file__).resolve().with_name("prediction_process.py")
# Loaded models kept. The Draw page asks the chosen model and its table's models on every rerun, and the Class test
# page up to CLASS_TEST_MODELS models after each saved drawing: fewer than a page asks would make each of its reruns
# reload them all, one evicting the next.
CAPACITY = 16
RECYCLE_GROWTH = 256 * 2**20  # replace the prediction process once it has grown this much since its first answer
# How long a request may go unanswered before the process is taken for wedged and replaced: a reading, a view or the
# list of loaded models (a cold model loads in about a second), and, for scoring a set, a millisecond more for each
# image and model (1,000 drawings × 15 models cold: 2.3 s). The process's start (TensorFlow's import) has its own.
REPLY_SECONDS = 15.0
READY_SECONDS = 120.0


class Unanswered(Exception):
    """The prediction process did not answer in time."""


class PredictionProcess:
    """The child process and the connection to it."""

    def __init__(self, home: Path, capacity: int):
        ours, theirs = socket.socketpair()
        # A send to a process that reads nothing more fails (EAGAIN) instead of blocking; the socket stays blocking.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(REPLY_SECONDS), 0))
        env = dict(os.environ, MNISTLAB_HOME=str(home), MNISTLAB_PREDICT_FD=str(theirs.fileno()),
                   MNISTLAB_PREDICT_CAPACITY=str(capacity))
        self.process = subprocess.Popen([sys.executable, str(PROCESS)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, env=env, pass_fds=(theirs.fileno(),))
        theirs.close()
        self.connection = Connection(ours.detach())
        self.growth = GrowthWatch()  # from its size after its first answer
        self._ready: dict | None = None

    def wait_ready(self) -> None:
        """Wait until TensorFlow is imported in the child; raise StoreError if it could not start."""
        if self._ready is None:
            try:
                if not self.connection.poll(READY_SECONDS):
                    self.kill()
                    raise StoreError(_("The prediction process could not start within {seconds} s.").format(
                        seconds=f"{READY_SECONDS:g}"))
                self._ready = self.connection.recv()
            except (EOFError, OSError):
                self._ready = {"failed": f"it exited with code {self.process.wait()}"}
        if "failed" in self._ready:
            raise StoreError(_("The prediction process could not start: {problem}").format(
                problem=self._ready["failed"]))

    def ask(self, request: dict, seconds: float) -> dict:
        """The reply to one request; Unanswered when none came within `seconds` (EOFError/OSError: it died)."""
        self.wait_ready()
        self.connection.send(request)
        if not self.connection.poll(seconds):
            raise Unanswered
        return self.connection.recv()

    def kill(self) -> None:
        """End a process that no longer answers (stopped, or stuck): closing its connection would not."""
        self.connection.close()
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        self.connection.close()  # the child leaves when its connection closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Predictor:
    """Reads drawings with runs' models, in the prediction process (started at once, so it is warm)."""

    def __init__(self, store: RunStore, capacity: int = CAPACITY, reply_seconds: float = REPLY_SECONDS):
        self.store = store
        self.capacity = capacity
        self.reply_seconds = reply_seconds
        self._process: PredictionProcess | None = None  # only touched by the thread
        self._broken: dict[str, str] = {}  # run id → why its model could not be used, until it answers
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnistlab-predictor")
        self._thread.submit(self._started)

    def answers(self, runs: list[Run], steps: Steps) -> dict[str, Prediction | StoreError]:
        """Each run's reading of one preprocessed drawing, in one request: a Prediction, or the
        StoreError (one sentence) that says why the run's model cannot be used."""
        request = {"op": "predict", "run_ids": [run.run_id for run in runs], "image": steps.centred}
        reply = self._ask(request)
        for run_id in reply["probabilities"]:
            self._broken.pop(run_id, None)
        self._broken.update(reply["errors"])
        found = {run_id: Prediction.from_probabilities(probs, steps) for run_id, probs in reply["probabilities"].items()}
        return {run.run_id: found.get(run.run_id) or StoreError(reply["errors"][run.run_id]) for run in runs}

    def inspect(self, run: Run, image: np.ndarray) -> Inspection:
        """The run's model's view of one 28×28 input (ink 1 on 0): every layer, the first layer's weights, the
        linear templates if it has them, the occlusion saliency. Raises StoreError with the store's sentence."""
        image = np.asarray(image, dtype=np.float32)
        if image.shape != (28, 28):  # checked here, before a request: the view's budget is one MNIST-sized input
            raise ValueError(f"An image to inspect is 28×28; this one is {image.shape}.")
        reply = self._ask({"op": "inspect", "run_id": run.run_id, "image": image})
        if "error" in reply:
            self._broken[run.run_id] = reply["error"]
            raise StoreError(reply["error"])
        self._broken.pop(run.run_id, None)
        return reply["inspection"]

    def score(self, runs: list[Run], images: np.ndarray) -> dict[str, np.ndarray | StoreError]:
        """Each run's predicted digit for each of a set of 28×28 uint8 images (the class's drawings), in one request;
        a StoreError for a run whose model cannot be used."""
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"Images to score are N×28×28; these are {images.shape}.")
        reply = self._ask({"op": "score", "run_ids": [run.run_id for run in runs], "images": images})
        self._broken.update(reply["errors"])
        return {run.run_id: reply["predicted"].get(run.run_id) if run.run_id in reply["predicted"]
                else StoreError(reply["errors"][run.run_id]) for run in runs}

    def known_broken(self) -> set[str]:
        """Runs whose model could not be used the last time it was asked (no request is made)."""
        return set(self._broken)

    def predict_drawing(self, run: Run, image: np.ndarray) -> Prediction | None:
        """The run's reading of a canvas or image array; None for a blank canvas or a dot.

        Raises StoreError (one sentence) when the run's model cannot be loaded safely.
        """
        steps = preprocess_steps(image)
        if steps is None:
            return None
        answer = self.answers([run], steps)[run.run_id]
        if isinstance(answer, StoreError):
            raise answer
        return answer

    def stats(self) -> dict:
        """The process's loaded run ids (least recently used first), model loads so far, pid and RSS."""
        return self._ask({"op": "stats"})

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.process.pid if process else None

    def close(self) -> None:
        self._thread.submit(self._stop).result()
        self._thread.shutdown(wait=True)

    def _ask(self, request: dict) -> dict:
        return self._thread.submit(self._round_trip, request).result()

    def _round_trip(self, request: dict) -> dict:
        """In the thread: send, receive; a dead process is started again once."""
        seconds = self.reply_seconds + 0.001 * len(request.get("images", ())) * len(request.get("run_ids", ()))
        for attempt in (1, 2):
            process = self._started()
            try:
                reply = process.ask(request, seconds)
                break
            except Unanswered:
                process.kill()
                self._process = None
                self._started()  # its replacement warms up while the page says what happened
                raise StoreError(_("The prediction process did not answer within {seconds} s, so it was replaced; "
                                   "try again in a few seconds.").format(seconds=f"{seconds:g}")) from None
            except (EOFError, OSError):
                self._stop()
                if attempt == 2:
                    raise StoreError(_("The prediction process stopped twice in a row; try again.")) from None
        if process.growth.grown(reply.get("rss", 0), RECYCLE_GROWTH):
            self._stop()
            self._started()  # its replacement warms up while nobody waits
        return dict(reply, pid=process.process.pid)

    def _started(self) -> PredictionProcess:
        if self._process is None or self._process.process.poll() is not None:
            self._stop()
            self._process = PredictionProcess(self.store.home, self.capacity)
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None
