"""Every prediction the server makes, made in one long-lived thread.

Streamlit runs each rerun of a page in a new thread. Loading Keras models and calling them
from those short-lived threads left the server about 1 MiB larger for each new run the Draw
page showed (12 runs: +25 MiB, against +14 MiB with this thread; docs/benchmarks.md). One
thread owning the loaded models and all of the server's TensorFlow work also means drawings
from several sessions are answered one after the other. Nothing here calls Streamlit.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mnistlab.predict import Prediction, predict_drawing
from mnistlab.store import Run, RunStore

# Loaded models kept. The Draw page asks the chosen model and its table's models on every rerun:
# fewer than it asks would make each rerun reload them all, one evicting the next.
CAPACITY = 9


class Predictor:
    """Loads runs' models on demand (safe mode), keeps the last `capacity` used, and predicts."""

    def __init__(self, store: RunStore, capacity: int = CAPACITY):
        self.store = store
        self.capacity = capacity
        self._models: OrderedDict[tuple[str, float], object] = OrderedDict()  # only touched by the thread
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnistlab-predictor")

    def predict_drawing(self, run: Run, image: np.ndarray) -> Prediction | None:
        """The run's reading of a canvas or image array; None for a blank canvas or a dot.

        Raises StoreError (one sentence) when the run's model cannot be loaded safely.
        """
        return self._thread.submit(lambda: predict_drawing(self._model(run), image)).result()

    def loaded(self) -> list[str]:
        """Run ids of the models in memory, least recently used first."""
        return self._thread.submit(lambda: [run_id for run_id, _ in self._models]).result()

    def close(self) -> None:
        self._thread.submit(self._models.clear).result()
        self._thread.shutdown(wait=True)

    def _model(self, run: Run):
        try:
            key = (run.run_id, (run.path / "model.keras").stat().st_mtime)
        except OSError:  # gone: let the store say so in its own words
            return self.store.load_model(run.run_id)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        model = self.store.load_model(run.run_id)
        self._models[key] = model
        while len(self._models) > self.capacity:
            self._models.popitem(last=False)
        return model
