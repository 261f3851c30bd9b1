"""`python -m mnistlab`: presets, train, runs, show, predict, inspect, reproduce, compare, export, drawings, rename,
delete.

Progress goes to stderr, results to stdout (`--json` for machines). Errors are one sentence
and a non-zero exit code. TensorFlow is imported only by commands that need it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path

from .data import DataError
from .spec import Experiment, SpecError, summarize_layers, validate
from .store import RunStore, StoreError, atomic_write_bytes
from .train import TrainingObserver, clock, eta_seconds

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


class CliError(Exception):
    """A user-facing failure: printed as one sentence."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.handler(args) or EXIT_OK
    except (CliError, SpecError, DataError, StoreError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\ninterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `show RUN | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush has somewhere to go
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnistlab",
        description="Train, compare and probe the course report's MLPs and CNNs on real MNIST. "
                    "Runs are stored under $MNISTLAB_HOME (default ~/.mnistlab); "
                    "MNISTLAB_DATA points at a local mnist.npz.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("presets", help="the report's 15 experiments")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_presets)

    p = sub.add_parser("train", help="train a preset or a spec file and store the run")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help='a preset name, e.g. "CNN 5"')
    source.add_argument("--spec", type=Path, help="a JSON spec file")
    _add_training_overrides(p)
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, help="random seed (repeatable runs)")
    seeds.add_argument("--seeds", help="train once per seed, e.g. 1,2,3: one run each, compared as a group")
    seeds.add_argument("--repeats", type=int, help="train N times, with seeds 1 to N")
    p.add_argument("--name", help="name for the run")
    p.add_argument("--json", action="store_true", help="print the run id, folder and metrics as JSON")
    _add_executor_options(p)
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("runs", help="the comparison table of every stored run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_runs)

    p = sub.add_parser("show", help="one run: spec, status, metrics")
    p.add_argument("run", help="run id, id prefix or name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("predict", help="classify an image file with a stored run's model")
    p.add_argument("image", type=Path)
    p.add_argument("--run", required=True, help="run id, id prefix or name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_predict)

    p = sub.add_parser("inspect", help="inside a stored run's model for an image: each layer, saliency, pictures")
    p.add_argument("--run", required=True, help="run id, exact name, or ≥ 4 characters of the id")
    p.add_argument("image", help="a PNG or JPEG of one digit (any size; preprocessed as on the Draw page)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--output", type=Path, help="a folder for PNGs of the feature maps, weights and saliency")
    p.set_defaults(handler=cmd_inspect)

    p = sub.add_parser("reproduce", help="train the report's experiments and compare with its numbers")
    p.add_argument("--only", help='comma-separated preset names, e.g. "MLP 1,CNN 5"')
    _add_training_overrides(p)
    p.add_argument("--seeds", type=int, default=1,
                   help="runs per experiment: the report's seed (42) and the next ones (--seeds 3: 42, 43, 44)")
    p.add_argument("--redo", action="store_true", help="train again even where a matching run exists")
    p.add_argument("--output", type=Path, help="write the comparison as Markdown to this file")
    _add_executor_options(p)
    p.set_defaults(handler=cmd_reproduce)

    p = sub.add_parser("compare", help="is one run (or group of seeds) really better than another?")
    p.add_argument("a", help="a run id (or ≥ 4 characters of one), or a name: every seed of that setup")
    p.add_argument("b", help="the other run or group")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("export", help="a run as a standalone Keras script (and its model file), to take home")
    p.add_argument("run", help="run id, exact name, or ≥ 4 characters of the id")
    p.add_argument("--script", type=Path, help="write the script here (e.g. run.py)")
    p.add_argument("--model", type=Path, help="copy the trained model here (e.g. model.keras)")
    p.set_defaults(handler=cmd_export)

    from .cli_drawings import add_drawings_commands

    add_drawings_commands(sub)

    p = sub.add_parser("rename", help="rename a run")
    p.add_argument("run")
    p.add_argument("name")
    p.set_defaults(handler=cmd_rename)

    p = sub.add_parser("delete", help="delete a run and its files")
    p.add_argument("run")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_delete)
    return parser


def _add_training_overrides(p):
    p.add_argument("--epochs", type=int, help="override the number of epochs")
    p.add_argument("--limit", type=int, help="train on the first N training images only")


# ------------------------------------------------------------------ commands

def cmd_presets(args) -> int:
    from .presets import PRESETS

    rows = [{"name": p.name, "layers": summarize_layers(p.experiment), "params": p.params,
             "optimizer": p.experiment.config.optimizer,
             "learning_rate": p.experiment.config.effective_learning_rate,
             "epochs": p.experiment.config.epochs, "report_accuracy": p.report.accuracy,
             "finding": p.report.finding} for p in PRESETS]
    if args.json:
        print(_json(rows, indent=2))
        return EXIT_OK
    _print_table(rows, ["name", "params", "optimizer", "learning_rate", "epochs", "report_accuracy", "layers"])
    return EXIT_OK


def cmd_train(args) -> int:
    from .groups import parse_seeds, repeat_seeds

    experiment = _experiment_from_args(args)
    validate(experiment)
    try:
        seeds = (parse_seeds(args.seeds) if args.seeds is not None
                 else repeat_seeds(args.repeats) if args.repeats is not None else None)
    except ValueError as err:
        raise CliError(str(err)) from None
    experiments = [experiment.with_config(seed=seed) for seed in seeds] if seeds else [experiment]
    store = RunStore()
    payloads = []
    for one, (run_id, result) in zip(experiments, _trained(store, experiments, args)):
        payload = {"run_id": run_id, "folder": str(store.runs_dir / run_id), "seed": one.config.seed,
                   "status": result.status, "message": result.message, "metrics": _headline(result.metrics)}
        payloads.append(payload)
        if not args.json:
            _print_trained(payload, result.metrics)
    if args.json:
        print(_json(payloads if seeds else payloads[0], indent=2))
    return EXIT_OK if all(payload["status"] not in ("failed", "interrupted") for payload in payloads) else EXIT_ERROR


def _print_trained(payload: dict, metrics: dict | None) -> None:
    print(f"run {payload['run_id']}: {payload['status']}" + (f" — {payload['message']}" if payload["message"] else ""))
    if metrics:
        print(f"test accuracy {metrics['accuracy']:.4f} · Keras precision {metrics['keras_precision']:.4f} · "
              f"Keras recall {metrics['keras_recall']:.4f} · macro F1 {metrics['macro_f1']:.4f}")
    print(f"stored in {payload['folder']}")


def cmd_runs(args) -> int:
    from .store import runs_table

    listing = RunStore().list_runs()
    _warn(listing.warnings)
    table = runs_table(listing)
    if args.json:
        print(_json(json.loads(table.to_json(orient="records")), indent=2))
        return EXIT_OK
    if table.empty and listing.warnings:
        return EXIT_ERROR
    if table.empty:
        print("No runs yet: `python -m mnistlab train --preset \"CNN 1\" --limit 5000 --epochs 1` makes one.")
        return EXIT_OK
    shown = table[["run_id", "name", "params", "optimizer", "learning_rate", "epochs", "accuracy",
                   "keras_precision", "keras_recall", "macro_f1", "train_seconds", "status"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="—"))
    return EXIT_OK


def cmd_show(args) -> int:
    run = RunStore().find_run(args.run)
    if args.json:
        metrics = None if run.metrics is None else {**run.metrics, "mistakes": run.mistakes()}
        print(_json({"run": run.info, "spec": run.experiment.to_dict(), "metrics": metrics,
                          "history": run.history()}, indent=2))
        return EXIT_OK
    info = run.info
    print(f"{run.name}  ({run.run_id})")
    print(f"status {run.status}" + (f" — {info['message']}" if info.get("message") else ""))
    print(f"created {info.get('created')} · epochs {info.get('epochs_run', 0)} · "
          f"train {info.get('train_seconds', '—')} s · {info.get('device', '?')} · "
          f"TensorFlow {info.get('tensorflow_version', '?')}")
    print()
    _print_table([{"#": r.number, "layer": r.description, "output shape": str(r.output_shape),
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


def cmd_predict(args) -> int:
    from .predict import load_image_file, predict_drawing

    image = load_image_file(args.image)
    store = RunStore()
    run = store.find_run(args.run)
    prediction = predict_drawing(store.load_model(run.run_id), image)
    if prediction is None:
        raise CliError(f"{args.image} looks blank (no digit found), so there is nothing to predict.")
    if args.json:
        print(_json({"run_id": run.run_id, "digit": prediction.digit, "confidence": prediction.confidence,
                          "probabilities": [float(p) for p in prediction.probabilities]}, indent=2))
    else:
        print(f"{prediction.digit}  (confidence {prediction.confidence:.1%}, model {run.name} {run.run_id})")
    return EXIT_OK


def cmd_inspect(args) -> int:
    from .inspect import summary, write_pictures
    from .predict import load_image_file
    from .preprocess import canvas_to_mnist

    image = canvas_to_mnist(load_image_file(args.image))
    if image is None:
        raise CliError(f"{args.image} looks blank (no digit found), so there is nothing to inspect.")
    store = RunStore()
    run = store.find_run(args.run)
    model = store.load_model(run.run_id)
    report = summary(model, image)
    if args.output:
        try:
            report["pictures"] = [str(path) for path in write_pictures(model, image, args.output)]
        except OSError as err:
            raise CliError(f"Cannot write pictures to {args.output}: {err.strerror or err}.") from None
    if args.json:
        print(_json({"run_id": run.run_id, **report}, indent=2))
        return EXIT_OK
    print(f"{report['digit']}  (confidence {report['confidence']:.1%}, model {run.name} {run.run_id})")
    _print_table([{"layer": layer["name"], "output shape": "×".join(map(str, layer["shape"])),
                   "min": f"{layer['min']:.3g}", "mean": f"{layer['mean']:.3g}", "max": f"{layer['max']:.3g}",
                   "> 0": f"{layer['active']:.0%}"} for layer in report["layers"]],
                 ["layer", "output shape", "min", "mean", "max", "> 0"])
    if report["linear"]:
        print("\nEvery hidden layer is linear: the whole network is one template per digit (see linear-templates.png).")
    for path in report.get("pictures", []):
        print(f"written {path}", file=sys.stderr)
    return EXIT_OK


def cmd_reproduce(args) -> int:
    from .data import load_mnist
    from .reproduce import (compare, finding_verdicts, findings_markdown, markdown_report, reproduction_experiment,
                            reproduction_group, select_presets, spread_markdown, spread_row)

    from .groups import MAX_REPEATS

    presets = select_presets(args.only)
    if not 1 <= args.seeds <= MAX_REPEATS:
        raise CliError(f"--seeds {args.seeds}: give 1 to {MAX_REPEATS} runs per experiment.")
    store = RunStore()
    missing = []
    for preset in presets:
        for seed in range(preset.experiment.config.seed, preset.experiment.config.seed + args.seeds):
            experiment = reproduction_experiment(preset, args.epochs, args.limit, seed)
            done = None if args.redo else store.find_completed(experiment)
            if done:
                print(f"{preset.name}, seed {seed}: already reproduced by run {done.run_id}, skipped "
                      f"(--redo trains again).", file=sys.stderr)
            else:
                missing.append(experiment)
    for _ in _trained(store, missing, args, announce=True):  # each run is stored as it ends: a stop resumes
        pass
    table = markdown_report(compare(store, presets, args.epochs, args.limit))
    if args.seeds > 1:
        runs = store.list_runs().runs
        table += "\n" + spread_markdown([(preset, spread_row(preset, reproduction_group(preset, runs, args.epochs,
                                                                                          args.limit)))
                                         for preset in presets])
        (_, _), (_, labels) = load_mnist()
        table += "\n" + findings_markdown(finding_verdicts(presets, runs, labels, args.epochs, args.limit))
    print(table)
    if args.output:
        try:
            args.output.write_text(table, encoding="utf-8")
        except OSError as err:
            raise CliError(f"Cannot write {args.output}: {err.strerror or err}.") from None
        print(f"written to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_compare(args) -> int:
    from .data import load_mnist
    from .verdict import compare, side

    store = RunStore()
    runs = store.list_runs().runs
    a, b = side(store, args.a, runs), side(store, args.b, runs)
    (_, _), (_, labels) = load_mnist()
    result = compare(a, b, labels)
    print(_json(result, indent=2) if args.json else result["sentence"])
    return EXIT_OK


def cmd_export(args) -> int:
    from .export import script_for

    store = RunStore()
    run = store.find_run(args.run)
    if not args.script and not args.model:
        raise CliError("Say what to export: --script run.py, --model model.keras, or both.")
    if args.model and not run.has_model:
        raise CliError(f"Run {run.run_id} ({run.name}) has no trained model to export ({run.status}).")
    written = []
    if args.script:
        _write_whole(args.script, script_for(run.experiment, run.run_id, args.script.name).encode("utf-8"))
        written.append(args.script)
    if args.model:
        try:
            model = (run.path / "model.keras").read_bytes()
        except OSError as err:
            raise CliError(f"Cannot read run {run.run_id}'s model file: {err.strerror or err}.") from None
        _write_whole(args.model, model)
        written.append(args.model)
    for path in written:
        print(f"written {path}")
    return EXIT_OK


def _write_whole(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a file through a temporary one renamed into place (a full disk leaves
    nothing behind), a device or pipe the user named (/dev/stdout) directly."""
    if not (path.exists() and not path.is_file()):
        atomic_write_bytes(path, data)  # its failure is a StoreError: one sentence
        return
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as err:
        raise CliError(f"Cannot write {path}: {err.strerror or err}.") from None


def cmd_rename(args) -> int:
    store = RunStore()
    run = store.find_run(args.run)
    store.rename(run.run_id, args.name)
    print(f"run {run.run_id} renamed to {args.name.strip()!r}")
    return EXIT_OK


def cmd_delete(args) -> int:
    store = RunStore()
    run_id = store.resolve(args.run)  # an unreadable run can be deleted by its id too
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("Deleting needs confirmation; pass --yes when not at a terminal.")
        if input(f"Delete run {run_id} ({_name_or_unreadable(store, run_id)})? [y/N] ").strip().lower() != "y":
            print("kept.")
            return EXIT_OK
    store.delete(run_id)
    print(f"run {run_id} deleted")
    return EXIT_OK


def _name_or_unreadable(store: RunStore, run_id: str) -> str:
    try:
        return store.load(run_id).name
    except StoreError:
        return "unreadable"


# ------------------------------------------------------------------ helpers

def _experiment_from_args(args) -> Experiment:
    if args.preset:
        from .presets import get_preset

        experiment = get_preset(args.preset).experiment
    else:
        try:
            text = args.spec.read_text(encoding="utf-8")
        except OSError as err:
            raise CliError(f"Cannot read the spec file {args.spec}: {err.strerror or err}.") from None
        except UnicodeDecodeError:
            raise CliError(f"The spec file {args.spec} is not UTF-8 text.") from None
        experiment = Experiment.from_json(text)
    changes = {key: value for key, value in
               {"epochs": args.epochs, "train_limit": args.limit, "seed": args.seed}.items() if value is not None}
    if changes:
        experiment = experiment.with_config(**changes)
    if args.name:
        experiment = Experiment(args.name, experiment.layers, experiment.config)
    return experiment


def _trained(store: RunStore, experiments: list[Experiment], args, announce: bool = False):
    """(run_id, result) for each experiment: here, one after the other, or all at once on the Dask cluster that
    --workers, --scheduler or $MNISTLAB_SCHEDULER names (connected before any run is stored)."""
    from .executor import ClusterError, cluster_from, train_stored

    try:
        cluster = cluster_from(args.scheduler, args.workers)
    except ClusterError as err:
        raise CliError(str(err)) from None
    if cluster is None:
        for number, experiment in enumerate(experiments, start=1):
            if len(experiments) > 1 or announce:
                print(f"{experiment.name}, seed {experiment.config.seed}: training {summarize_layers(experiment)}"
                      f" ({number} of {len(experiments)})", file=sys.stderr)
            yield _train_and_store(store, experiment)
        return
    with cluster:
        print(f"training {len(experiments)} run(s) on the Dask cluster at {cluster.address} "
              f"({cluster.workers} worker(s))", file=sys.stderr)
        yield from train_stored(cluster, store, experiments,
                                lambda run_id, experiment: [RemoteProgressPrinter(experiment)])


def _add_executor_options(p) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="train on N worker processes of this machine at once (Dask)")
    where.add_argument("--scheduler", help="train on the Dask cluster at this address, e.g. tcp://lab-server:8786 "
                                           "(default: $MNISTLAB_SCHEDULER; neither: train here)")


def _train_and_store(store: RunStore, experiment: Experiment):
    """Train with the progress printer and the run recorder; Ctrl-C stops after the current batch."""
    from .store import RunRecorder
    from .train import StopSignal, train

    from .data import load_mnist_float

    validate(experiment)
    data = load_mnist_float()  # a missing or broken MNIST is one sentence, with no failed run left behind
    run_id = store.create_run(experiment)
    stop = StopSignal()
    with _stop_on_ctrl_c(stop):
        result = train(experiment, [RunRecorder(store, run_id), ProgressPrinter()], stop=stop,
                       data=data)  # stored before shown
    return run_id, result


class _stop_on_ctrl_c:
    """First Ctrl-C asks training to stop gracefully; a second one interrupts at once."""

    def __init__(self, stop):
        self.stop = stop

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handle)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum, frame):
        if self.stop.requested:
            raise KeyboardInterrupt
        self.stop.request()
        print("\nstopping after this batch (Ctrl-C again to abort)…", file=sys.stderr)


def _headline(metrics):
    if not metrics:
        return None
    keys = ("accuracy", "keras_precision", "keras_recall", "macro_f1", "per_class_accuracy")
    return {key: metrics[key] for key in keys}


def _json(data, **options) -> str:
    """JSON for machines: NaN and infinities (a diverged run's loss) become null, which every parser reads."""
    def finite(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(item) for item in value]
        return value
    return json.dumps(finite(data), allow_nan=False, **options)


def _warn(warnings):
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _print_table(rows: list[dict], columns: list[str]) -> None:
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


class RemoteProgressPrinter(TrainingObserver):
    """One line per epoch for a run on the cluster, named, since several runs' lines interleave."""

    def __init__(self, experiment: Experiment, stream=None):
        self.label = f"{experiment.name}, seed {experiment.config.seed}"
        self.stream = stream or sys.stderr

    def run_started(self, event):
        print(f"{self.label}: started on {event.environment.get('worker')}", file=self.stream)

    def epoch_ended(self, event):
        val = f" · val acc {event.val_accuracy:.4f}" if event.val_accuracy is not None else ""
        print(f"{self.label}: epoch {event.epoch}/{event.epochs} loss {event.loss:.4f} acc {event.accuracy:.4f}{val}",
              file=self.stream)

    def run_ended(self, result):
        print(f"{self.label}: {result.status}" + (f" — {result.message}" if result.message else ""), file=self.stream)


class ProgressPrinter(TrainingObserver):
    """Prints a progress line to stderr: epoch, batch, loss, accuracy, ETA."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._steps = 0
        self._epochs = 0
        self._epoch_seconds = []

    def run_started(self, event):
        self._steps, self._epochs = event.steps_per_epoch, event.epochs
        print(f"{event.experiment.name}: {event.train_samples:,} training images, "
              f"{event.validation_samples:,} for validation, {event.epochs} epoch(s) of "
              f"{event.steps_per_epoch} batches", file=self.stream)

    def batch_ended(self, event):
        if not self.tty:
            return
        done = event.batch / self._steps
        bar = "█" * int(done * 24) + "·" * (24 - int(done * 24))
        eta = eta_seconds(self._epoch_seconds, self._epochs, event.epoch, event.batch, self._steps, event.elapsed)
        self.stream.write(f"\repoch {event.epoch}/{self._epochs} {bar} {event.batch}/{self._steps} "
                          f"loss {event.loss:.4f} acc {event.accuracy:.4f} ETA {clock(eta)}  ")
        self.stream.flush()

    def epoch_ended(self, event):
        self._epoch_seconds.append(event.seconds)
        val = (f" · val loss {event.val_loss:.4f} val acc {event.val_accuracy:.4f}"
               if event.val_loss is not None else "")
        prefix = "\r" if self.tty else ""
        print(f"{prefix}epoch {event.epoch}/{event.epochs} loss {event.loss:.4f} acc {event.accuracy:.4f}{val} "
              f"· {event.seconds:.1f} s · ETA {clock(event.eta)}" + " " * 10, file=self.stream)

    def run_ended(self, result):
        if result.message:
            print(result.message, file=self.stream)
