"""The runs in the store: presets, runs, show, compare, rename, delete."""

from __future__ import annotations

import json
import sys

from ..spec import summarize_layers, validate
from ..store import RunStore, StoreError
from ..i18n import _
from .common import EXIT_ERROR, EXIT_OK, CliError, command, print_table, to_json, warn


def add_commands(sub) -> None:
    p = command(sub, "presets", _("the report's 15 experiments"), "mnistlab presets --json", cmd_presets)
    p.add_argument("--json", action="store_true", help=_("machine-readable output"))

    p = command(sub, "runs", _("the comparison table of every stored run"), "mnistlab runs", cmd_runs)
    p.add_argument("--json", action="store_true")

    p = command(sub, "show", _("one run: spec, status, metrics"), 'mnistlab show "CNN 5"', cmd_show)
    p.add_argument("run", help=_("run id, id prefix or name"))
    p.add_argument("--json", action="store_true")

    p = command(sub, "compare", _("is one run (or group of seeds) really better than another?"),
                'mnistlab compare "CNN 5" "CNN 4"', cmd_compare)
    p.add_argument("a", help=_("a run id (or ≥ 4 characters of one), or a name: every seed of that setup"))
    p.add_argument("b", help=_("the other run or group"))
    p.add_argument("--json", action="store_true")

    p = command(sub, "rename", _("rename a run"), 'mnistlab rename 20261206-0931 "My best CNN"', cmd_rename)
    p.add_argument("run")
    p.add_argument("name")

    p = command(sub, "delete", _("delete a run and its files"), "mnistlab delete 20261206-0931 --yes", cmd_delete)
    p.add_argument("run")
    p.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))


def cmd_presets(args) -> int:
    from ..presets import PRESETS

    rows = [{"name": p.name, "layers": summarize_layers(p.experiment), "params": p.params,
             "optimizer": p.experiment.config.optimizer,
             "learning_rate": p.experiment.config.effective_learning_rate,
             "epochs": p.experiment.config.epochs, "report_accuracy": p.report.accuracy,
             "finding": p.report.finding} for p in PRESETS]
    if args.json:
        print(to_json(rows, indent=2))
        return EXIT_OK
    print_table(rows, ["name", "params", "optimizer", "learning_rate", "epochs", "report_accuracy", "layers"])
    return EXIT_OK


def cmd_runs(args) -> int:
    from ..runs_table import runs_table

    listing = RunStore().list_runs()
    warn(listing.warnings)
    table = runs_table(listing)
    if args.json:
        print(to_json(json.loads(table.to_json(orient="records")), indent=2))
        return EXIT_OK
    if table.empty and listing.warnings:
        return EXIT_ERROR
    if table.empty:
        print(_("No runs yet: `mnistlab train --preset \"CNN 1\" --limit 5000 --epochs 1` makes one."))
        return EXIT_OK
    shown = table[["run_id", "name", "params", "optimizer", "learning_rate", "epochs", "accuracy",
                   "keras_precision", "keras_recall", "macro_f1", "train_seconds", "status"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="—"))
    return EXIT_OK


def cmd_show(args) -> int:
    run = RunStore().find_run(args.run)
    if args.json:
        metrics = None if run.metrics is None else {**run.metrics, "mistakes": run.mistakes()}
        print(to_json({"run": run.info, "spec": run.experiment.to_dict(), "metrics": metrics,
                       "history": run.history()}, indent=2))
        return EXIT_OK
    info = run.info
    print(f"{run.name}  ({run.run_id})")
    print(f"status {run.status}" + (f" — {info['message']}" if info.get("message") else ""))
    print(f"created {info.get('created')} · epochs {info.get('epochs_run', 0)} · "
          f"train {info.get('train_seconds', '—')} s · {info.get('device', '?')} · "
          f"TensorFlow {info.get('tensorflow_version', '?')} · mnistlab {info.get('mnistlab_version', '?')}")
    print()
    print_table([{"#": r.number, "layer": r.description, "output shape": str(r.output_shape),
                  "params": f"{r.params:,}"} for r in validate(run.experiment)],
                ["#", "layer", "output shape", "params"])
    cfg = run.experiment.config
    print(f"\n{cfg.optimizer} lr {cfg.effective_learning_rate:g} · batch {cfg.batch_size} · "
          f"validation {cfg.validation_split:g} · seed {cfg.seed} · train images {cfg.train_limit or 60000}")
    if run.metrics:
        m = run.metrics
        print(f"\ntest accuracy {m['accuracy']:.4f} · Keras precision {m['keras_precision']:.4f} · "
              f"Keras recall {m['keras_recall']:.4f} · macro F1 {m['macro_f1']:.4f}")
        print("accuracy per class: " + "  ".join(f"{d}: {a:.3f}" for d, a in enumerate(m["per_class_accuracy"])))
    return EXIT_OK


def cmd_compare(args) -> int:
    from ..data import load_mnist
    from ..verdict import compare, side

    store = RunStore()
    runs = store.list_runs().runs
    a, b = side(store, args.a, runs), side(store, args.b, runs)
    _train, (_images, labels) = load_mnist()
    result = compare(a, b, labels)
    print(to_json(result, indent=2) if args.json else result["sentence"])
    return EXIT_OK


def cmd_rename(args) -> int:
    store = RunStore()
    run = store.find_run(args.run)
    store.rename(run.run_id, args.name)
    print(_("run {run_id} renamed to {name}").format(run_id=run.run_id, name=repr(args.name.strip())))
    return EXIT_OK


def cmd_delete(args) -> int:
    store = RunStore()
    run_id = store.resolve(args.run)  # an unreadable run can be deleted by its id too
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(_("Deleting needs confirmation; pass --yes when not at a terminal."))
        answer = input(_("Delete run {run_id} ({name})? [y/N] ").format(run_id=run_id,
                                                                       name=_name_or_unreadable(store, run_id)))
        if answer.strip().lower() not in {"y", _("y")}:  # "y", or the language's own letter for yes ("s")
            print(_("kept."))
            return EXIT_OK
    store.delete(run_id)
    print(_("run {run_id} deleted").format(run_id=run_id))
    return EXIT_OK


def _name_or_unreadable(store: RunStore, run_id: str) -> str:
    try:
        return store.load(run_id).name
    except StoreError:
        return "unreadable"
