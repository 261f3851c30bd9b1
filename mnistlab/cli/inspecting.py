"""A stored run's model at work, and taken home: predict, inspect, export."""

from __future__ import annotations

import sys
from pathlib import Path

from ..store import RunStore
from ..i18n import _
from ..status import status_name
from .common import EXIT_OK, CliError, command, print_table, to_json, write_whole


def add_commands(sub) -> None:
    p = command(sub, "predict", _("classify an image file with a stored run's model"),
                'mnistlab predict --run "CNN 5" digit.png', cmd_predict)
    p.add_argument("image", type=Path)
    p.add_argument("--run", required=True, help=_("run id, id prefix or name"))
    p.add_argument("--json", action="store_true")

    p = command(sub, "inspect", _("inside a stored run's model for an image: each layer, saliency, pictures"),
                'mnistlab inspect --run "CNN 5" digit.png --output pictures/', cmd_inspect)
    p.add_argument("--run", required=True, help=_("run id, exact name, or ≥ 4 characters of the id"))
    p.add_argument("image", help=_("a PNG or JPEG of one digit (any size; preprocessed as on the Draw page)"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--output", type=Path, help=_("a folder for PNGs of the feature maps, weights and saliency"))

    p = command(sub, "export", _("a run as a standalone Keras script (and its model file), to take home"),
                'mnistlab export "CNN 5" --script run.py --model model.keras', cmd_export)
    p.add_argument("run", help=_("run id, exact name, or ≥ 4 characters of the id"))
    p.add_argument("--script", type=Path, help=_("write the script here (e.g. run.py)"))
    p.add_argument("--model", type=Path, help=_("copy the trained model here (e.g. model.keras)"))


def cmd_predict(args) -> int:
    from ..predict import load_image_file, predict_drawing

    image = load_image_file(args.image)
    store = RunStore()
    run = store.find_run(args.run)
    prediction = predict_drawing(store.load_model(run.run_id), image)
    if prediction is None:
        raise CliError(_("{file} looks blank (no digit found), so there is nothing to predict.").format(file=args.image))
    if args.json:
        print(to_json({"run_id": run.run_id, "digit": prediction.digit, "confidence": prediction.confidence,
                       "probabilities": [float(p) for p in prediction.probabilities]}, indent=2))
    else:
        print(f"{prediction.digit}  (confidence {prediction.confidence:.1%}, model {run.name} {run.run_id})")
    return EXIT_OK


def cmd_inspect(args) -> int:
    from ..inspect import summary, write_pictures
    from ..predict import load_image_file
    from ..preprocess import canvas_to_mnist

    image = canvas_to_mnist(load_image_file(args.image))
    if image is None:
        raise CliError(_("{file} looks blank (no digit found), so there is nothing to inspect.").format(file=args.image))
    store = RunStore()
    run = store.find_run(args.run)
    model = store.load_model(run.run_id)
    report = summary(model, image)
    if args.output:
        try:
            report["pictures"] = [str(path) for path in write_pictures(model, image, args.output)]
        except OSError as err:
            raise CliError(_("Cannot write pictures to {folder}: {problem}.").format(
                folder=args.output, problem=err.strerror or err)) from None
    if args.json:
        print(to_json({"run_id": run.run_id, **report}, indent=2))
        return EXIT_OK
    print(f"{report['digit']}  (confidence {report['confidence']:.1%}, model {run.name} {run.run_id})")
    print_table([{"layer": layer["name"], "output shape": "×".join(map(str, layer["shape"])),
                  "min": f"{layer['min']:.3g}", "mean": f"{layer['mean']:.3g}", "max": f"{layer['max']:.3g}",
                  "> 0": f"{layer['active']:.0%}"} for layer in report["layers"]],
                ["layer", "output shape", "min", "mean", "max", "> 0"])
    if report["linear"]:
        print("\nEvery hidden layer is linear: the whole network is one template per digit (see linear-templates.png).")
    for path in report.get("pictures", []):
        print(f"written {path}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args) -> int:
    from ..export import script_for

    store = RunStore()
    run = store.find_run(args.run)
    if not args.script and not args.model:
        raise CliError(_("Say what to export: --script run.py, --model model.keras, or both."))
    if args.model and not run.has_model:
        raise CliError(_("Run {run_id} ({name}) has no trained model to export ({status}).").format(
            run_id=run.run_id, name=run.name, status=status_name(run.status)))
    written = []
    if args.script:
        write_whole(args.script, script_for(run.experiment, run.run_id, args.script.name).encode("utf-8"))
        written.append(args.script)
    if args.model:
        try:
            model = (run.path / "model.keras").read_bytes()
        except OSError as err:
            raise CliError(_("Cannot read run {run_id}'s model file: {problem}.").format(
                run_id=run.run_id, problem=err.strerror or err)) from None
        write_whole(args.model, model)
        written.append(args.model)
    for path in written:
        print(f"written {path}")
    return EXIT_OK
