"""`mnistlab drawings …`: the class's drawings from the command line (see mnistlab.drawings)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..i18n import _, ngettext, number
from ..status import status_name
from .common import EXIT_OK, CliError, command, print_table, to_json, write_whole


def add_commands(sub) -> None:
    p = command(sub, "drawings", _("the class's labelled drawings: add, list, export, import, evaluate"),
                "mnistlab drawings list")
    actions = p.add_subparsers(dest="drawings_command", metavar="ACTION", required=True)

    q = command(actions, "add", _("add image files of one digit, labelled"),
                "mnistlab drawings add --label 7 seven.png", cmd_add)
    q.add_argument("--label", type=int, required=True, help=_("the digit the images show, 0–9"))
    q.add_argument("images", nargs="+", type=Path)

    q = command(actions, "list", _("how many drawings of each digit"), "mnistlab drawings list --json", cmd_list)
    q.add_argument("--json", action="store_true")

    q = command(actions, "export", _("write the set as an .npz in Keras's layout (x_test, y_test)"),
                "mnistlab drawings export class.npz", cmd_export)
    q.add_argument("file", type=Path)

    q = command(actions, "import", _("add the images of an .npz in Keras's layout"),
                "mnistlab drawings import class.npz", cmd_import)
    q.add_argument("file", type=Path)

    q = command(actions, "evaluate", _("a run's accuracy on the class's drawings, beside its MNIST accuracy"),
                'mnistlab drawings evaluate --run "CNN 5"', cmd_evaluate)
    q.add_argument("--run", required=True, help=_("run id, exact name, or ≥ 4 characters of the id"))
    q.add_argument("--json", action="store_true")


def cmd_add(args) -> int:
    from ..drawings import Drawings
    from ..predict import load_image_file

    drawings = Drawings()
    images = [load_image_file(path) for path in args.images]  # every file checked before any is kept
    for path, image in zip(args.images, images):
        kept = drawings.save(image, args.label, session="cli")
        print(_("{path}: kept as {drawing} (a {digit})").format(path=path, drawing=kept.drawing_id, digit=kept.label))
    return EXIT_OK


def cmd_list(args) -> int:
    from ..drawings import Drawings

    drawings = Drawings().all()
    counts = Counter(d.label for d in drawings)
    if args.json:
        print(to_json({"count": len(drawings), "per_digit": [counts.get(d, 0) for d in range(10)],
                     "drawings": [{"id": d.drawing_id, "label": d.label, "created": d.created, "session": d.session}
                                  for d in drawings]}, indent=2))
        return EXIT_OK
    if not drawings:
        print(_("No drawings yet: save some from the Draw page, or `mnistlab drawings add --label 7 7.png`."))
        return EXIT_OK
    print_table([{"digit": d, "drawings": counts.get(d, 0)} for d in range(10)], ["digit", "drawings"])
    print(_("{count} in all").format(count=number(len(drawings))))
    return EXIT_OK


def cmd_export(args) -> int:
    from ..drawings import Drawings

    drawings = Drawings()
    write_whole(args.file, drawings.npz_bytes())
    count = len(drawings.dataset()[1])
    print(ngettext("{count} drawing written to {file}", "{count} drawings written to {file}", count).format(
        count=number(count), file=args.file))
    return EXIT_OK


def cmd_import(args) -> int:
    from ..drawings import Drawings

    count = Drawings().import_npz(args.file)
    print(ngettext("{count} drawing added from {file}", "{count} drawings added from {file}", count).format(
        count=number(count), file=args.file))
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from ..drawings import Drawings, class_score, gap_sentence
    from ..predict import read_digits
    from ..store import RunStore

    x, y, _ids = Drawings().dataset()
    if not len(y):
        raise CliError(_("There are no drawings to evaluate on yet."))
    store = RunStore()
    run = store.find_run(args.run)
    if not run.metrics:
        raise CliError(_("Run {run_id} ({name}) has no trained model to evaluate ({status}).").format(
            run_id=run.run_id, name=run.name, status=status_name(run.status)))
    score = class_score(y, read_digits(store.load_model(run.run_id), x))  # as the Class test page scores it
    per_digit = {d: value for d, value in enumerate(score.per_digit) if value is not None}
    result = {"run_id": run.run_id, "name": run.name, "drawings": int(len(y)), "accuracy": score.accuracy,
              "mnist_accuracy": run.metrics["accuracy"], "per_digit_accuracy": per_digit,
              "confusion_matrix": score.confusion,
              "sentence": gap_sentence(run.name, run.metrics["accuracy"], score.accuracy, len(y))}
    if args.json:
        print(to_json(result, indent=2))
    else:
        print(result["sentence"])
        print("per digit: " + "  ".join(f"{d}: {a:.0%}" for d, a in per_digit.items()))
    return EXIT_OK
