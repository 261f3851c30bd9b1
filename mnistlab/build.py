"""Turn a validated spec into a compiled `keras.Sequential` (Keras 3)."""

from __future__ import annotations

from . import backend
from .spec import (INPUT_SHAPE, Conv2D, Dense, Dropout, Experiment, Flatten, MaxPooling2D, RandomRotation,
                   RandomTranslation, RandomZoom, validate)


def build_model(experiment: Experiment):
    """Validate the spec, then build and compile the model it describes.

    Labels are integer classes, so the loss is sparse categorical cross-entropy:
    the same loss and gradients as the report's categorical cross-entropy on one-hot targets.
    """
    validate(experiment)
    keras = backend.keras()

    layers = [_keras_layer(layer, number) for number, layer in enumerate(experiment.layers, start=1)]
    model = keras.Sequential([keras.Input(shape=INPUT_SHAPE)] + layers, name=model_name(experiment.name))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=make_optimizer(experiment),
                  metrics=["accuracy"])
    return model


def make_optimizer(experiment: Experiment):
    keras = backend.keras()

    config = experiment.config
    optimizer = {"SGD": keras.optimizers.SGD, "Adam": keras.optimizers.Adam}[config.optimizer]
    return optimizer(learning_rate=config.effective_learning_rate)


def _keras_layer(layer, number: int):
    """The Keras layer for a spec layer, named after its kind and position ("conv2d_1", "dense_4").

    Explicit names keep a model independent of Keras's global, per-thread name counters: with
    auto-generated names, the dashboard's long-lived training thread once built a model with two
    layers called "max_pooling2d" and Keras refused it.
    """
    layers = backend.keras().layers
    name = f"{_snake(type(layer).__name__)}_{number}"
    match layer:
        case Dense(units, activation):
            return layers.Dense(units, activation=activation, name=name)
        case Conv2D(filters, kernel, strides, activation):
            return layers.Conv2D(filters, kernel_size=(kernel, kernel), strides=(strides, strides),
                                 activation=activation, name=name)
        case MaxPooling2D(pool):
            return layers.MaxPooling2D(pool_size=(pool, pool), name=name)
        case Dropout(rate):
            return layers.Dropout(rate, name=name)
        case Flatten():
            return layers.Flatten(name=name)
        case RandomRotation(factor):
            return layers.RandomRotation(factor, fill_mode="constant", name=name)  # uncovered corners stay blank
        case RandomTranslation(factor):
            return layers.RandomTranslation(factor, factor, fill_mode="constant", name=name)
        case RandomZoom(factor):
            return layers.RandomZoom(factor, fill_mode="constant", name=name)
    raise TypeError(f"Unknown layer {layer!r}")


def _snake(class_name: str) -> str:
    return {"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "RandomRotation": "random_rotation",
            "RandomTranslation": "random_translation", "RandomZoom": "random_zoom"}.get(class_name, class_name.lower())


def model_name(name: str) -> str:
    """A run's name as a Keras model name (letters, digits and underscores)."""
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")
    return cleaned or "model"
