"""The run catalog follows the folders: writes through the store, other processes, hand edits, a lost catalog."""

import os
import shutil
import sqlite3
import subprocess
import sys
import threading

import mnistlab.catalog
from mnistlab.files import write_json
from mnistlab.store import RunStore

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


# ------------------------------------------------------------------ the third hardening round (issue 27)

def _age(path, seconds):
    past = __import__("time").time() - seconds
    os.utime(path, (past, past))


def test_run_json_edited_in_place_is_seen():
    """`cat new.json > runs/R/run.json` keeps the file's inode and the folder's mtime. Before: `runs` kept the old
    name forever and `show "new name"` found nothing."""
    from mnistlab.cli import main

    store = RunStore()
    run_id = _finished_run(store, "Old name")
    folder = store.runs_dir / run_id
    _age(folder / "run.json", 100)
    _age(folder, 100)
    before = os.stat(folder)
    assert _names(store) == {run_id: "Old name"}
    text = (folder / "run.json").read_text().replace('"Old name"', '"New name"')
    with open(folder / "run.json", "r+") as handle:  # in place: the same inode
        handle.write(text)
        handle.truncate()
    _age(folder / "run.json", 50)
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))  # as an edit in place leaves it
    assert _names(RunStore()) == {run_id: "New name"}
    assert main(["show", "New name"]) == 0


def _checkpointed(store):
    """The catalog with everything in its main file (no WAL), and no process mirroring it."""
    mnistlab.catalog.Catalog._open.clear()
    with sqlite3.connect(store.home / "catalog.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.home / "catalog.sqlite"


def test_a_catalog_damaged_behind_a_valid_header_is_set_aside_and_rebuilt():
    """Before: every command and page failed with 'database disk image is malformed'."""
    store = RunStore()
    ids = {_finished_run(store, f"R{i}"): f"R{i}" for i in range(30)}
    catalog = _checkpointed(store)
    raw = bytearray(catalog.read_bytes())
    assert raw[:16] == b"SQLite format 3\x00" and len(raw) > 3 * 4096
    raw[4096:] = bytes(range(256)) * ((len(raw) - 4096) // 256) + bytes((len(raw) - 4096) % 256)
    catalog.write_bytes(bytes(raw))
    assert _names(RunStore()) == ids
    assert list(store.home.glob("catalog.sqlite.broken-*")), "the damaged catalog is set aside, not deleted"
    assert RunStore().listed_version() > 0


def test_a_catalog_of_our_version_number_with_other_tables_is_rebuilt():
    """Before: 'no such column' from every listing."""
    store = RunStore()
    run_id = _finished_run(store, "A")
    catalog = _checkpointed(store)
    for suffix in ("", "-wal", "-shm"):
        (store.home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(catalog) as db:
        db.executescript("CREATE TABLE runs (run_id TEXT PRIMARY KEY, version INTEGER);"
                         "CREATE TABLE counter (id INTEGER, version INTEGER, listed INTEGER);"
                         "INSERT INTO counter VALUES (0, 0, 0);")
        db.execute(f"PRAGMA user_version={mnistlab.catalog.SCHEMA_VERSION}")
    assert _names(RunStore()) == {run_id: "A"}
    assert list(store.home.glob("catalog.sqlite.broken-*"))


def test_a_catalog_another_program_holds_is_a_sentence_and_leaves_no_orphan_folder(monkeypatch, capsys):
    """Another process holding BEGIN IMMEDIATE. Before: rename and train waited, then a 'database is locked'
    traceback, and train left a folder with only spec.json that every listing warned about."""
    from mnistlab.cli import main

    store = RunStore()
    run_id = _finished_run(store, "A")
    monkeypatch.setattr(mnistlab.catalog, "BUSY_SECONDS", 0.5)
    mnistlab.catalog.Catalog._open.clear()
    holder = sqlite3.connect(store.home / "catalog.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert main(["rename", run_id, "B"]) == 2
        assert "the run catalog is busy" in capsys.readouterr().err
        assert main(["train", "--preset", "MLP 1", "--epochs", "1", "--limit", "100"]) == 2
        err = capsys.readouterr().err
        assert "the run catalog is busy" in err and "Traceback" not in err
        assert [path.name for path in store.runs_dir.iterdir()] == [run_id]  # no half-made run folder
        assert main(["runs"]) == 0  # reading still works while the catalog is held
    finally:
        holder.rollback()
        holder.close()
    assert main(["rename", run_id, "B"]) == 0 and _names(RunStore()) == {run_id: "B"}


def test_a_disk_too_full_for_the_catalog_is_a_sentence(monkeypatch, capsys):
    """16 KB free. Before: rename's 'database or disk is full' traceback. (The catalog's write fails here as SQLite
    fails on a full disk; the folder's own files are written by the store, whose full disk has its own sentence.)"""
    from mnistlab.cli import main

    store = RunStore()
    run_id = _finished_run(store, "A")

    def full(self, *entries):
        raise sqlite3.OperationalError("database or disk is full")

    put = mnistlab.catalog.Catalog.put

    monkeypatch.setattr(mnistlab.catalog.Catalog, "put", full)
    assert main(["rename", run_id, "B"]) == 2
    err = capsys.readouterr().err
    assert f"Run {run_id} was not changed: the disk is full." in err and "Traceback" not in err
    monkeypatch.setattr(mnistlab.catalog.Catalog, "put", put)
    assert _names(RunStore()) == {run_id: "A"}  # as the sentence says
