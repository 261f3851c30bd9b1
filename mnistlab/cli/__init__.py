"""`mnistlab` (or `python -m mnistlab`): the command line, a module per group of commands —

    runs        presets, runs, show, compare, rename, delete
    training    train, reproduce
    inspecting  predict, inspect, export
    drawings    drawings add | list | export | import | evaluate
    serving     serve, worker

Progress goes to stderr, results to stdout (`--json` for machines). Errors are one sentence and a non-zero exit
code. TensorFlow is imported only by commands that need it.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..data import DataError
from ..i18n import N_, _, cli_language, ngettext, use
from ..spec import SpecError
from ..store import StoreError
from . import drawings, inspecting, runs, serving, training
from .common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, CliError

__all__ = ["main", "build_parser", "CliError"]
GROUPS = (runs, training, inspecting, drawings, serving)
# argparse's own words, as it prints them to a person (its programming errors left out). argparse looks them up
# through its module's `_` and `ngettext` when it prints, so main() points those at the catalog: one process, one
# language. Listed here so that the catalog holds them.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("show program's version number and exit"), N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"), N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("expected one argument"), N_("expected at least one argument"), N_("expected at most one argument"),
    N_("ignored explicit argument %r"), N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"), N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"), N_("can't open '%(filename)s': %(error)s"),
)


def main(argv: list[str] | None = None) -> int:
    use(cli_language())  # LANG / LC_ALL, as gettext reads them; the flags stay English
    argparse._, argparse.ngettext = _, ngettext
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.handler(args) or EXIT_OK
    except (CliError, SpecError, DataError, StoreError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(_("error: {message}").format(message=message), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\n" + _("interrupted."), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `show RUN | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush has somewhere to go
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnistlab",
        description=_("Train, compare and probe the course report's MLPs and CNNs on real MNIST. "
                      "Runs are stored under $MNISTLAB_HOME (default ~/.mnistlab); "
                      "MNISTLAB_DATA points at a local mnist.npz."))
    parser.add_argument("--version", action="version", version=f"mnistlab {__version__}",
                        help=_("show program's version number and exit"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return parser
