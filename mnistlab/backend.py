"""Import Keras (TensorFlow backend) lazily, without TensorFlow's C++ start-up chatter.

TensorFlow 2.21 writes absl log lines (oneDNN notices, "could not find cuda drivers",
a cuInit error on machines without a GPU) straight to file descriptor 2 while it loads and
first looks for devices; TF_CPP_MIN_LOG_LEVEL no longer silences them. They would land on
a CLI user's terminal and in front of a class, so we point fd 2 at /dev/null for that
moment only. Python exceptions are unaffected: they are raised after fd 2 is restored.

Keras's folder (keras.json, download cache) goes under $MNISTLAB_HOME unless KERAS_HOME is set,
so that MNIST Lab writes nowhere else.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from .home import keras_home


def keras():
    """The keras module, imported (once) with start-up logs silenced."""
    if "keras" not in sys.modules or "tensorflow" not in sys.modules:
        os.environ.setdefault("KERAS_HOME", str(keras_home()))  # Keras writes keras.json there on import
        with _fd2_silenced():
            import keras as keras_module  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
    return sys.modules["keras"]


def device() -> str:
    import tensorflow as tf

    keras()
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def environment() -> dict:
    """What trained a run, for its run.json: MNIST Lab's, TensorFlow's and Keras's versions and the device."""
    from . import __version__

    keras_module = keras()
    import tensorflow as tf

    return {"mnistlab_version": __version__, "tensorflow_version": tf.__version__,
            "keras_version": keras_module.__version__, "device": device()}


@contextmanager
def _fd2_silenced():
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
