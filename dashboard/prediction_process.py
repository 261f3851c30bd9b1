"""The dashboard's prediction process: loads runs' models and reads drawings with them.

Run by `predictor.Predictor` as a child process, so that the Streamlit server never imports
TensorFlow. Once Keras is in a process, Streamlit calls `keras.backend.clear_session()` (which
clears TensorFlow's caches and runs a full garbage collection) after every script run of every
session: that alone made each drawing cost the server 1.8 CPU-seconds instead of 0.25
(docs/benchmarks.md). Here TensorFlow is imported once, at start, and models stay loaded.

Protocol: pickled dicts over a socket pair (multiprocessing.connection), one answer per request.

    → {"ready": True, "rss": ...} | {"failed": message}      once, at start
    ← {"op": "predict", "run_ids": [...], "image": (28, 28) float32 in [0, 1]}
    → {"probabilities": {run_id: (10,) float32}, "errors": {run_id: sentence}, "rss": ...}
    ← {"op": "inspect", "run_id": id, "image": (28, 28) float32 in [0, 1]}
    → {"inspection": mnistlab.inspect.Inspection, "rss": ...} | {"error": sentence, "rss": ...}
    ← {"op": "score", "run_ids": [...], "images": (N, 28, 28) uint8}
    → {"predicted": {run_id: (N,) uint8}, "errors": {run_id: sentence}, "rss": ...}
    ← {"op": "stats"}
    → {"loaded": [run ids, least recently used first], "loads": n, "rss": ...}

The process exits when the connection closes, and dies with its parent (Linux).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import OrderedDict
from multiprocessing.connection import Connection

import numpy as np

from child import checkout_on_path, die_with_parent, rss_bytes

checkout_on_path()
from mnistlab import backend  # noqa: E402
from mnistlab.inspect import inspection  # noqa: E402
from mnistlab.predict import read_digits  # noqa: E402
from mnistlab.files import file_stamp  # noqa: E402
from mnistlab.store import RunStore, StoreError

FAILED_LOADS_KEPT = 100
BLANK = np.zeros((1, 28, 28, 1), np.float32)


class ModelCache:
    """The last `capacity` models used, loaded in safe mode and reloaded when model.keras changes.

    A model file that failed to load is remembered (with its sentence) until the file changes, so
    a broken or hostile file costs one attempt, not one per drawing.
    """

    def __init__(self, store: RunStore, capacity: int):
        self.store = store
        self.capacity = capacity
        self.loads = 0
        self._models: OrderedDict[str, tuple[tuple, object]] = OrderedDict()
        self._failed: OrderedDict[str, tuple[tuple, str]] = OrderedDict()

    def model(self, run_id: str):
        """The run's model; raises StoreError with the store's sentence."""
        stamp = file_stamp(self.store.runs_dir / run_id / "model.keras")
        if stamp is None:  # gone or never saved: let the store say so in its own words
            return self.store.load_model(run_id)
        if run_id in self._models and self._models[run_id][0] == stamp:
            self._models.move_to_end(run_id)
            return self._models[run_id][1]
        if run_id in self._failed and self._failed[run_id][0] == stamp:
            raise StoreError(self._failed[run_id][1])
        self._models.pop(run_id, None)
        self.loads += 1
        try:
            model = self.store.load_model(run_id)
        except StoreError as err:
            self._failed[run_id] = (stamp, str(err))
            while len(self._failed) > FAILED_LOADS_KEPT:
                self._failed.popitem(last=False)
            raise
        self._failed.pop(run_id, None)
        model.predict_on_batch(BLANK)  # traced once here, so the first drawing does not wait for it
        self._models[run_id] = (stamp, model)
        while len(self._models) > self.capacity:
            self._models.popitem(last=False)
        return model

    def loaded(self) -> list[str]:
        return list(self._models)


def answer(cache: ModelCache, request: dict) -> dict:
    if request["op"] == "stats":
        return {"loaded": cache.loaded(), "loads": cache.loads, "rss": rss_bytes()}
    if request["op"] == "score":
        return score(cache, request)
    image = np.asarray(request["image"], dtype=np.float32).reshape(BLANK.shape)
    if request["op"] == "inspect":
        try:
            return {"inspection": inspection(cache.model(request["run_id"]), image[0, :, :, 0]), "rss": rss_bytes()}
        except StoreError as err:
            return {"error": str(err), "rss": rss_bytes()}
    found, errors = {}, {}
    for run_id in request["run_ids"]:
        try:
            # Keras's traced predict function: 1 ms a model where calling it eagerly took 4.5 (docs/benchmarks.md)
            found[run_id] = np.asarray(cache.model(run_id).predict_on_batch(image))[0]
        except StoreError as err:
            errors[run_id] = str(err)
    return {"probabilities": found, "errors": errors, "rss": rss_bytes()}


SCORED_MODELS_KEPT = 64
# (run id, model file stamp) → {an image's digest: the digit the model read}. Each drawing is scored once per model:
# a drawing saved by a student then costs every model one image, not the whole set again.
_scores: OrderedDict[tuple, dict[bytes, int]] = OrderedDict()


def score(cache: ModelCache, request: dict) -> dict:
    """Each model's digit for each of a set of 28×28 images (the class's drawings); only images a model has not
    read before are predicted (a batch of predict.SET_BATCH at a time), so a remembered set needs no model loaded."""
    pixels = np.ascontiguousarray(request["images"], dtype=np.uint8).reshape(-1, 28, 28)
    digests = [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in pixels]
    predicted, errors = {}, {}
    for run_id in request["run_ids"]:
        key = (run_id, file_stamp(cache.store.runs_dir / run_id / "model.keras"))
        known = _scores.setdefault(key, {})
        _scores.move_to_end(key)
        unseen = [i for i, digest in enumerate(digests) if digest not in known]
        if unseen:
            try:
                model = cache.model(run_id)
            except StoreError as err:
                errors[run_id] = str(err)
                continue
            for i, digit in zip(unseen, read_digits(model, pixels[unseen])):
                known[digests[i]] = int(digit)
        predicted[run_id] = np.array([known[digest] for digest in digests], np.uint8)
    while len(_scores) > SCORED_MODELS_KEPT:
        _scores.popitem(last=False)
    return {"predicted": predicted, "errors": errors, "rss": rss_bytes()}


def main() -> None:
    die_with_parent()
    connection = Connection(int(os.environ["MNISTLAB_PREDICT_FD"]))
    try:
        backend.keras()
    except Exception as err:  # no TensorFlow: say why, then leave
        connection.send({"failed": f"{type(err).__name__}: {err}"})
        sys.exit(1)
    cache = ModelCache(RunStore(), int(os.environ.get("MNISTLAB_PREDICT_CAPACITY", "9")))
    connection.send({"ready": True, "rss": rss_bytes()})
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(answer(cache, request))


if __name__ == "__main__":
    main()
