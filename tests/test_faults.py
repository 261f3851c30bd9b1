"""The fault matrix (issue 4): each bad input or failure answered with a sentence; no run ever lost.

Rows already covered elsewhere are named in the docstrings of the tests that cover them.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, copy_run
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


# ---------------------------------------------------------------- second round (issue 11)

def _copies(trained_store, home: Path, suffixes: str) -> list[str]:
    """Copies of the session's trained run in `home`, one per suffix (distinct ids, one model); their ids."""
    source_home, run_id = trained_store
    return [copy_run(source_home / "runs" / run_id, home / "runs", suffix) for suffix in suffixes]


def _ids(home: Path) -> set[str]:
    return {folder.name for folder in (home / "runs").iterdir()}


def test_row15_a_run_is_named_exactly_or_not_at_all(tmp_path, trained_store):
    """Row 15: an empty name, a short or shared id prefix, or a name several runs share acts on no run; an exact
    name beats an id prefix (`delete 2026` deletes the run named 2026); `reproduce --only ""` trains nothing."""
    home = tmp_path / "home"
    a, b, c = _copies(trained_store, home, "abc")
    everything = _ids(home)
    for args in (("delete", "", "--yes"), ("delete", a[:4], "--yes"), ("delete", a[:3], "--yes"),
                 ("rename", "", "x"), ("show", ""), ("delete", "Quick CNN", "--yes")):
        out = run_cli(*args, home=home)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (args, out.stderr)
        assert _ids(home) == everything, args
    assert "3 runs are named 'Quick CNN'" in run_cli("show", "Quick CNN", home=home).stderr
    assert f"begins 3 run ids ({c}, {b}, {a})" in run_cli("delete", a[:8], "--yes", home=home).stderr
    assert run_cli("rename", b, a[:4], home=home).returncode == 0
    out = run_cli("delete", a[:4], "--yes", home=home)
    assert out.returncode == 0 and _ids(home) == {a, c}
    assert run_cli("show", c[-6:], home=home).returncode == 2  # a prefix, not a substring
    out = run_cli("show", c, home=home)
    assert out.returncode == 0 and c in out.stdout
    out = run_cli("reproduce", "--only", "", home=home)
    assert out.returncode == 2 and "names no preset" in out.stderr and _ids(home) == {a, c}


def test_row16_renames_during_training_never_undo_what_the_training_recorded(tmp_path, small_cnn):
    """Row 16: rename and the run recorder both change run.json; under the run's lock neither loses the other's
    fields: renamed over and over while it trains, a run still ends `completed` with its epochs and finish time."""
    from mnistlab.store import RunStore, StoreError

    home = tmp_path / "home"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(small_cnn.with_config(epochs=3).to_dict()))
    training = _start_training(home, "--spec", spec)
    store = RunStore(home)
    while not (home / "runs").is_dir() or not any((home / "runs").iterdir()):
        time.sleep(0.01)
    run_id = next((home / "runs").iterdir()).name
    renames = 0
    while training.poll() is None:
        try:
            store.rename(run_id, f"name {renames}")
            renames += 1
        except StoreError:  # run.json not written yet
            time.sleep(0.001)
    info = json.loads((home / "runs" / run_id / "run.json").read_text())
    assert training.returncode == 0, training.stderr.read()[-2000:]
    assert renames > 50
    assert info["status"] == "completed" and info["epochs_run"] == 3 and "finished" in info, info
    assert info["name"] == f"name {renames - 1}"


BROKEN_FILES = {
    "a": ("run.json", "[]"),
    "b": ("metrics.json", '"str"'),
    "c": ("run.json", None),  # a pid no OS can have
    "d": ("history.json", '{"epochs": [{"epo'),  # truncated: the run itself is still fine
}


def _damage(home: Path, ids: list[str]) -> None:
    for run_id, (name, text) in zip(ids, BROKEN_FILES.values()):
        path = home / "runs" / run_id / name
        if text is None:
            text = json.dumps(dict(json.loads(path.read_text()), status="running", pid=10**30))
        path.write_text(text)


def test_row17_one_wrong_file_breaks_one_run_only(tmp_path, trained_store):
    """Row 17: valid JSON of the wrong type in one run folder (a list for run.json, a string for metrics.json, a
    pid too large for the OS) or a truncated history.json: one warning, that run skipped or shown without its
    curves, every other run and command unaffected, and the broken run still deletable by its id."""
    home = tmp_path / "home"
    ids = _copies(trained_store, home, "abcde")
    _damage(home, ids)
    good, truncated = ids[4], ids[3]
    runs, stderr = _runs(home)
    assert {r["run_id"] for r in runs} == {ids[2], truncated, good} and "Traceback" not in stderr
    assert f"{ids[0]} skipped: run.json is a JSON list" in stderr and f"{ids[1]} skipped: metrics.json" in stderr
    assert next(r for r in runs if r["run_id"] == ids[2])["status"] == "interrupted"
    out = run_cli("show", truncated, "--json", home=home)
    assert out.returncode == 0 and json.loads(out.stdout)["history"] == {"epochs": [], "batches": []}
    assert run_cli("show", good, home=home).returncode == 0
    for broken in ids[:2]:
        out = run_cli("delete", broken, "--yes", home=home)
        assert out.returncode == 0 and not (home / "runs" / broken).exists(), out.stderr


def test_row17_dashboard_pages_show_the_other_runs(trained_store, store_home):
    """Row 17, in the dashboard: every page renders around the broken runs, with a warning and no traceback."""
    from streamlit.testing.v1 import AppTest

    ids = _copies(trained_store, store_home, "abcde")
    _damage(store_home, ids)
    for page in ("build", "train", "results", "compare", "draw", "report"):
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    at.session_state["results_run"] = ids[3]  # the run with a truncated history
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, [e.value for e in at.exception]


PEAK_REPORTER = """
import atexit, os, sys
def report_peak():
    status = open("/proc/self/status").read()
    open(os.environ["PEAK_FILE"], "w").write(status.split("VmHWM:")[1].split()[0])
atexit.register(report_peak)
"""
RUN_CLI = "import runpy, sys; sys.argv = ['mnistlab', *sys.argv[1:]]; runpy.run_module('mnistlab', run_name='__main__')"


def _run_watched(args, home, kill_over: int, env_extra=None, code: str = RUN_CLI, timeout=600):
    """Run `python -m mnistlab ARGS` (or `code` with ARGS), killed past `kill_over` bytes of RSS. Returns (completed
    process, peak RSS, whether it was killed). The process reports its own peak (VmHWM) as it exits: the rusage
    of a child forked from this large test process would count this process's memory too."""
    peak_file = Path(tempfile.mkstemp()[1])
    env = dict(os.environ, MNISTLAB_HOME=str(home), PYTHONPATH=str(REPO), PEAK_FILE=str(peak_file),
               **(env_extra or {}))
    process = subprocess.Popen([sys.executable, "-c", PEAK_REPORTER + code, *map(str, args)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, deadline = False, time.time() + timeout
    while process.poll() is None:
        try:
            rss = int(Path(f"/proc/{process.pid}/status").read_text().split("VmRSS:")[1].split()[0]) * 1024
        except (OSError, IndexError):
            rss = 0
        if rss > kill_over or time.time() > deadline:
            process.kill()
            killed = True
        time.sleep(0.02)
    out, err = process.communicate()
    peak = int(peak_file.read_text() or 0) * 1024 if peak_file.stat().st_size else kill_over + 1
    peak_file.unlink()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), peak, killed or peak > kill_over


WIDE = {"name": "Wide", "layers": [{"type": "Conv2D", "filters": 1024, "kernel_size": 3, "activation": "relu"},
                                   {"type": "MaxPooling2D", "pool_size": 26}, {"type": "Flatten"},
                                   {"type": "Dense", "units": 10, "activation": "softmax"}]}


def test_row18_a_network_whose_activations_exceed_the_budget_is_refused(tmp_path):
    """Row 18: Conv2D(1024, 3×3) → MaxPooling2D(26) has only 20,490 parameters, but a training step at batch 2,000
    needs far more memory than the budget: refused in one sentence naming the layer, before anything is stored."""
    from mnistlab.spec import Experiment, SpecError, validate

    wide = Experiment.from_dict(dict(WIDE, config={"batch_size": 2000}))
    with pytest.raises(SpecError, match=r"layer 1 \(Conv2D\(1024, 3×3, relu\)\) with 692,224 values") as err:
        validate(wide)
    assert err.value.layer == 1
    (tmp_path / "wide.json").write_text(json.dumps(dict(WIDE, config={"batch_size": 2000})))
    out = run_cli("train", "--spec", tmp_path / "wide.json", home=tmp_path / "home")
    assert out.returncode == 2 and "over the budget of 2.0 GiB" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "home" / "runs").exists()


def test_row18_training_and_evaluation_stay_within_the_budget(tmp_path):
    """Row 18: at batch 32 the wide network is within budget, and its evaluation runs in batches sized to the
    budget (it peaked at 4 GB in batches of 1,000): the whole process stays under budget + 1.5 GiB (TensorFlow,
    MNIST as floats), watched from outside and killed past it."""
    budget = 1024 * 2**20
    (tmp_path / "wide.json").write_text(json.dumps(dict(WIDE, config={"batch_size": 32, "epochs": 1,
                                                                       "train_limit": 300})))
    out, peak, killed = _run_watched(["train", "--spec", tmp_path / "wide.json"], tmp_path / "home",
                                     kill_over=budget + 1536 * 2**20, env_extra={"MNISTLAB_MEMORY_BUDGET_MB": "1024"})
    assert not killed, f"peak RSS passed {(budget + 1536 * 2**20) / 2**30:.1f} GiB"
    assert out.returncode == 0, out.stderr[-2000:]
    print(f"peak RSS {peak / 2**30:.2f} GiB")


@pytest.mark.parametrize("spec, sentence", [
    ({"name": "deep", "layers": [{"type": "Dropout", "rate": 0.1}] * 10_000 + [
        {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]}, "over the limit of 100"),
    ({"name": "odd", "layers": [{"type": {}}]}, "unknown type {}"),
    ({"name": "float", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10.0, "activation": "softmax"}]},
     "got units 10.0 and activation 'softmax'"),
    ({"name": "text", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": "10", "activation": "softmax"}]},
     "got units '10' and activation 'softmax'"),
    ({"name": "none left", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}],
      "config": {"train_limit": 1, "validation_split": 0.1}}, "leave 0 to train on"),
])
def test_row19_odd_specs_are_one_sentence_before_anything_is_stored(tmp_path, spec, sentence):
    """Row 19: a 10,000-layer spec, a non-text layer type, an output layer of 10.0 or "10" units, and a slice and
    split that leave no training image are refused in one sentence; nothing is stored."""
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = run_cli("train", "--spec", tmp_path / "spec.json", home=tmp_path / "home")
    assert out.returncode == 2 and sentence in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "home" / "runs").exists()


def test_row19_deeply_nested_json_is_one_sentence(tmp_path):
    """Row 19: JSON nested 100,000 deep is refused in one sentence, not a RecursionError."""
    (tmp_path / "spec.json").write_text("[" * 100_000 + "]" * 100_000)
    out = run_cli("train", "--spec", tmp_path / "spec.json", home=tmp_path / "home")
    assert out.returncode == 2 and "nested too deeply" in out.stderr and "Traceback" not in out.stderr


def test_row20_a_gzip_bomb_as_mnist_stops_at_its_header(tmp_path):
    """Row 20: a train-images .gz of a few MB that inflates to 1 GiB is refused from its IDX header (and never
    read past MNIST's own size), in one sentence, with the process far below the size it would inflate to."""
    import gzip

    folder = tmp_path / "mnist"
    folder.mkdir()
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb", compresslevel=1) as bomb:
        chunk = bytes(16 * 2**20)
        for _ in range(64):
            bomb.write(chunk)
    out, peak, killed = _run_watched([], tmp_path / "home", kill_over=512 * 2**20, env_extra={
        "MNISTLAB_DATA": str(folder)}, code="from mnistlab.data import load_mnist; load_mnist()")
    assert not killed and "is not an unsigned-byte IDX file" in out.stderr, out.stderr[-500:]


def test_row21_a_huge_image_is_scaled_down_on_load(tmp_path, trained_store):
    """Row 21: a 5000×5000 RGBA image to `predict` peaked at 1.5 GB; scaled down on load, the whole process
    (TensorFlow included) stays under 1.2 GiB and still reads the digit."""
    from PIL import Image, ImageDraw

    home, run_id = trained_store
    image = Image.new("RGBA", (5000, 5000), "white")
    ImageDraw.Draw(image).line([(1500, 1000), (3500, 1000), (2300, 4000)], fill="black", width=400)
    image.save(tmp_path / "huge.png", compress_level=1)
    out, peak, killed = _run_watched(["predict", "--run", run_id, tmp_path / "huge.png"], home,
                                     kill_over=int(1.2 * 2**30))
    assert not killed, "peak RSS passed 1.2 GiB"
    assert out.returncode == 0 and out.stdout.split()[0].isdigit(), out.stderr[-1000:]


def test_row22_runs_queued_in_the_dashboard_survive_a_server_restart(small_cnn, store_home):
    """Row 22: a run queued in the dashboard lived only in the server's memory, and after a restart read
    `interrupted` ("keeps the epochs it completed") though it never started. The next server queues it again."""
    from mnistlab.store import RunStore
    from test_worker import _wait
    from worker import TrainingWorker

    store = RunStore()
    run_id = store.create_run(small_cnn, origin="dashboard")
    store.update(run_id, pid=4_194_303, pid_started=1)  # the server that queued it is gone
    cli_run = store.create_run(small_cnn)  # queued elsewhere: not the dashboard's to restart
    store.update(cli_run, pid=4_194_303, pid_started=1)
    assert store.load(run_id).status == "interrupted"
    worker = TrainingWorker(store)
    assert _wait(lambda: store.load(run_id).status == "completed", 120)
    assert _wait(lambda: not worker.busy, 30)  # the store says completed a moment before the worker hears it
    assert store.load(cli_run).status == "interrupted"


def _pad_config(model_file: Path, size: int) -> None:
    """Rewrite a model.keras with its config.json padded by `size` spaces (valid JSON; zips to almost nothing)."""
    with zipfile.ZipFile(model_file) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(model_file, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if name != "config.json":
                archive.writestr(name, data)
        with archive.open("config.json", "w", force_zip64=True) as config:
            config.write(entries["config.json"])
            chunk = b" " * 2**20
            for _ in range(size // len(chunk)):
                config.write(chunk)


def test_row23_a_model_file_bomb_is_refused_before_it_is_read(tmp_path, trained_store):
    """Row 23: a model.keras whose config.json unpacks to 300 MB (the zip is under 1 MB) is refused from the
    zip's directory in one sentence, before TensorFlow is even imported: the process stays small."""
    home = tmp_path / "home"
    bomb, = _copies(trained_store, home, "b")
    _pad_config(home / "runs" / bomb / "model.keras", 300 * 2**20)
    assert (home / "runs" / bomb / "model.keras").stat().st_size < 2**20
    digit = tmp_path / "digit.png"
    from PIL import Image

    from conftest import drawn_digit
    Image.fromarray(drawn_digit(0)[0]).save(digit)
    out, peak, killed = _run_watched(["predict", "--run", bomb, digit], home, kill_over=2**30)
    assert not killed and out.returncode == 2, out.stderr[-1000:]
    assert "config.json would unpack to 314,572,800" in out.stderr or "would unpack to" in out.stderr
    assert peak < 600 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_row23_the_draw_page_never_defaults_to_a_model_that_fails_to_load(trained_store, store_home):
    """Row 23, in the dashboard: the most accurate model's file is a bomb; the Draw page says so once and reads the
    drawing with the next model, and does not try the bomb again on every stroke."""
    from streamlit.testing.v1 import AppTest

    from conftest import drawn_digit
    from test_dashboard import _canvas_state, _texts

    bomb, good = _copies(trained_store, store_home, "ab")
    metrics = json.loads((store_home / "runs" / bomb / "metrics.json").read_text())
    (store_home / "runs" / bomb / "metrics.json").write_text(json.dumps(dict(metrics, accuracy=0.999)))
    _pad_config(store_home / "runs" / bomb / "model.keras", 20 * 2**20)
    canvas, label = drawn_digit(0)
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("app_pages/draw.py").run()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="draw_model").value == good
    assert f"I read a **{label}**" in _texts(at)


def test_row24_small_ones(tmp_path, trained_store, mnist_path):
    """Row 24: `show RUN | head` ends quietly; `show --json` writes null, never a bare NaN; `runs` with
    MNISTLAB_HOME pointing at a file says so; a data error leaves no failed run behind; a name over 80 characters
    or with a line break is refused at rename; "units": "10" is named as typed (row 19)."""
    home = tmp_path / "home"
    run_id, = _copies(trained_store, home, "a")
    history = json.loads((home / "runs" / run_id / "history.json").read_text())
    history["epochs"][0]["val_loss"] = float("nan")
    (home / "runs" / run_id / "history.json").write_text(json.dumps(history))
    out = run_cli("show", run_id, "--json", home=home)
    assert out.returncode == 0 and "NaN" not in out.stdout and json.loads(out.stdout)["history"]["epochs"][0][
        "val_loss"] is None
    env = dict(os.environ, MNISTLAB_HOME=str(home), PYTHONPATH=str(REPO))
    piped = subprocess.run(f"{sys.executable} -m mnistlab show {run_id} --json | head -1", shell=True, cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr, piped.stderr[-1000:]
    (tmp_path / "a-file").write_text("not a folder")
    out = run_cli("runs", home=tmp_path / "a-file")
    assert out.returncode == 2 and "is a file, not a folder" in out.stderr and "No runs yet" not in out.stdout
    out = subprocess.run([sys.executable, "-m", "mnistlab", "train", "--preset", "MLP 1", "--limit", "100",
                          "--epochs", "1"], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env=dict(env, MNISTLAB_HOME=str(tmp_path / "fresh"), MNISTLAB_DATA=str(tmp_path / "none.npz")))
    assert out.returncode == 2 and "none.npz does not exist" in out.stderr
    assert not (tmp_path / "fresh" / "runs").exists() or not any((tmp_path / "fresh" / "runs").iterdir())
    for name in ("x" * 81, "two\nlines"):
        out = run_cli("rename", run_id, name, home=home)
        assert out.returncode == 2 and "keeps its name" in out.stderr
