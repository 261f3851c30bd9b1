"""The fault matrix (issue 4): each bad input or failure answered with a sentence; no run ever lost.

Rows already covered elsewhere are named in the docstrings of the tests that cover them.
"""

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from test_cli import run_cli

SPEC_HUGE = {"name": "Too big", "layers": [
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "strides": 1, "activation": "relu"},
    {"type": "Flatten"}, {"type": "Dense", "units": 100000, "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]}


def _start_training(home, *args):
    env = dict(os.environ, MNISTLAB_HOME=str(home), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "mnistlab", "train", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_line(stream, needle, seconds=120):
    deadline = time.time() + seconds
    seen = []
    while time.time() < deadline:
        line = stream.readline()
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never appeared: {seen[-5:]}")


def _runs(home):
    out = run_cli("runs", "--json", home=home)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


# Row 1: impossible specs — tests/test_spec.py (every field), test_cli.py::test_malformed_spec_file,
# test_dashboard.py::test_invalid_layer_shows_its_error_and_blocks_training. Here: nothing is queued.
def test_row1_invalid_spec_file_queues_nothing(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad", "layers": [
        {"type": "Flatten"}, {"type": "Dropout", "rate": 1.5}, {"type": "Dense", "units": 10, "activation": "softmax"}]}))
    out = run_cli("train", "--spec", tmp_path / "bad.json", home=home)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Layer 2 (Dropout): rate must be a number in [0, 1), got 1.5." in out.stderr
    assert not (home / "runs").exists()


# Row 2: far too large a network.
def test_row2_huge_network_refused_before_training(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "huge.json").write_text(json.dumps(SPEC_HUGE))
    out = run_cli("train", "--spec", tmp_path / "huge.json", home=home)
    assert out.returncode == 2
    assert "4,327,500,650 parameters, over the limit of 10,000,000" in out.stderr  # 43,264 × 100,000 + …
    assert not (home / "runs").exists()


# Row 3: divergence — test_train.py::test_report_mlp9_diverges_and_is_stored and the dashboard's
# test_train_page_explains_divergence. Here: through the CLI.
def test_row3_cli_reports_divergence_in_a_sentence(tmp_path):
    home = tmp_path / "home"
    out = run_cli("train", "--preset", "MLP 9", "--epochs", 2, "--limit", 3000, "--json", home=home)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "diverged" and "learning rate is too high" in result["message"]
    assert result["metrics"]["accuracy"] < 0.5
    runs, _ = _runs(home)
    assert runs[0]["status"] == "diverged"


# Row 4: Stop in the dashboard — test_worker.py::test_live_points_arrive_and_stop_keeps_partial_run.
def test_row4_ctrl_c_stops_gracefully_and_keeps_the_run(tmp_path):
    home = tmp_path / "home"
    process = _start_training(home, "--preset", "CNN 3", "--limit", 20000, "--epochs", 50)
    _wait_for_line(process.stderr, "epoch 1/50")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "stopping after this batch" in err and "Traceback" not in err
    assert "stopped" in out
    runs, _ = _runs(home)
    assert runs[0]["status"] == "stopped" and 1 <= runs[0]["epochs"] < 50 and runs[0]["accuracy"] > 0.5
    predicted = run_cli("show", runs[0]["run_id"], "--json", home=home)
    assert json.loads(predicted.stdout)["history"]["batches"]


# Row 5: killed mid-training.
def test_row5_sigkill_leaves_an_interrupted_run_and_others_intact(tmp_path, trained_store):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(trained_store[0], home)
    process = _start_training(home, "--preset", "CNN 3", "--limit", 20000, "--epochs", 50)
    _wait_for_line(process.stderr, "epoch 1/50")
    process.kill()
    process.wait(timeout=30)
    runs, warnings = _runs(home)
    by_status = {run["status"]: run for run in runs}
    assert set(by_status) == {"interrupted", "completed"}, runs
    assert by_status["interrupted"]["epochs"] >= 1
    assert by_status["completed"]["run_id"] == trained_store[1] and warnings.strip() == ""
    shown = json.loads(run_cli("show", by_status["interrupted"]["run_id"], "--json", home=home).stdout)
    assert len(shown["history"]["epochs"]) >= 1  # the curves it had


# Row 6: corrupt run folders — test_store.py::test_corrupt_run_is_named_and_skipped (truncated JSON,
# missing spec, missing model, invalid spec), ::test_unreadable_run_is_skipped, and the Compare page's
# test_compare_skips_a_corrupt_run_with_a_warning. Here: through the CLI.
def test_row6_cli_lists_around_a_corrupt_run(tmp_path, trained_store):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(trained_store[0], home)
    broken = home / "runs" / "20200101-000000-broken-0000"
    broken.mkdir()
    (broken / "run.json").write_text('{"status": "comp')
    runs, warnings = _runs(home)
    assert [r["run_id"] for r in runs] == [trained_store[1]]
    assert "20200101-000000-broken-0000 skipped: run.json is truncated or not JSON" in warnings


# Row 7: store not writable or disk full — test_store.py (atomic writes under ENOSPC, unwritable home).
def test_row7_cli_says_where_the_store_cannot_be_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = run_cli("train", "--preset", "CNN 3", "--limit", 500, "--epochs", 1, home=blocker / "home")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Cannot create the run folder" in out.stderr and str(blocker) in out.stderr


# Row 8: two sessions at once — test_worker.py::test_two_sessions_submit_at_once_and_both_complete.
# Row 9: a run deleted in another tab — test_dashboard.py::test_results_says_when_the_run_was_deleted.
# Row 10: drawings — test_preprocess.py, and the Draw page below.
@pytest.mark.parametrize("placement", [(40, 5, 5), (120, 150, 10), (276, 2, 2)], ids=["tiny", "off-centre", "huge"])
def test_row10_draw_page_predicts_any_size_and_place(trained_store, store_home, placement):
    import shutil

    import numpy as np
    from PIL import Image
    from streamlit.testing.v1 import AppTest
    from test_dashboard import APP, _canvas_state, _texts

    from mnistlab.data import load_mnist

    shutil.copytree(trained_store[0], store_home)
    side, top, left = placement
    (_, _), (x_test, y_test) = load_mnist()
    ink = np.asarray(Image.fromarray(x_test[0]).resize((side, side), Image.Resampling.BILINEAR))
    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[top:top + side, left:left + side, :3] = 255 - ink[..., None]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    assert not at.exception
    assert f"I read a **{int(y_test[0])}**" in _texts(at)


# Row 11: CLI predict on bad files — test_cli.py::test_predict_bad_files_are_one_sentence.
# Row 12: MNIST missing, truncated, wrong shapes, pickled — test_data.py. Here: through the CLI.
def test_row12_cli_names_a_broken_mnist_file(tmp_path, mnist_path):
    truncated = tmp_path / "mnist.npz"
    truncated.write_bytes(mnist_path.read_bytes()[:50_000])
    env = dict(os.environ, MNISTLAB_DATA=str(truncated), MNISTLAB_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-m", "mnistlab", "train", "--preset", "CNN 3", "--epochs", "1"],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"MNIST file {truncated} is truncated or not an npz archive" in out.stderr


def test_row12_dashboard_training_says_why_mnist_is_missing(tmp_path, monkeypatch, small_cnn):
    from mnistlab.store import RunStore
    from worker import TrainingWorker

    missing = tmp_path / "nowhere" / "mnist.npz"
    monkeypatch.setenv("MNISTLAB_DATA", str(missing))
    store = RunStore()
    worker = TrainingWorker(store)
    run_id = worker.submit(small_cnn)
    deadline = time.time() + 120
    while worker.busy and time.time() < deadline:
        time.sleep(0.1)
    run = store.load(run_id)
    assert run.status == "failed"
    assert run.info["message"].startswith("Training could not start.") and str(missing) in run.info["message"]
    assert worker.last_finished().message == run.info["message"]


# Row 13: a model file that is not ours, or tampered with.
def _tamper_with_lambda(model_path: Path) -> None:
    """Rewrite the saved config so the model contains a Lambda layer: code that safe mode refuses to load."""
    with zipfile.ZipFile(model_path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
               "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMEAAAAfABTAKkBTqkAqQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+"
                       "2gg8bGFtYmRhPgEAAADzAAAAAA==", "defaults": None, "closure": None}},
               "output_shape": None, "arguments": {}}}
    config["config"]["layers"].insert(1, lam)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model_path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("damage", ["garbage", "lambda"])
def test_row13_foreign_or_tampered_model_is_a_sentence(tmp_path, trained_store, damage):
    import shutil

    import numpy as np
    from PIL import Image

    home = tmp_path / "home"
    shutil.copytree(trained_store[0], home)
    model_path = home / "runs" / trained_store[1] / "model.keras"
    if damage == "garbage":
        model_path.write_bytes(b"this is not a keras archive")
    else:
        _tamper_with_lambda(model_path)
    image = tmp_path / "digit.png"
    Image.fromarray(np.pad(np.full((12, 4), 255, np.uint8), 8)).save(image)
    out = run_cli("predict", "--run", trained_store[1], image, home=home)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"The model file {model_path} could not be loaded safely" in out.stderr


# Row 14: the server reachable from elsewhere.
def test_row14_server_defaults_are_local_and_protected():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False


def test_row14_training_writes_nowhere_but_mnistlab_home(tmp_path):
    fake_home, mnistlab_home = tmp_path / "user", tmp_path / "mnistlab-home"
    fake_home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("KERAS_HOME",)}
    env.update(HOME=str(fake_home), MNISTLAB_HOME=str(mnistlab_home), PYTHONPATH=str(REPO))
    before = set(tmp_path.rglob("*"))
    out = subprocess.run([sys.executable, "-m", "mnistlab", "train", "--preset", "CNN 3", "--limit", "1000",
                          "--epochs", "1"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    written = {path for path in set(tmp_path.rglob("*")) - before}
    outside = [path for path in written if mnistlab_home not in path.parents and path != mnistlab_home]
    assert outside == [], outside
    assert (mnistlab_home / "keras" / "keras.json").exists()
