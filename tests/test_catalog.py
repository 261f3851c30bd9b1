"""The run catalog follows the folders: writes through the store, other processes, hand edits, a lost catalog."""

import os
import shutil
import sqlite3
import subprocess
import sys
import threading

import mnistlab.catalog
from mnistlab.store import RunStore, write_json

from test_store import _finished_run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _names(store):
    return {run.run_id: run.name for run in store.list_runs().runs}


def test_a_rename_in_another_process_is_listed_here():
    store = RunStore()
    run_id = _finished_run(store, "A")
    assert _names(store) == {run_id: "A"}
    subprocess.run([sys.executable, "-m", "mnistlab", "rename", run_id, "B"], cwd=REPO, check=True, capture_output=True)
    assert _names(store) == {run_id: "B"}


def test_folders_removed_or_copied_by_hand_are_followed():
    store = RunStore()
    first, second = _finished_run(store, "A", accuracy=0.5), _finished_run(store, "B", accuracy=0.7)
    store.list_runs()
    shutil.rmtree(store.runs_dir / first)
    shutil.copytree(store.runs_dir / second, store.runs_dir / "20990101-000000-copy-0000")
    assert set(_names(store)) == {second, "20990101-000000-copy-0000"}
    ids = [row[0] for row in sqlite3.connect(store.home / "catalog.sqlite").execute("SELECT run_id FROM runs")]
    assert sorted(ids) == sorted([second, "20990101-000000-copy-0000"])


def test_a_change_within_one_mtime_tick_is_not_missed(monkeypatch):
    """A folder's stamp is its mtime; two writes within one tick leave the same mtime, so a folder changed in the
    last RACY_SECONDS is read again on every listing until its stamp can be trusted."""
    store = RunStore()
    run_id = _finished_run(store, "A")
    folder = store.runs_dir / run_id
    assert _names(store) == {run_id: "A"}
    before = os.stat(folder)
    info = (folder / "run.json").read_text().replace('"name": "A"', '"name": "B"')
    write_json(folder / "run.json", __import__("json").loads(info))
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick: the folder looks unchanged
    assert _names(store) == {run_id: "B"}


def test_a_lost_or_damaged_catalog_is_rebuilt_from_the_folders():
    store = RunStore()
    ids = {_finished_run(store, name): name for name in "ABC"}
    assert _names(store) == ids
    catalog = store.home / "catalog.sqlite"
    mnistlab.catalog.Catalog._open.clear()  # a new process: nothing mirrored in memory
    for suffix in ("", "-wal", "-shm"):
        (store.home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    assert _names(RunStore()) == ids and catalog.is_file()
    mnistlab.catalog.Catalog._open.clear()
    for suffix in ("-wal", "-shm"):
        (store.home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    catalog.write_bytes(b"not a database" * 100)
    assert _names(RunStore()) == ids
    assert list(store.home.glob("catalog.sqlite.broken-*")), "the damaged catalog is set aside, not deleted"


def test_a_new_thread_opens_a_set_up_catalog_without_the_schema_script(monkeypatch):
    """Each Streamlit script run is a new thread with a connection of its own: opening a catalog already set up is a
    read of its version, while one of another schema is still set aside and rebuilt."""
    store = RunStore()
    ids = {_finished_run(store, name): name for name in "AB"}
    statements = []

    def traced(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    real_connect = sqlite3.connect
    monkeypatch.setattr(mnistlab.catalog.sqlite3, "connect", traced)
    thread = threading.Thread(target=lambda: statements.append(_names(store)))
    thread.start()
    thread.join()
    assert statements[-1] == ids
    assert not [sql for sql in statements[:-1] if "CREATE" in sql or "user_version=" in sql.replace(" ", "")]
    mnistlab.catalog.Catalog._open.clear()
    with sqlite3.connect(store.home / "catalog.sqlite") as db:
        db.execute(f"PRAGMA user_version={mnistlab.catalog.SCHEMA_VERSION + 1}")
    assert _names(RunStore()) == ids
    assert list(store.home.glob("catalog.sqlite.broken-*")), "another schema's catalog is set aside"


def test_a_store_that_cannot_be_written_is_still_listed(tmp_path):
    store = RunStore()
    run_id = _finished_run(store, "A")
    mnistlab.catalog.Catalog._open.clear()
    for suffix in ("", "-wal", "-shm"):
        (store.home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    os.chmod(store.home, 0o555)
    try:
        if os.access(store.home, os.W_OK):  # root ignores the mode: make the catalog's path unopenable instead
            (store.home / "catalog.sqlite").mkdir()
        assert _names(RunStore()) == {run_id: "A"}
    finally:
        os.chmod(store.home, 0o755)


def test_model_runs_are_the_most_accurate_and_the_newest():
    store = RunStore()
    ids = [_finished_run(store, f"R{i}", accuracy=acc) for i, acc in enumerate([0.9, 0.5, 0.95, 0.7, 0.6])]
    (store.runs_dir / ids[2] / "model.keras").unlink()  # a finished run without its model is not offered
    offered = [run.run_id for run in store.model_runs(best=2, newest=1)]
    assert offered == [ids[0], ids[3], ids[4]]  # the newest (R4) and the best two (R0, R3), most accurate first
    offered = [run.run_id for run in store.model_runs(best=1, newest=1)]
    assert offered == [ids[0], ids[4]]
    # the newest is also among the best: the places left go to the next most accurate, so a store of as many
    # models as the page offers shows them all (13 models on Class test showed 11)
    assert [run.run_id for run in store.model_runs(best=2, newest=2)] == [ids[0], ids[3], ids[4], ids[1]]
    assert len(store.model_runs(best=3, newest=1)) == 4 == len(store.model_runs(best=1, newest=3))
    assert all(run.metrics and "mistakes" not in run.metrics for run in store.model_runs(best=5, newest=0))
