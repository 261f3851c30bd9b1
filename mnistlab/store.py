"""The run store: one folder per run under $MNISTLAB_HOME/runs/<run_id>/.

    run.json      name, status, timestamps, durations, versions, device, owning process
    spec.json     the experiment
    history.json  per-epoch results and per-batch samples
    metrics.json  test-set metrics
    predictions.npy  the predicted digit for each of the 10,000 test images (uint8), to compare runs without models
    model.keras   the trained model
    .lock         held while run.json is read, changed and written (rename vs. the training process)

and $MNISTLAB_HOME/catalog.sqlite, an index of the folders for fast listings (see catalog.py).

Every file is written atomically (files.py), so a crash never leaves a half-written file. A run whose owning
process is gone while it was queued or running reads back as `interrupted` (liveness.py). A folder that cannot be
read is reported and skipped. Beside it: recorder.py writes a training run's files, modelfile.py saves and safely
loads its model, runs_table.py makes the runs one table.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .catalog import Catalog, Entry, folder_stamp
from .files import StoreError, file_stamp, locked, remove_stale_temporaries, write_json
from .home import default_home
from .i18n import _
from .liveness import owner, owner_alive
from .metrics import metrics_problem
from .modelfile import load_model, save_model
from .spec import Experiment, SpecError, check_name, total_params, validate
from .status import RunStatus

PREDICTIONS = "predictions.npy"
PREDICTIONS_BYTES = 100_128  # at most 100,000 labels and the .npy header
MIN_PREFIX = 4  # the shortest id prefix that names a run (ids start with the date: "2026" would name any)




class AmbiguousRun(StoreError):
    """A name or id prefix that fits several runs."""


class RunNotFound(StoreError):
    pass


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Run:
    run_id: str
    runs_dir: Path
    info: Mapping  # run.json, read-only: shared with the catalog's mirror and every other listing of this run
    experiment: Experiment
    metrics: Mapping | None = None  # the test-set metrics without the mistakes list (see `mistakes`); read-only
    has_model: bool = False

    def __post_init__(self):
        self.info = MappingProxyType(self.info)
        if self.metrics is not None:
            self.metrics = MappingProxyType(self.metrics)

    @property
    def path(self) -> Path:
        return self.runs_dir / self.run_id

    @property
    def name(self) -> str:
        return self.info.get("name", self.experiment.name)

    @property
    def status(self) -> RunStatus:
        return RunStatus(self.info["status"])

    def mistakes(self) -> list[dict]:
        """The test images the model got wrong, most confident first (kept out of listings: up to 0.5 MB)."""
        path = self.path / "metrics.json"
        return list(_mistakes(path, file_stamp(path)))

    def predictions(self) -> np.ndarray | None:
        """The digit the model predicted for each test image, in test-set order (uint8, 10,000); None for a run
        without them (unfinished, or trained before they were kept) or when the file is not such an array."""
        path = self.path / PREDICTIONS
        return _predictions(path, file_stamp(path))

    def history(self) -> dict:
        """Per-epoch rows and per-batch samples; empty when history.json is missing or unreadable (the run
        itself stays usable: its metrics and model do not depend on it)."""
        try:
            history = _read_json(self.path / "history.json")
        except StoreError:
            history = None
        rows_of = lambda key: isinstance(history, dict) and isinstance(history.get(key), list) and all(  # noqa: E731
            isinstance(row, dict) for row in history[key])
        if not (rows_of("epochs") and rows_of("batches")):
            return {"epochs": [], "batches": []}
        return history


@dataclass
class Listing:
    runs: list[Run]
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # run folders skipped (ids), to be deleted by id


class RunStore:
    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home).expanduser() if home else default_home()
        self.runs_dir = self.home / "runs"
        self.catalog = Catalog.for_home(self.home)  # opened on first use, once runs_dir exists

    # ---------------------------------------------------------------- writing

    def create_run(self, experiment: Experiment, status: str = RunStatus.QUEUED, origin: str | None = None,
                   queued_by: dict | None = None) -> str:
        """Make the run's folder with its spec and a run.json owned by this process (`origin`: what queued it, such
        as the dashboard; `queued_by`: who, in a class — see roles.Person.as_record)."""
        params = total_params(experiment)  # a spec that is not valid is refused before any folder is made
        written = experiment.to_dict()
        run_id = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{_slug(experiment.name)}-{secrets.token_hex(2)}"
        path = self.runs_dir / run_id
        try:
            path.mkdir(parents=True, exist_ok=False)
        except OSError as err:
            raise StoreError(f"Cannot create the run folder {path}: {err.strerror or err}.") from None
        try:
            write_json(path / "spec.json", written)
            _remember_spec(path / "spec.json", file_stamp(path / "spec.json"), Experiment.from_dict(written))
            with self._writing(f"The run {experiment.name!r} was not created"):
                write_json(path / "run.json", {
                    "run_id": run_id, "name": experiment.name, "status": status, "created": now_iso(),
                    "created_ns": time.time_ns(),  # orders runs made within one second (ids do not)
                    "params": params, **owner(), **({"origin": origin} if origin else {}),
                    **({"queued_by": queued_by} if queued_by else {}),
                })
                self.catalog.put(_read_entry(path))
        except StoreError:
            shutil.rmtree(path, ignore_errors=True)  # a folder with only spec.json would be warned about forever
            raise
        return run_id

    def update(self, run_id: str, **fields) -> dict:
        """Change some of run.json's fields. Every such change holds the run's lock, so a rename from the
        dashboard and the training process recording an epoch never undo each other's writes; the catalog's
        row changes in the same transaction."""
        folder = self._folder(run_id)
        with locked(folder):
            before = _read_json(folder / "run.json")
            info = {**before, **fields}
            try:
                with self._writing(f"Run {run_id} was not changed"):
                    write_json(folder / "run.json", info)
                    self.catalog.put(_read_entry(folder))
            except StoreError:
                write_json(folder / "run.json", before)  # the file and its row stay together, as they were
                raise
        return info

    def claim(self, run_id: str) -> None:
        """Make this process the run's owner (a queued run picked up by a worker)."""
        self.update(run_id, **owner())

    def rename(self, run_id: str, new_name: str) -> None:
        try:
            new_name = check_name(new_name)
        except SpecError as err:
            raise StoreError(_("Run {run_id} keeps its name: {problem}").format(run_id=run_id, problem=err)) from None
        self.update(run_id, name=new_name)

    def delete(self, run_id: str) -> None:
        folder = self._folder(run_id)
        try:
            with self._writing(f"Run {run_id} was not deleted"):
                self.catalog.remove(run_id)  # first: if the catalog cannot be written, nothing is deleted
                shutil.rmtree(folder)
        except OSError as err:
            raise StoreError(f"Cannot delete {folder}: {err.strerror or err}.") from None

    def save_model(self, run_id: str, model) -> None:
        save_model(self._folder(run_id), model)

    @contextmanager
    def _writing(self, what: str):
        """A change to a run's files and its catalog row, together; a catalog that another program holds past
        BUSY_SECONDS, or a disk too full to write it, is a sentence that starts with `what`."""
        try:
            with self.catalog.writing():
                yield
        except sqlite3.OperationalError as err:
            raise StoreError(f"{what}: {_catalog_problem(err)}") from None

    def _index(self, change, *args) -> None:
        """Bring the catalog up to date while reading (`change` is its put or remove). A catalog that is busy or
        cannot be written is left as it is: it is only an index, and the listing at hand is right without it."""
        try:
            change(*args)
        except sqlite3.OperationalError:
            pass

    # ---------------------------------------------------------------- reading

    def list_runs(self) -> Listing:
        """Every readable run, newest first; unreadable folders become warnings.

        Rows come from the catalog; a folder whose stamp differs from its row's (or that has no row) is read
        again, and rows of folders that are gone are dropped, so the listing follows the folders."""
        listing = Listing([])
        for place in (self.home, self.runs_dir):
            if place.exists() and not place.is_dir():
                listing.warnings.append(f"{place} is a file, not a folder, so it holds no runs; point "
                                        f"MNISTLAB_HOME at a folder (it is made if missing).")
                return listing
        if not self.runs_dir.is_dir():
            return listing
        names = self._folder_names()
        if not self.catalog.reconciled:  # once a process: what writers killed mid-write (SIGKILL) left behind
            for name in names:
                remove_stale_temporaries(self.runs_dir / name)
        entries = self._current(names, self.catalog.entries())
        self._index(self.catalog.remove, *(run_id for run_id in set(entries) - set(names)))
        self.catalog.reconciled = True
        for name in names:
            try:
                listing.runs.append(self._run(entries[name]))
            except StoreError as err:
                listing.warnings.append(str(err))
                listing.unreadable.append(name)
        return listing

    def listed_version(self) -> int:
        """Changes whenever a run is created, deleted, renamed, started or finished, by any process (see
        catalog.Entry.facts): pages that show runs poll it to know when to redraw."""
        return self.catalog.listed_version() if self.runs_dir.is_dir() else 0

    def model_runs(self, best: int, newest: int) -> list[Run]:
        """The `newest` runs with a model, and the most accurate ones up to `best + newest` in all (every one, in a
        store with no more), most accurate first: what the Draw and Class test pages offer. Its cost does not grow
        with the store (index queries, then only these folders are checked)."""
        if not self.runs_dir.is_dir():
            return []
        if not self.catalog.reconciled:
            self.list_runs()  # once per process: folders copied in by hand join the catalog
        ids = list(dict.fromkeys(self.catalog.newest(newest) + self.catalog.best(best + newest)))[:best + newest]
        present = [run_id for run_id in ids if os.path.isdir(f"{self.runs_dir}{os.sep}{run_id}")]
        entries = self._current(present, self.catalog.entries(present))
        self._index(self.catalog.remove, *(set(ids) - set(present)))
        runs = []
        for run_id in present:
            try:
                runs.append(self._run(entries[run_id]))
            except StoreError:
                continue
        return sorted((run for run in runs if run.metrics and run.has_model), key=lambda run: -run.metrics["accuracy"])

    def load(self, run_id: str) -> Run:
        """One run, read from its files now (and its catalog row corrected if it had gone stale)."""
        folder = self._folder(run_id)
        entry = _read_entry(folder)
        if self.catalog.entries([run_id]).get(run_id) != entry:
            self._index(self.catalog.put, entry)
        return self._run(entry)

    def load_model(self, run_id: str):
        """The run's Keras model, loaded with Keras's safe mode (no arbitrary code; see modelfile.py)."""
        path = self._folder(run_id) / "model.keras"
        if not path.is_file():
            raise StoreError(f"Run {run_id} has no saved model ({path} is missing).")
        return load_model(path)

    def resolve(self, query: str) -> str:
        """The id of the run a user names: an exact id, else an exact name (of one run only), else a
        unique id prefix of at least MIN_PREFIX characters. Anything empty, ambiguous or unknown is a
        StoreError listing the candidates, so no command acts on a run nobody meant.

        Ids are matched against every run folder, readable or not, so a broken run can still be named
        (and deleted) by its id.
        """
        query = query if isinstance(query, str) else ""
        if not query.strip():
            raise RunNotFound("Name a run: its id, its exact name, or at least 4 characters of its id "
                              "(`python -m mnistlab runs` lists them).")
        folders = self._folder_names()
        if query in set(folders):
            return query
        named = [run.run_id for run in self.list_runs().runs if run.name == query]
        if len(named) == 1:
            return named[0]
        if named:
            raise AmbiguousRun(f"{len(named)} runs are named {query!r} ({_listed(named)}); name one by its id.")
        prefixed = [name for name in folders if name.startswith(query)] if len(query) >= MIN_PREFIX else []
        if len(prefixed) == 1:
            return prefixed[0]
        if prefixed:
            raise AmbiguousRun(f"{query!r} begins {len(prefixed)} run ids ({_listed(prefixed)}); give more of it.")
        short = f"; an id prefix needs at least {MIN_PREFIX} characters" if len(query) < MIN_PREFIX else ""
        raise RunNotFound(f"No run has the id or name {query!r}{short} (`python -m mnistlab runs` lists them).")

    def find_run(self, query: str) -> Run:
        """The run a user names (see `resolve`)."""
        return self.load(self.resolve(query))

    def _folder_names(self) -> list[str]:
        """Every run folder's name (its run id), newest first."""
        try:
            with os.scandir(self.runs_dir) as found:
                return sorted((f.name for f in found if f.is_dir() and not f.name.startswith(".")), reverse=True)
        except OSError:
            return []

    def _current(self, run_ids: list[str], entries: dict[str, Entry]) -> dict[str, Entry]:
        """`entries`, with the rows of these runs whose folders changed since they were written read again."""
        base = f"{self.runs_dir}{os.sep}"
        stale = [run_id for run_id in run_ids if (entry := entries.get(run_id)) is None
                 or entry.stamp is None or entry.stamp != folder_stamp(base + run_id)]
        fresh = [_read_entry(self.runs_dir / run_id) for run_id in stale]
        if fresh:
            self._index(self.catalog.put, *fresh)
        return {**entries, **{entry.run_id: entry for entry in fresh}}

    def _folder(self, run_id: str) -> Path:
        if not re.fullmatch(r"[\w.-]+", run_id or "") or run_id.startswith("."):
            raise RunNotFound(f"{run_id!r} is not a run id.")
        folder = self.runs_dir / run_id
        if not folder.is_dir():
            raise RunNotFound(f"Run {run_id} does not exist (it may have been deleted).")
        return folder

    def _run(self, entry: Entry) -> Run:
        """The Run a catalog row describes, with a queued or running run whose owner is gone as interrupted."""
        if entry.problem:
            raise StoreError(entry.problem)
        info = entry.info
        if _status(info, entry.run_id).in_progress and not owner_alive(info):
            info = dict(info, status=RunStatus.INTERRUPTED)
        return Run(entry.run_id, self.runs_dir, info, entry.experiment, entry.summary, entry.has_model)


def _read_entry(folder: Path) -> Entry:
    """A catalog row read from the folder's files: their contents, or the sentence saying why they cannot be used."""
    stamp = folder_stamp(folder)  # before reading: a change made while we read then shows as a new stamp
    has_model = (folder / "model.keras").is_file()
    try:
        info, experiment, metrics = _parse_run(folder)
        if RunStatus(info["status"]).has_model and not has_model:
            raise StoreError(f"Run folder {folder.name} skipped: its model file model.keras is missing.")
    except StoreError as err:
        return Entry(folder.name, stamp, problem=str(err))
    summary = None if metrics is None else {key: value for key, value in metrics.items() if key != "mistakes"}
    entry = Entry(folder.name, stamp, info, experiment.to_dict(), summary, has_model)
    entry.remember(experiment)
    return entry


@lru_cache(maxsize=4)
def _mistakes(path: Path, stamp) -> tuple:
    try:
        metrics = _read_json(path)
    except StoreError:
        return ()
    mistakes = metrics.get("mistakes") if isinstance(metrics, dict) and not metrics_problem(metrics) else None
    return tuple(mistakes or ())


@lru_cache(maxsize=64)
def _predictions(path: Path, stamp) -> np.ndarray | None:
    if stamp is None or stamp[1] > PREDICTIONS_BYTES:  # the size, checked before reading anything
        return None
    try:
        predictions = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if predictions.dtype != np.uint8 or predictions.ndim != 1 or predictions.size > PREDICTIONS_BYTES - 128 or predictions.max(
            initial=0) > 9:
        return None
    predictions.setflags(write=False)  # shared by every caller through the cache
    return predictions




def _parse_run(folder: Path) -> tuple[dict, Experiment, dict | None]:
    """A run folder's files, each checked for the shape every reader relies on."""
    skipped = f"Run folder {folder.name} skipped:"
    info = _valid_text(_read_json(folder / "run.json"))
    if not isinstance(info, dict):
        raise StoreError(f"{skipped} run.json is a JSON {type(info).__name__}, not an object.")
    if not isinstance(info.get("status"), str):
        raise StoreError(f"{skipped} run.json has no status.")
    _status(info, folder.name)
    if not isinstance(info.get("name", ""), str):
        raise StoreError(f"{skipped} run.json's name is not text.")
    try:
        experiment = _read_spec(folder / "spec.json")
    except (SpecError, TypeError, ValueError, AttributeError, KeyError) as err:
        raise StoreError(f"{skipped} spec.json is invalid ({err}).") from None
    metrics = _read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else None
    if metrics is not None and (problem := metrics_problem(metrics)):
        raise StoreError(f"{skipped} metrics.json {problem}.")
    return info, experiment, metrics


def _read_spec(path: Path) -> Experiment:
    """spec.json as a valid Experiment. A run's spec is written once, but run.json changes every epoch and each change
    reads the folder again: the spec parsed last is reused while the file's stamp is the same."""
    stamp = file_stamp(path)  # before reading: a change made while we read then shows as a new stamp
    known = _SPECS.get(path)
    if known is not None and stamp is not None and known[0] == stamp:
        return known[1]
    experiment = Experiment.from_dict(_valid_text(_read_json(path)))
    validate(experiment)
    _remember_spec(path, stamp, experiment)
    return experiment


def _remember_spec(path: Path, stamp: tuple | None, experiment: Experiment) -> None:
    if stamp is None:
        return
    _SPECS[path] = (stamp, experiment)
    if len(_SPECS) > SPECS_KEPT:
        del _SPECS[next(iter(_SPECS))]  # the one kept longest


SPECS_KEPT = 4096  # specs are a few hundred bytes: a store of thousands of runs keeps each parsed once
_SPECS: dict[Path, tuple[tuple, Experiment]] = {}


def _status(info: dict, run_id: str) -> RunStatus:
    """run.json's status, or a StoreError naming the folder when it is none of ours (a hand edit, or a row a
    catalog kept from before statuses were checked)."""
    status = _STATUSES.get(info["status"])  # a dict lookup, not an Enum call: every listing asks it of every run
    if status is None:
        raise StoreError(f"Run folder {run_id} skipped: run.json's status {info['status']!r} is none of "
                         f"{', '.join(RunStatus)}.")
    return status


_STATUSES = {status.value: status for status in RunStatus}


def _catalog_problem(err: sqlite3.OperationalError) -> str:
    text = str(err).lower()
    if "locked" in text or "busy" in text:
        return ("the run catalog is busy: another program has held it for too long. Try again; if it stays busy, "
                "close the other program that has the store open.")
    if "full" in text:
        return "the disk is full. Free some space and try again."
    return f"the run catalog could not be written ({err})."


def _valid_text(value):
    """`value` with every lone surrogate in its strings shown as U+FFFD: a name written before names were checked
    for them (JSON's "\\udcff") would otherwise break every listing that prints or sends it as UTF-8."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_valid_text(item) for item in value]
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")






# -------------------------------------------------------------------- files















def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"Run folder {path.parent.name} skipped: {path.name} is missing.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise StoreError(f"Run folder {path.parent.name} skipped: {path.name} is truncated or not JSON.") from None
    except OSError as err:
        raise StoreError(f"Run folder {path.parent.name} skipped: {path.name} cannot be read "
                         f"({err.strerror or err}).") from None








def _listed(run_ids: list[str], most: int = 5) -> str:
    more = f" and {len(run_ids) - most} more" if len(run_ids) > most else ""
    return ", ".join(run_ids[:most]) + more


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"




