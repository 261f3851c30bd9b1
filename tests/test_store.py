import json
import os
import subprocess
import sys

import pytest

from conftest import drawn_digit
from mnistlab.spec import Dense, Experiment, Flatten
from mnistlab.files import write_json
from mnistlab.runs_table import runs_table
from mnistlab.store import RunStore, StoreError

SPEC = Experiment("Tiny", (Flatten(), Dense(10, "softmax")))


def _finished_run(store, name="Tiny", status="completed", accuracy=0.9):
    run_id = store.create_run(Experiment(name, SPEC.layers, SPEC.config))
    folder = store.runs_dir / run_id
    store.update(run_id, status=status, epochs_run=1, train_seconds=1.5)
    write_json(folder / "metrics.json", {"accuracy": accuracy, "keras_precision": 0.9, "keras_recall": 0.8,
                                         "macro_f1": 0.85, "per_class_accuracy": [accuracy] * 10,
                                         "confusion_matrix": [[0] * 10] * 10, "mistakes": []})
    (folder / "model.keras").write_bytes(b"placeholder: these tests never load it")
    return run_id


def test_create_list_rename_delete():
    store = RunStore()
    first, second = _finished_run(store, "A"), _finished_run(store, "B")
    listing = store.list_runs()
    assert {r.run_id for r in listing.runs} == {first, second} and listing.warnings == []
    store.rename(first, "  Renamed ")
    assert store.load(first).name == "Renamed"
    assert store.find_run("Renamed").run_id == first
    store.delete(second)
    assert [r.run_id for r in store.list_runs().runs] == [first]
    with pytest.raises(StoreError, match="does not exist"):
        store.load(second)


def test_run_owned_by_a_dead_process_is_interrupted(tmp_path):
    store = RunStore()
    run_id = store.create_run(SPEC)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store.update(run_id, status="running", pid=int(dead.stdout), pid_started=1, epochs_run=2)
    run = store.load(run_id)
    assert run.status == "interrupted" and run.info["epochs_run"] == 2


def test_run_of_this_process_is_still_running():
    store = RunStore()
    run_id = store.create_run(SPEC, status="running")
    assert store.load(run_id).status == "running"


@pytest.mark.parametrize("damage,reason", [
    (lambda f: (f / "run.json").write_text('{"status": "compl'), "run.json is truncated or not JSON"),
    (lambda f: (f / "spec.json").unlink(), "spec.json is missing"),
    (lambda f: (f / "model.keras").unlink(), "model file model.keras is missing"),
    (lambda f: (f / "spec.json").write_text('{"name": "x", "layers": [{"type": "Dense", "units": -1}]}'),
     "spec.json is invalid"),
])
def test_corrupt_run_is_named_and_skipped(damage, reason):
    store = RunStore()
    good, bad = _finished_run(store, "Good"), _finished_run(store, "Bad")
    damage(store.runs_dir / bad)
    listing = store.list_runs()
    assert [r.run_id for r in listing.runs] == [good]
    assert len(listing.warnings) == 1 and bad in listing.warnings[0] and reason in listing.warnings[0]
    assert store.load(good).metrics["accuracy"] == 0.9


def test_unreadable_run_is_skipped():
    """A run.json that cannot be read at all (here a folder in its place: root reads every file)."""
    store = RunStore()
    good, bad = _finished_run(store, "Good"), _finished_run(store, "Bad")
    (store.runs_dir / bad / "run.json").unlink()
    (store.runs_dir / bad / "run.json").mkdir()
    listing = store.list_runs()
    assert [r.run_id for r in listing.runs] == [good] and "run.json cannot be read" in listing.warnings[0]


def test_store_not_writable_is_one_sentence(tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        RunStore(blocker / "home").create_run(SPEC)
    assert "Cannot create the run folder" in str(info.value) and str(blocker) in str(info.value)


def test_atomic_write_leaves_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    write_json(target, {"status": "running"})

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        write_json(target, {"status": "completed"})
    assert json.loads(target.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_comparison_table_columns_and_report_accuracy():
    from mnistlab.presets import get_preset

    store = RunStore()
    _finished_run(store, "A", accuracy=0.95)
    mlp1 = get_preset("MLP 1").experiment.with_config(epochs=1)
    store.create_run(mlp1)
    table = runs_table(store.list_runs())
    assert list(table.columns[:4]) == ["run_id", "name", "layers", "params"]
    assert set(table["name"]) == {"A", "MLP 1"}
    row = table[table["name"] == "MLP 1"].iloc[0]
    assert row["report_accuracy"] == 0.9206 and row["params"] == 39_760 and row["status"] == "queued"
    assert table[table["name"] == "A"].iloc[0]["accuracy"] == 0.95


def test_run_ids_are_not_paths():
    with pytest.raises(StoreError, match="not a run id"):
        RunStore().load("../../etc")


def test_listing_parses_a_run_again_only_when_its_files_change(trained_store, tmp_path, monkeypatch):
    import shutil

    import mnistlab.catalog
    import mnistlab.store as store_module

    monkeypatch.setattr(mnistlab.catalog, "RACY_SECONDS", 0)  # the rule for just-changed folders has its own test
    home, run_id = trained_store
    shutil.copytree(home, tmp_path / "copy")
    store = RunStore(tmp_path / "copy")
    parsed = []
    original = store_module._parse_run
    monkeypatch.setattr(store_module, "_parse_run", lambda folder: parsed.append(folder.name) or original(folder))
    first = store.list_runs().runs[0]
    store.list_runs()
    assert parsed == [run_id]
    store.rename(run_id, "Renamed")
    again = store.list_runs().runs[0]
    assert again.name == "Renamed" and first.name != "Renamed" and parsed == [run_id, run_id]
    assert again.metrics == first.metrics


def test_a_finished_run_keeps_its_prediction_for_every_test_image(trained_store, tmp_path):
    """predictions.npy: the digit predicted for each of the 10,000 test images, agreeing with the stored metrics;
    a file that is not a small uint8 array of digits is no predictions at all (never unpickled)."""
    import shutil

    import numpy as np

    from mnistlab.data import load_mnist

    home, run_id = trained_store
    shutil.copytree(home, tmp_path / "home")
    run = RunStore(tmp_path / "home").load(run_id)
    predictions = run.predictions()
    (_, _), (_, y_test) = load_mnist()
    assert predictions.dtype == np.uint8 and predictions.shape == (10_000,)
    assert np.mean(predictions == y_test) == run.metrics["accuracy"]
    matrix = np.zeros((10, 10), int)
    np.add.at(matrix, (y_test, predictions), 1)
    assert matrix.tolist() == run.metrics["confusion_matrix"]
    path = run.path / "predictions.npy"
    for bad in (np.array([object()], dtype=object), np.full(10_000, 12, np.uint8), np.zeros(10_000, np.int64),
                np.zeros((100, 100), np.uint8)):
        np.save(path, bad, allow_pickle=True)
        assert run.predictions() is None, bad.dtype
    path.write_bytes(b"\x93NUMPY" + b"\0" * 300_000)  # too large to be ours: not even read
    assert run.predictions() is None
    path.unlink()
    assert run.predictions() is None


def test_temporaries_a_killed_writer_left_are_removed_once_stale(tmp_path):
    """SIGKILL between a temporary file's write and its rename. Before: hidden .tmp files that nothing cleaned."""
    import time

    import mnistlab.catalog
    from mnistlab.drawings import Drawings
    from mnistlab.files import STALE_SECONDS

    store = RunStore()
    run_id = _finished_run(store, "A")
    folder = store.runs_dir / run_id
    old = time.time() - STALE_SECONDS - 60
    for name in (".run.json.k2j3h.tmp", ".model-0a1b2c3d.keras", ".history.json.q9w8.tmp"):
        (folder / name).write_text("partial")
    for name in (".run.json.k2j3h.tmp", ".model-0a1b2c3d.keras"):
        os.utime(folder / name, (old, old))
    mnistlab.catalog.Catalog._open.clear()  # a new process
    assert [run.run_id for run in RunStore().list_runs().runs] == [run_id]
    left = sorted(path.name for path in folder.iterdir() if path.name.startswith(".") and path.name != ".lock")
    assert left == [".history.json.q9w8.tmp"]  # a write that may still be in progress is left alone

    drawings = Drawings(store.home)
    drawings.folder.mkdir(parents=True)
    (drawings.folder / ".20260101-000000-000000-0000aaaa.npz.x1.tmp").write_bytes(b"half")
    os.utime(drawings.folder / ".20260101-000000-000000-0000aaaa.npz.x1.tmp", (old, old))
    canvas, label = drawn_digit(2)
    drawings.save(canvas, label)
    assert [path.name for path in drawings.folder.iterdir() if path.name.startswith(".")] == []


def test_a_runs_info_and_metrics_cannot_be_changed_by_a_reader():
    """A listed Run's info and metrics are shared with the catalog's mirror and with every other listing of the run:
    a page that changed them in place would change what every other page reads."""
    store = RunStore()
    run_id = _finished_run(store, "Shared")
    run = store.list_runs().runs[0]
    with pytest.raises(TypeError):
        run.info["name"] = "Changed"
    with pytest.raises(TypeError):
        run.metrics["accuracy"] = 1.0
    assert store.list_runs().runs[0].name == "Shared" and store.load(run_id).metrics["accuracy"] == 0.9


def test_the_store_knows_nothing_of_training():
    """The store is below training: reading runs imports neither train.py nor TensorFlow."""
    code = "import sys, mnistlab.store; print(sorted(m for m in ('mnistlab.train', 'tensorflow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_runs_made_within_one_second_keep_their_order_whatever_their_ids(store_home):
    """Ids sort by their random ending within a second; groups and names go by created_ns (a hand-edited, wrong
    created_ns counts as 0 rather than breaking the sort)."""
    from mnistlab.groups import oldest_first
    from mnistlab.store import Run

    def run(run_id, made):
        return Run(run_id, store_home, {"run_id": run_id, "created_ns": made}, None)

    first, second, edited = run("20261206-101010-mlp-1-ffff", 10), run("20261206-101010-mlp-1-0000", 20), \
        run("20261206-101010-mlp-1-aaaa", "yesterday")
    assert sorted([second, first, edited], key=oldest_first) == [edited, first, second]
