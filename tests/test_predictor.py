"""The dashboard's prediction process: same answers as the model itself, loads once, a bounded cache, restarts."""

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import REPO, copy_run, drawn_digit
from mnistlab.predict import predict_drawing
from mnistlab.preprocess import preprocess_steps
from mnistlab.store import RunStore, StoreError
from predictor import Predictor


@pytest.fixture
def store_of_copies(trained_store, tmp_path):
    """A store holding three copies of the session's trained run (three run ids, one model)."""
    home, run_id = trained_store
    store = RunStore(tmp_path / "copies")
    for copy in ("a", "b", "c"):
        copy_run(home / "runs" / run_id, store.runs_dir, copy)
    return store


@pytest.fixture
def predictor(store_of_copies):
    predictor = Predictor(store_of_copies, capacity=2)
    yield predictor
    predictor.close()


def _runs(store: RunStore) -> dict:
    return {run.run_id[-1]: run for run in store.list_runs().runs}


def test_answers_like_the_model_itself(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    for index in range(5):
        canvas, label = drawn_digit(index)
        ours = predictor.predict_drawing(runs["a"], canvas)
        direct = predict_drawing(store_of_copies.load_model(runs["a"].run_id), canvas)
        assert ours.digit == direct.digit
        np.testing.assert_allclose(ours.probabilities, direct.probabilities, atol=1e-6)
    assert predictor.predict_drawing(runs["a"], np.full((280, 280, 4), 255, np.uint8)) is None


def test_one_request_answers_for_every_model_asked(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    canvas, label = drawn_digit(3)
    steps = preprocess_steps(canvas)
    answers = predictor.answers([runs["c"], runs["a"]], steps)
    assert list(answers) == [runs["c"].run_id, runs["a"].run_id]
    assert {answer.digit for answer in answers.values()} == {label}
    assert all(answer.steps is steps for answer in answers.values())


def test_models_load_once_in_the_process_and_the_least_recent_goes(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    canvas, _ = drawn_digit(0)
    callers = [threading.Thread(target=predictor.predict_drawing, args=(runs[key], canvas))
               for key in "aaabab"]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert predictor.stats()["loads"] == 2
    predictor.predict_drawing(runs["b"], canvas)
    predictor.predict_drawing(runs["c"], canvas)
    assert predictor.stats()["loaded"] == [runs["b"].run_id, runs["c"].run_id]
    predictor.predict_drawing(runs["a"], canvas)
    assert predictor.stats()["loads"] == 4


def test_a_new_model_file_is_loaded_again(predictor, store_of_copies):
    run = _runs(store_of_copies)["a"]
    canvas, _ = drawn_digit(1)
    predictor.predict_drawing(run, canvas)
    model_file = run.path / "model.keras"
    stamp = model_file.stat().st_mtime
    os.utime(model_file, (stamp + 5, stamp + 5))
    predictor.predict_drawing(run, canvas)
    assert predictor.stats()["loads"] == 2


def test_a_broken_or_deleted_model_is_a_sentence_and_the_others_still_answer(predictor, store_of_copies):
    runs = _runs(store_of_copies)
    canvas, label = drawn_digit(2)
    good = (runs["a"].path / "model.keras").read_bytes()
    (runs["b"].path / "model.keras").write_bytes(b"not a keras archive")
    for _ in range(3):
        with pytest.raises(StoreError, match="could not be loaded safely"):
            predictor.predict_drawing(runs["b"], canvas)
    assert predictor.stats()["loads"] == 1, "a failed load is remembered until the file changes"
    store_of_copies.delete(runs["c"].run_id)
    with pytest.raises(StoreError, match="deleted|no saved model"):
        predictor.predict_drawing(runs["c"], canvas)
    assert predictor.predict_drawing(runs["a"], canvas).digit == label
    (runs["b"].path / "model.keras").write_bytes(good)
    os.utime(runs["b"].path / "model.keras", (1, 1))
    assert predictor.predict_drawing(runs["b"], canvas).digit == label


def test_the_inside_view_comes_from_the_process_and_equals_the_library(predictor, store_of_copies):
    """Inside's every layer, weights and saliency, computed in the prediction process, are what mnistlab.inspect
    gives on the model itself; a broken model is the store's sentence; only a 28×28 input is sent."""
    from mnistlab import inspect

    runs = _runs(store_of_copies)
    image = preprocess_steps(drawn_digit(5)[0]).centred
    seen = predictor.inspect(runs["a"], image)
    direct = inspect.inspection(store_of_copies.load_model(runs["a"].run_id), image)
    assert [o.name for o in seen.layers] == [o.name for o in direct.layers] != []
    for ours, theirs in zip(seen.layers, direct.layers):
        np.testing.assert_allclose(ours.values, theirs.values, atol=1e-5)
    np.testing.assert_allclose(seen.saliency, direct.saliency, atol=1e-5)
    np.testing.assert_allclose(seen.first_layer, direct.first_layer)
    assert seen.digit == direct.digit and seen.first_layer_kind == "filters" and seen.templates is None
    (runs["b"].path / "model.keras").write_bytes(b"not a keras archive")
    with pytest.raises(StoreError, match="could not be loaded safely"):
        predictor.inspect(runs["b"], image)
    assert runs["b"].run_id in predictor.known_broken()
    with pytest.raises(ValueError, match="28×28"):
        predictor.inspect(runs["a"], np.zeros((280, 280)))


def test_the_class_drawings_are_scored_in_the_process_like_the_model_itself(predictor, store_of_copies):
    from mnistlab.data import load_mnist

    runs = _runs(store_of_copies)
    (_, _), (x_test, _) = load_mnist()
    images = x_test[:300]
    scored = predictor.score([runs["a"], runs["b"]], images)
    model = store_of_copies.load_model(runs["a"].run_id)
    by_hand = np.argmax(model.predict(images[..., None] / 255.0, verbose=0), axis=1)
    assert np.array_equal(scored[runs["a"].run_id], by_hand) and np.array_equal(scored[runs["b"].run_id], by_hand)
    assert np.array_equal(predictor.score([runs["a"]], images)[runs["a"].run_id], by_hand)  # remembered: same answer
    (runs["c"].path / "model.keras").write_bytes(b"not a keras archive")
    assert isinstance(predictor.score([runs["c"]], images)[runs["c"].run_id], StoreError)
    with pytest.raises(ValueError, match="N×28×28"):
        predictor.score([runs["a"]], images[0])


def test_a_prediction_process_that_dies_is_started_again(predictor, store_of_copies):
    run = _runs(store_of_copies)["a"]
    canvas, label = drawn_digit(4)
    assert predictor.predict_drawing(run, canvas).digit == label
    first = predictor.pid
    os.kill(first, signal.SIGKILL)
    assert predictor.predict_drawing(run, canvas).digit == label
    assert predictor.pid not in (None, first)


def test_a_wedged_prediction_process_is_a_sentence_and_is_replaced(store_of_copies):
    """SIGSTOP the process, draw. Before: the page stayed "running" for 84 s with the old reading and no message."""
    import time

    predictor = Predictor(store_of_copies, capacity=2, reply_seconds=2)
    try:
        run = _runs(store_of_copies)["a"]
        canvas, label = drawn_digit(4)
        assert predictor.predict_drawing(run, canvas).digit == label
        wedged = predictor.pid
        os.kill(wedged, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(StoreError, match="did not answer within 2 s, so it was replaced"):
            predictor.predict_drawing(run, canvas)
        assert time.monotonic() - started < 10
        assert predictor.pid not in (None, wedged)  # the replacement is already starting
        assert not os.path.exists(f"/proc/{wedged}")  # and the wedged one is gone, not left stopped
        assert predictor.predict_drawing(run, canvas).digit == label
    finally:
        predictor.close()


def test_the_caller_never_imports_tensorflow(store_of_copies):
    """A process that reads drawings through the predictor (the server) never has TensorFlow in it."""
    code = """
import sys
sys.path[:0] = ["dashboard", "."]
from conftest import drawn_digit
from mnistlab.store import RunStore
from predictor import Predictor
store = RunStore(sys.argv[1])
predictor = Predictor(store)
run = store.list_runs().runs[0]
print(predictor.predict_drawing(run, drawn_digit(0)[0]).digit)
print(predictor.inspect(run, drawn_digit(0)[0][::10, ::10, 0] / 255.0).digit is not None)
predictor.close()
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code, str(store_of_copies.home)], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO / "tests")))
    assert out.stdout.split() == [str(drawn_digit(0)[1]), "True", "[]"], out.stderr[-2000:]
