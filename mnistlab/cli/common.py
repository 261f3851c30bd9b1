"""What every command group shares: the one-sentence error, the exit codes, JSON and tables for the terminal,
writing a file whole, and the example each command's --help ends with."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path

from ..files import atomic_write_bytes
from ..i18n import _

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


class CliError(Exception):
    """A user-facing failure: printed as one sentence."""


def command(sub, name: str, help: str, example: str, handler=None) -> argparse.ArgumentParser:  # noqa: A002
    """A subcommand whose --help ends with an example of its use."""
    parser = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                            epilog=_("example:") + f"\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def to_json(data, **options) -> str:
    """JSON for machines: NaN and infinities (a diverged run's loss) become null, which every parser reads."""
    def finite(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Mapping):  # a Run's info and metrics are read-only mappings
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(item) for item in value]
        return value
    return json.dumps(finite(data), allow_nan=False, **options)


def warn(warnings) -> None:
    for warning in warnings:
        print(_("warning: {warning}").format(warning=warning), file=sys.stderr)


def print_table(rows: list[dict], columns: list[str]) -> None:
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def write_whole(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a file through a temporary one renamed into place (a full disk leaves
    nothing behind), a device or pipe the user named (/dev/stdout) directly."""
    if not (path.exists() and not path.is_file()):
        atomic_write_bytes(path, data)  # its failure is a StoreError: one sentence
        return
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as err:
        raise CliError(_("Cannot write {file}: {problem}.").format(file=path, problem=err.strerror or err)) from None
