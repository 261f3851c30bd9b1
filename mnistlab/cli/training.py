"""Training from the command line: train and reproduce, here or on a Dask cluster, with progress on stderr."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from ..spec import Experiment, summarize_layers, validate
from ..status import RunStatus
from ..store import RunStore
from ..train import TrainingObserver, clock, eta_seconds
from ..i18n import _, decimal, ngettext, number
from ..status import status_name
from .common import EXIT_ERROR, EXIT_OK, CliError, command, to_json


def add_commands(sub) -> None:
    p = command(sub, "train", _("train a preset or a spec file and store the run"),
                'mnistlab train --preset "CNN 5" --limit 5000 --epochs 1', cmd_train)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help=_('a preset name, e.g. "CNN 5"'))
    source.add_argument("--spec", type=Path, help=_("a JSON spec file"))
    _add_training_overrides(p)
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, help=_("random seed (repeatable runs)"))
    seeds.add_argument("--seeds", help=_("train once per seed, e.g. 1,2,3: one run each, compared as a group"))
    seeds.add_argument("--repeats", type=int, help=_("train N times, with seeds 1 to N"))
    p.add_argument("--name", help=_("name for the run"))
    p.add_argument("--json", action="store_true", help=_("print the run id, folder and metrics as JSON"))
    _add_executor_options(p)

    p = command(sub, "reproduce", _("train the report's experiments and compare with its numbers"),
                'mnistlab reproduce --only "MLP 1,CNN 5" --epochs 2 --output repro.md', cmd_reproduce)
    p.add_argument("--only", help=_('comma-separated preset names, e.g. "MLP 1,CNN 5"'))
    _add_training_overrides(p)
    p.add_argument("--seeds", type=int, default=1,
                   help=_("runs per experiment: the report's seed (42) and the next ones (--seeds 3: 42, 43, 44)"))
    p.add_argument("--redo", action="store_true", help=_("train again even where a matching run exists"))
    p.add_argument("--output", type=Path, help=_("write the comparison as Markdown to this file"))
    _add_executor_options(p)


def _add_training_overrides(p):
    p.add_argument("--epochs", type=int, help=_("override the number of epochs"))
    p.add_argument("--limit", type=int, help=_("train on the first N training images only"))


def _add_executor_options(p) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help=_("train on N worker processes of this machine at once (Dask)"))
    where.add_argument("--scheduler", help=_("train on the Dask cluster at this address, e.g. tcp://lab-server:8786 "
                                             "(default: $MNISTLAB_SCHEDULER; neither: train here)"))


def cmd_train(args) -> int:
    from ..groups import parse_seeds, repeat_seeds

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
        print(to_json(payloads if seeds else payloads[0], indent=2))
    return EXIT_ERROR if any(RunStatus(payload["status"]).went_wrong for payload in payloads) else EXIT_OK


def _print_trained(payload: dict, metrics: dict | None) -> None:
    print(_("run {run_id}: {status}").format(run_id=payload["run_id"], status=status_name(payload["status"]))
          + (f" — {payload['message']}" if payload["message"] else ""))
    if metrics:
        print(_("test accuracy {accuracy} · Keras precision {precision} · Keras recall {recall} · macro F1 {f1}").format(
            accuracy=decimal(metrics["accuracy"]), precision=decimal(metrics["keras_precision"]),
            recall=decimal(metrics["keras_recall"]), f1=decimal(metrics["macro_f1"])))
    print(_("stored in {folder}").format(folder=payload["folder"]))


def cmd_reproduce(args) -> int:
    from ..data import load_mnist
    from ..groups import MAX_REPEATS
    from ..reproduce import (RunIndex, compare, finding_verdicts, findings_markdown, markdown_report,
                             reproduction_experiment, reproduction_group, select_presets, spread_markdown, spread_row)

    presets = select_presets(args.only)
    if not 1 <= args.seeds <= MAX_REPEATS:
        raise CliError(_("--seeds {count}: give 1 to {most} runs per experiment.").format(count=args.seeds, most=MAX_REPEATS))
    store = RunStore()
    index = RunIndex.of(store.list_runs().runs)
    missing = []
    for preset in presets:
        for seed in range(preset.experiment.config.seed, preset.experiment.config.seed + args.seeds):
            experiment = reproduction_experiment(preset, args.epochs, args.limit, seed)
            done = None if args.redo else index.completed(experiment)
            if done:
                print(_("{name}, seed {seed}: already reproduced by run {run_id}, skipped (--redo trains again).").format(
                    name=preset.name, seed=seed, run_id=done.run_id), file=sys.stderr)
            else:
                missing.append(experiment)
    for _run in _trained(store, missing, args, announce=True):  # each run is stored as it ends: a stop resumes
        pass
    index = RunIndex.of(store.list_runs().runs)  # with the runs just trained
    table = markdown_report(compare(index, presets, args.epochs, args.limit))
    if args.seeds > 1:
        table += "\n" + spread_markdown([(preset, spread_row(preset, reproduction_group(preset, index, args.epochs,
                                                                                          args.limit)))
                                         for preset in presets])
        _train, (_images, labels) = load_mnist()
        table += "\n" + findings_markdown(finding_verdicts(presets, index, labels, args.epochs, args.limit))
    print(table)
    if args.output:
        try:
            args.output.write_text(table, encoding="utf-8")
        except OSError as err:
            raise CliError(_("Cannot write {file}: {problem}.").format(file=args.output, problem=err.strerror or err)) from None
        print(_("written to {file}").format(file=args.output), file=sys.stderr)
    return EXIT_OK


def _experiment_from_args(args) -> Experiment:
    if args.preset:
        from ..presets import get_preset

        experiment = get_preset(args.preset).experiment
    else:
        try:
            text = args.spec.read_text(encoding="utf-8")
        except OSError as err:
            raise CliError(_("Cannot read the spec file {file}: {problem}.").format(file=args.spec,
                                                                            problem=err.strerror or err)) from None
        except UnicodeDecodeError:
            raise CliError(_("The spec file {file} is not UTF-8 text.").format(file=args.spec)) from None
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
    from ..executor import ClusterError, cluster_from, train_stored

    try:
        cluster = cluster_from(args.scheduler, args.workers)
    except ClusterError as err:
        raise CliError(str(err)) from None
    if cluster is None:
        for position, experiment in enumerate(experiments, start=1):
            if len(experiments) > 1 or announce:
                print(_("{name}, seed {seed}: training {layers} ({number} of {count})").format(
                    name=experiment.name, seed=experiment.config.seed, layers=summarize_layers(experiment),
                    number=position, count=len(experiments)), file=sys.stderr)
            yield _train_and_store(store, experiment)
        return
    with cluster:
        print(ngettext("training {count} run on the Dask cluster at {address} ({workers} workers)",
                       "training {count} runs on the Dask cluster at {address} ({workers} workers)",
                       len(experiments)).format(count=len(experiments), address=cluster.address,
                                                workers=cluster.workers), file=sys.stderr)
        yield from train_stored(cluster, store, experiments,
                                lambda run_id, experiment: [RemoteProgressPrinter(experiment)])


def _train_and_store(store: RunStore, experiment: Experiment):
    """Train with the progress printer and the run recorder; Ctrl-C stops after the current batch."""
    from ..data import load_mnist_float
    from ..recorder import RunRecorder
    from ..train import StopSignal, train

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
        print("\n" + _("stopping after this batch (Ctrl-C again to abort)…"), file=sys.stderr)


def _headline(metrics):
    if not metrics:
        return None
    keys = ("accuracy", "keras_precision", "keras_recall", "macro_f1", "per_class_accuracy")
    return {key: metrics[key] for key in keys}


class RemoteProgressPrinter(TrainingObserver):
    """One line per epoch for a run on the cluster, named, since several runs' lines interleave."""

    def __init__(self, experiment: Experiment, stream=None):
        self.label = _("{name}, seed {seed}").format(name=experiment.name, seed=experiment.config.seed)
        self.stream = stream or sys.stderr

    def run_started(self, event):
        print(_("{label}: started on {worker}").format(label=self.label, worker=event.environment.get("worker")),
              file=self.stream)

    def epoch_ended(self, event):
        val = " · " + _("val acc {accuracy}").format(accuracy=decimal(event.val_accuracy)) \
            if event.val_accuracy is not None else ""
        print(f"{self.label}: " + _("epoch {epoch}/{epochs} loss {loss} acc {accuracy}").format(
            epoch=event.epoch, epochs=event.epochs, loss=decimal(event.loss), accuracy=decimal(event.accuracy)) + val,
            file=self.stream)

    def run_ended(self, result):
        print(f"{self.label}: {status_name(result.status)}" + (f" — {result.message}" if result.message else ""),
              file=self.stream)


class ProgressPrinter(TrainingObserver):
    """Prints a progress line to stderr: epoch, batch, loss, accuracy, ETA."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._steps = 0
        self._epochs = 0
        self._epoch_seconds = []
        self._first = None  # the first batch: (batch, elapsed), the start of the first epoch's pace (eta_seconds)

    def run_started(self, event):
        self._steps, self._epochs = event.steps_per_epoch, event.epochs
        print(_("{name}: {train} training images, {validation} for validation, {epochs} epochs of {steps} "
                "batches").format(name=event.experiment.name, train=number(event.train_samples),
                                  validation=number(event.validation_samples), epochs=event.epochs,
                                  steps=event.steps_per_epoch), file=self.stream)

    def batch_ended(self, event):
        if not self.tty:
            return
        done = event.batch / self._steps
        bar = "█" * int(done * 24) + "·" * (24 - int(done * 24))
        self._first = self._first or (event.batch, event.elapsed)
        eta = eta_seconds(self._epoch_seconds, self._epochs, event.epoch, event.batch, self._steps, event.elapsed,
                          self._first)
        self.stream.write("\r" + _("epoch {epoch}/{epochs} {bar} {batch}/{steps} loss {loss} acc {accuracy} ETA "
                                   "{eta}").format(epoch=event.epoch, epochs=self._epochs, bar=bar, batch=event.batch,
                                                   steps=self._steps, loss=decimal(event.loss),
                                                   accuracy=decimal(event.accuracy), eta=clock(eta)) + "  ")
        self.stream.flush()

    def epoch_ended(self, event):
        self._epoch_seconds.append(event.seconds)
        val = (" · " + _("val loss {loss} val acc {accuracy}").format(loss=decimal(event.val_loss),
                                                                      accuracy=decimal(event.val_accuracy))
               if event.val_loss is not None else "")
        prefix = "\r" if self.tty else ""
        print(prefix + _("epoch {epoch}/{epochs} loss {loss} acc {accuracy}").format(
            epoch=event.epoch, epochs=event.epochs, loss=decimal(event.loss), accuracy=decimal(event.accuracy))
            + val + f" · {decimal(event.seconds, 1)} s · " + _("ETA {eta}").format(eta=clock(event.eta)) + " " * 10,
            file=self.stream)

    def run_ended(self, result):
        if result.message:
            print(result.message, file=self.stream)
