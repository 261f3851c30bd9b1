"""Take it home: a run as a standalone Python script — plain Keras and NumPy, no mnistlab — that builds, trains
and evaluates the same network with the same seed and settings, for a notebook or Colab."""

from __future__ import annotations

from .build import model_name
from .spec import (Conv2D, Dense, Dropout, Experiment, Flatten, MaxPooling2D, RandomRotation, RandomTranslation,
                   RandomZoom, total_params, validate)

TEMPLATE = '''"""{title}

Exported from MNIST Lab{origin}. Plain Keras 3 and NumPy: run it anywhere with
    pip install tensorflow numpy
    python {filename} [--data mnist.npz] [--limit N] [--epochs N]
--data: a Keras-layout mnist.npz (without it, Keras downloads MNIST); --limit: train on the first N
training images only (a quick check); --epochs: fewer epochs than the run's {epochs}.
"""

import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="a Keras-layout mnist.npz (x_train, y_train, x_test, y_test)")
parser.add_argument("--limit", type=int, default={limit!r}, help="train on the first N training images")
parser.add_argument("--epochs", type=int, default={epochs})
args = parser.parse_args()

# The data: 28×28 grey images scaled to [0, 1], with a channel axis; labels are the digits 0–9.
if args.data:
    with np.load(args.data, allow_pickle=False) as mnist:
        (x_train, y_train), (x_test, y_test) = (mnist["x_train"], mnist["y_train"]), (mnist["x_test"], mnist["y_test"])
else:
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = (x_train.astype("float32") / 255.0)[..., None]
x_test = (x_test.astype("float32") / 255.0)[..., None]
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]

keras.utils.set_random_seed({seed})  # the run's seed: the same initial weights and shuffling

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
{layers}
], name={model_name!r})
model.compile(loss="sparse_categorical_crossentropy",  # integer labels: the same loss as one-hot categorical
              optimizer=keras.optimizers.{optimizer}(learning_rate={learning_rate!r}), metrics=["accuracy"])
model.summary()
print(f"parameters: {{model.count_params():,}}")

model.fit(x_train, y_train, batch_size={batch_size}, epochs=args.epochs, validation_split={validation_split!r},
          callbacks=[{callbacks}], verbose=2)

# Test-set scores, as MNIST Lab (and the course report) computes them.
probabilities = model.predict(x_test, batch_size=1000, verbose=0)
predicted = probabilities.argmax(axis=1)
one_hot = keras.utils.to_categorical(y_test, 10)
precision, recall = keras.metrics.Precision(), keras.metrics.Recall()  # at threshold 0.5, over every image × digit
precision.update_state(one_hot, probabilities)
recall.update_state(one_hot, probabilities)
print(f"test accuracy {{np.mean(predicted == y_test):.4f}} · Keras precision {{float(precision.result()):.4f}} · "
      f"Keras recall {{float(recall.result()):.4f}}")
'''


def script_for(experiment: Experiment, run_id: str | None = None, filename: str = "run.py") -> str:
    """The standalone script for a spec (validated first); `run_id` is named in its docstring."""
    validate(experiment)
    config = experiment.config
    callbacks = ""
    if config.early_stopping_patience:
        monitor = "val_loss" if config.validation_split > 0 else "loss"
        callbacks = (f"keras.callbacks.EarlyStopping(monitor={monitor!r}, patience={config.early_stopping_patience}, "
                     f"restore_best_weights=True)")
    title = f"{experiment.name}: {total_params(experiment):,} parameters"
    return TEMPLATE.format(
        title=_docstring_text(title), origin=f" (run {_docstring_text(run_id)})" if run_id else "",
        filename=_docstring_text(filename), epochs=config.epochs,
        limit=config.train_limit, seed=config.seed, model_name=model_name(experiment.name),
        layers="\n".join(f"    {_layer_code(layer)}," for layer in experiment.layers),
        optimizer=config.optimizer, learning_rate=config.effective_learning_rate, batch_size=config.batch_size,
        validation_split=config.validation_split, callbacks=callbacks)


def _docstring_text(text: str) -> str:
    """`text` as it reads inside the script's docstring, and never as code: a quote or a backslash is escaped (so
    a name cannot end the docstring or start an escape), and a character that is not printable — a line break, a
    lone surrogate that UTF-8 cannot hold — is written as its escape sequence."""
    def escaped(char: str) -> str:
        if char in '\\"':
            return "\\" + char
        if char.isprintable():  # a lone surrogate is not
            return char
        return char.encode("unicode_escape").decode("ascii")
    return "".join(map(escaped, str(text)))


def _layer_code(layer) -> str:
    match layer:
        case Dense(units, activation):
            return f"keras.layers.Dense({units}, activation={activation!r})"
        case Conv2D(filters, kernel, strides, activation):
            return f"keras.layers.Conv2D({filters}, kernel_size={kernel}, strides={strides}, activation={activation!r})"
        case MaxPooling2D(pool):
            return f"keras.layers.MaxPooling2D(pool_size={pool})"
        case Dropout(rate):
            return f"keras.layers.Dropout({rate!r})"
        case Flatten():
            return "keras.layers.Flatten()"
        case RandomRotation(factor):  # augmentation: active in training only
            return f"keras.layers.RandomRotation({factor!r}, fill_mode='constant')"
        case RandomTranslation(factor):
            return f"keras.layers.RandomTranslation({factor!r}, {factor!r}, fill_mode='constant')"
        case RandomZoom(factor):
            return f"keras.layers.RandomZoom({factor!r}, fill_mode='constant')"
    raise TypeError(f"Unknown layer {layer!r}")
