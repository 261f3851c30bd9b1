"""The run catalog: one SQLite table that summarises every run folder, so that listing a semester
of runs does not mean reading every folder's JSON files again.

The folders stay the truth (the artifacts, and files people read); the catalog is an index of
them. The store's writers keep it current — a change to run.json and the run's catalog row are
committed together — and every listing compares each row with its folder's stamp, so a folder
that another tool changed, added or removed is read again. Delete catalog.sqlite and the next
listing rebuilds it from the folders.

Each process mirrors the rows in memory and asks SQLite only for rows written since it last
looked (every write bumps a counter), so a warm listing of 10,000 runs reads no JSON at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 2
BUSY_SECONDS = 30.0  # how long a write waits for another process's transaction before it is a sentence
RACY_SECONDS = 2.0  # a folder changed this recently may change again within its mtime's tick: re-read it next time

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    stamp     TEXT,
    problem   TEXT,
    info      TEXT,
    spec      TEXT,
    summary   TEXT,
    has_model INTEGER NOT NULL,
    accuracy  REAL,
    facts     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_version ON runs (version);
CREATE INDEX IF NOT EXISTS runs_by_accuracy ON runs (accuracy) WHERE accuracy IS NOT NULL AND has_model = 1;
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL,
                                    listed INTEGER NOT NULL);
INSERT OR IGNORE INTO counter VALUES (0, 0, 0);
"""
_COLUMNS = "run_id, version, stamp, problem, info, spec, summary, has_model"


@dataclass(frozen=True)
class Entry:
    """What the catalog knows of one run folder: its files' contents (metrics without the mistakes
    list), or the one sentence saying why the folder cannot be read."""

    run_id: str
    stamp: str | None  # the folder's stamp when it was read; None when too recent to trust
    info: dict | None = None
    spec: dict | None = None
    summary: dict | None = None
    has_model: bool = False
    problem: str | None = None

    @property
    def experiment(self):
        """The spec as an Experiment, parsed once per process (it was validated when the folder was read).
        Not a cached_property: on Python 3.11 that takes a lock on every access, a third of a warm listing."""
        parsed = self.__dict__.get("_experiment")
        if parsed is None:
            from .spec import Experiment

            parsed = self.remember(Experiment.from_dict(self.spec))
        return parsed

    def remember(self, experiment):
        """Keep the parsed spec with the row (the row itself stays unchanged)."""
        object.__setattr__(self, "_experiment", experiment)
        return experiment

    @property
    def facts(self) -> str:
        """What a page listing runs shows of this one: a change here (a run queued, started, finished, renamed,
        deleted) is what pages watch for; an epoch recorded is not."""
        info = self.info or {}
        return json.dumps([info.get("name"), info.get("status"), self.has_model, self.accuracy, self.problem])

    @property
    def accuracy(self) -> float | None:
        value = (self.summary or {}).get("accuracy")
        return value if self.problem is None and self.has_model and isinstance(value, (int, float)) else None


def folder_stamp(folder: str | Path) -> str | None:
    """What tells a folder's new contents from its old: the store writes every file by renaming a new one
    into the folder, and a rename, a new file or a deleted one changes the folder's mtime; run.json (the name and
    status a listing shows) is stamped too, as a person may edit it in place, which leaves the folder's mtime as
    it was. Stamps of anything changed in the last RACY_SECONDS are not trusted (None): two writes within one
    mtime tick look alike."""
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    try:
        info = os.stat(os.path.join(folder, "run.json"))
        info_stamp = f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        info, info_stamp = None, "-"
    if time.time() - max(stat.st_mtime, info.st_mtime if info else 0) < RACY_SECONDS:
        return None
    return f"{stat.st_ino}:{stat.st_mtime_ns}:{info_stamp}"


class Catalog:
    """The catalog of one store. Use `for_home` so every RunStore of a process shares one mirror."""

    _open: dict[Path, "Catalog"] = {}
    _open_lock = threading.Lock()

    @classmethod
    def for_home(cls, home: Path) -> "Catalog":
        key = Path(home).expanduser().absolute()
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(key / "catalog.sqlite")
            return cls._open[key]

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._lock = threading.RLock()
        self._mirror: dict[str, Entry] = {}
        self._in_memory: sqlite3.Connection | None = None
        self.reconciled = False  # whether this process has compared the catalog with every folder yet
        self._seen = -1  # the counter's value when the mirror was last brought up to date
        self._verified = False  # whether this process has checked the database's pages and tables once
        self._generation = 0  # bumped when a damaged database is set aside: every thread then reconnects

    # ------------------------------------------------------------ reading

    def entries(self, run_ids=None) -> dict[str, Entry]:
        """Every row (or the rows of `run_ids` that exist), brought up to date with what other processes wrote:
        only rows written since the last look are read."""
        return self._rebuilt_if_damaged(lambda: self._entries(run_ids))

    def _entries(self, run_ids) -> dict[str, Entry]:
        with self._lock:
            rows = self._db().execute(f"SELECT {_COLUMNS} FROM runs WHERE version > ?", (self._seen,)).fetchall()
            for row in rows:
                self._mirror[row[0]] = _entry(row)
            self._seen = max([self._seen, *(row[1] for row in rows)])
            if run_ids is None:
                return dict(self._mirror)
            return {run_id: self._mirror[run_id] for run_id in run_ids if run_id in self._mirror}

    def listed_version(self) -> int:
        """A number that changes whenever a run is added, removed, or changes what listings show of it."""
        return self._rebuilt_if_damaged(
            lambda: self._db().execute("SELECT listed FROM counter WHERE id = 0").fetchone()[0])

    def best(self, limit: int) -> list[str]:
        """The ids of the `limit` most accurate runs that have a model, most accurate first."""
        sql = "SELECT run_id FROM runs WHERE accuracy IS NOT NULL AND has_model = 1 ORDER BY accuracy DESC LIMIT ?"
        return self._rebuilt_if_damaged(lambda: [row[0] for row in self._db().execute(sql, (limit,))])

    def newest(self, limit: int) -> list[str]:
        """The ids of the `limit` newest runs that have a model (run ids begin with their creation time)."""
        sql = "SELECT run_id FROM runs WHERE accuracy IS NOT NULL AND has_model = 1 ORDER BY run_id DESC LIMIT ?"
        return self._rebuilt_if_damaged(lambda: [row[0] for row in self._db().execute(sql, (limit,))])

    # ------------------------------------------------------------ writing

    @contextmanager
    def writing(self):
        """A write transaction: it holds the catalog's lock across processes, so a change to a run's files made
        inside it and the rows written inside it are seen together or not at all."""
        db = self._db()
        with self._lock:
            if db.in_transaction:  # nested: the outer transaction commits
                yield
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def put(self, *entries: Entry) -> None:
        with self.writing():
            db = self._db()
            for entry in entries:
                version, facts = self._bump(db), entry.facts
                before = db.execute("SELECT facts FROM runs WHERE run_id = ?", (entry.run_id,)).fetchone()
                if before is None or before[0] != facts:
                    db.execute("UPDATE counter SET listed = listed + 1 WHERE id = 0")
                db.execute(f"INSERT OR REPLACE INTO runs ({_COLUMNS}, accuracy, facts) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (entry.run_id, version, entry.stamp, entry.problem, _dumps(entry.info), _dumps(entry.spec),
                            _dumps(entry.summary), int(entry.has_model), entry.accuracy, facts))

    def remove(self, *run_ids: str) -> None:
        if not run_ids:
            return
        with self.writing():
            self._db().executemany("DELETE FROM runs WHERE run_id = ?", [(run_id,) for run_id in run_ids])
            self._db().execute("UPDATE counter SET listed = listed + 1 WHERE id = 0")
        with self._lock:
            for run_id in run_ids:
                self._mirror.pop(run_id, None)

    # ------------------------------------------------------------ the database

    @staticmethod
    def _bump(db) -> int:
        db.execute("UPDATE counter SET version = version + 1 WHERE id = 0")
        return db.execute("SELECT version FROM counter WHERE id = 0").fetchone()[0]

    def _db(self) -> sqlite3.Connection:
        db = self._in_memory or getattr(self._local, "db", None)
        if db is None or self._local.generation != self._generation:
            self._local.generation = self._generation
            db = self._local.db = self._connect()
        return db

    def _connect(self) -> sqlite3.Connection:
        """The catalog's database, made if missing. One that is damaged or of another schema is set aside and
        rebuilt (it only ever summarises the folders); a store we cannot write to gets a catalog in memory,
        one for the whole process."""
        try:
            db = _open(self.path)
            if not self._verified:  # once a process: its pages and tables, which a version number does not vouch for
                _verify(db)
                self._verified = True
            return db
        except sqlite3.OperationalError:  # cannot be opened or written here
            pass
        except sqlite3.DatabaseError:  # not a database, damaged, or another schema
            try:
                self._set_aside()
                return _open(self.path)
            except (OSError, sqlite3.DatabaseError):
                pass
        with self._lock:
            self._in_memory = self._in_memory or _open(":memory:")
        return self._in_memory

    def _set_aside(self) -> None:
        self.path.replace(self.path.with_name(f"{self.path.name}.broken-{int(time.time())}"))
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _rebuilt_if_damaged(self, read):
        """`read()`, and if the database turns out damaged under it (a page that no longer parses, a table of
        another shape under the right version), the same read again on a catalog rebuilt from the folders."""
        try:
            return read()
        except sqlite3.DatabaseError as err:
            if not _damaged(err) or self._in_memory is not None:
                raise
        with self._lock:
            try:
                self._set_aside()
            except OSError:
                pass
            self._generation += 1
            self._mirror.clear()
            self._seen, self.reconciled = -1, False  # the next listing reads every folder into the new catalog
        return read()


def _open(path) -> sqlite3.Connection:
    """A connection, the database set up first if it is not yet. Every thread has its own, and each of Streamlit's
    script runs is a new thread: a catalog already set up costs one read of its version, not the schema script and a
    write (0.3 ms instead of 1 ms, on every rerun of every page)."""
    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
    try:
        if path != ":memory:":
            db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent on a crash; the folders are the truth
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found == SCHEMA_VERSION:  # set up already, by this process or another (never a new database in memory)
            return db
        if found != 0:
            raise sqlite3.DatabaseError(f"catalog schema {found}, expected {SCHEMA_VERSION}")
        if path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return db
    except BaseException:
        db.close()
        raise


def _verify(db: sqlite3.Connection) -> None:
    """Raise DatabaseError unless the database's pages are sound and its tables are the ones this version
    writes."""
    try:
        sound = db.execute("PRAGMA quick_check(1)").fetchone()[0] == "ok"
        columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
        counter = [row[1] for row in db.execute("PRAGMA table_info(counter)")]
    except sqlite3.DatabaseError as err:
        raise sqlite3.DatabaseError(f"catalog unreadable: {err}") from None
    if not sound or columns != [*_COLUMNS.split(", "), "accuracy", "facts"] or counter != ["id", "version", "listed"]:
        raise sqlite3.DatabaseError("catalog damaged or of another shape")


def _damaged(err: sqlite3.DatabaseError) -> bool:
    """A database that cannot be trusted, as against one that is busy (locked) or on a full disk."""
    text = str(err).lower()
    if isinstance(err, sqlite3.OperationalError):
        return "no such table" in text or "no such column" in text
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _dumps(value) -> str | None:
    return None if value is None else json.dumps(value, allow_nan=True)


def _entry(row) -> Entry:
    run_id, _, stamp, problem, info, spec, summary, has_model = row
    loads = lambda text: None if text is None else json.loads(text)  # noqa: E731
    return Entry(run_id, stamp, loads(info), loads(spec), loads(summary), bool(has_model), problem)
