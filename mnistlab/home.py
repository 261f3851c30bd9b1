"""Where MNIST Lab keeps its files: everything it writes lives under one folder.

$MNISTLAB_HOME (default ~/.mnistlab) holds the run store and, unless KERAS_HOME says
otherwise, Keras's own folder (its keras.json and the MNIST download cache).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VAR = "MNISTLAB_HOME"


def default_home() -> Path:
    return Path(os.environ.get(HOME_VAR) or Path.home() / ".mnistlab").expanduser()


def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or default_home() / "keras").expanduser()
