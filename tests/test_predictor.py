"""The dashboard's prediction thread: same answers as the model itself, one thread, a bounded cache."""

import json
import os
import shutil
import threading

import numpy as np
import pytest

from conftest import drawn_digit
from mnistlab.predict import predict_drawing
from mnistlab.store import RunStore, StoreError
from predictor import Predictor


@pytest.fixture
def store_of_copies(trained_store, tmp_path):
    """A store holding three copies of the session's trained run (three run ids, one model)."""
    home, run_id = trained_store
    store = RunStore(tmp_path / "copies")
    for copy in ("a", "b", "c"):
        folder = store.runs_dir / f"{run_id}-{copy}"
        shutil.copytree(home / "runs" / run_id, folder)
        info = json.loads((folder / "run.json").read_text())
        (folder / "run.json").write_text(json.dumps(dict(info, run_id=folder.name)))
    return store


@pytest.fixture
def predictor(store_of_copies):
    predictor = Predictor(store_of_copies, capacity=2)
    yield predictor
    predictor.close()


def _runs(store: RunStore) -> dict:
    return {run.run_id[-1]: run for run in store.list_runs().runs}


def _count_loads(predictor: Predictor, monkeypatch) -> list[str]:
    """Thread names of every model load the predictor makes."""
    loads = []
    original = predictor.store.load_model

    def load_model(run_id):
        loads.append(threading.current_thread().name)
        return original(run_id)

    monkeypatch.setattr(predictor.store, "load_model", load_model)
    return loads


def test_answers_like_the_model_itself(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    for index in range(5):
        canvas, label = drawn_digit(index)
        ours = predictor.predict_drawing(runs["a"], canvas)
        direct = predict_drawing(store_of_copies.load_model(runs["a"].run_id), canvas)
        assert ours.digit == direct.digit
        np.testing.assert_allclose(ours.probabilities, direct.probabilities, atol=1e-6)
    assert predictor.predict_drawing(runs["a"], np.full((280, 280, 4), 255, np.uint8)) is None


def test_models_load_once_in_one_thread_and_the_least_recent_goes(predictor, store_of_copies, monkeypatch):
    runs = _runs(store_of_copies)
    loads = _count_loads(predictor, monkeypatch)
    canvas, _ = drawn_digit(0)
    callers = [threading.Thread(target=predictor.predict_drawing, args=(runs[key], canvas))
               for key in "aaabab"]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(loads) == 2 and {name.split("_")[0] for name in loads} == {"mnistlab-predictor"}
    predictor.predict_drawing(runs["b"], canvas)
    predictor.predict_drawing(runs["c"], canvas)
    assert predictor.loaded() == [runs["b"].run_id, runs["c"].run_id]
    predictor.predict_drawing(runs["a"], canvas)
    assert len(loads) == 4


def test_a_new_model_file_is_loaded_again(predictor, store_of_copies, monkeypatch):
    run = _runs(store_of_copies)["a"]
    loads = _count_loads(predictor, monkeypatch)
    canvas, _ = drawn_digit(1)
    predictor.predict_drawing(run, canvas)
    model_file = run.path / "model.keras"
    stamp = model_file.stat().st_mtime
    os.utime(model_file, (stamp + 5, stamp + 5))
    predictor.predict_drawing(run, canvas)
    assert len(loads) == 2


def test_a_broken_or_deleted_model_is_a_sentence_and_the_others_still_answer(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    canvas, label = drawn_digit(2)
    (runs["b"].path / "model.keras").write_bytes(b"not a keras archive")
    with pytest.raises(StoreError, match="could not be loaded safely"):
        predictor.predict_drawing(runs["b"], canvas)
    store_of_copies.delete(runs["c"].run_id)
    with pytest.raises(StoreError, match="deleted|no saved model"):
        predictor.predict_drawing(runs["c"], canvas)
    assert predictor.predict_drawing(runs["a"], canvas).digit == label
