"""Experiment specs: plain, frozen data that round-trips through JSON.

An experiment is a name, an ordered list of layers and a training config.
`validate` propagates shapes without TensorFlow and returns, per layer, the
output shape and parameter count exactly as Keras's `model.summary()` reports
them, or raises `SpecError` naming the layer, the field and the allowed range.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from functools import lru_cache

from . import i18n, memory
from .i18n import _

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
MAX_PARAMS = 10_000_000
MAX_LAYERS = 100
MAX_SPEC_CHARS = 1_000_000
MAX_NAME = 80

HIDDEN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
OUTPUT_ACTIVATION = "softmax"
OPTIMIZERS = ("SGD", "Adam")
DEFAULT_LEARNING_RATE = {"SGD": 0.01, "Adam": 0.001}


class SpecError(ValueError):
    """A spec that cannot be built or trained; the message is one sentence.

    `layer` is the 1-based number of the layer at fault (None for the config or the whole
    network), so a form can show the error beside that layer.
    """

    layer: int | None = None


@dataclass(frozen=True)
class Dense:
    units: int
    activation: str = "linear"


@dataclass(frozen=True)
class Conv2D:
    filters: int
    kernel_size: int = 3
    strides: int = 1
    activation: str = "linear"


@dataclass(frozen=True)
class MaxPooling2D:
    pool_size: int = 2


@dataclass(frozen=True)
class Dropout:
    rate: float


@dataclass(frozen=True)
class Flatten:
    pass


# Augmentation: Keras's preprocessing layers that change each training image at random and pass images through
# unchanged at inference (0 parameters, shapes unchanged). `factor` as Keras reads it: RandomRotation turns by up to
# factor × 360° either way, RandomTranslation shifts by up to factor × the side, RandomZoom zooms in or out by up to
# factor. At most MAX_AUGMENTATION: a digit turned by half a turn is another digit.

@dataclass(frozen=True)
class RandomRotation:
    factor: float = 0.05


@dataclass(frozen=True)
class RandomTranslation:
    factor: float = 0.1


@dataclass(frozen=True)
class RandomZoom:
    factor: float = 0.1


AUGMENTATION = (RandomRotation, RandomTranslation, RandomZoom)
MAX_AUGMENTATION = 0.5
Layer = Dense | Conv2D | MaxPooling2D | Dropout | Flatten | RandomRotation | RandomTranslation | RandomZoom
LAYER_TYPES = {cls.__name__: cls for cls in (Dense, Conv2D, MaxPooling2D, Dropout, Flatten, *AUGMENTATION)}


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "Adam"
    learning_rate: float | None = None
    epochs: int = 5
    batch_size: int = 128
    validation_split: float = 0.1
    early_stopping_patience: int | None = None
    seed: int = 42
    train_limit: int | None = None

    @property
    def effective_learning_rate(self) -> float:
        """The learning rate in force: the one given, else Keras's default for the optimizer."""
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATE.get(self.optimizer, 0.001)


@dataclass(frozen=True)
class Experiment:
    name: str
    layers: tuple[Layer, ...]
    config: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "layers": [layer_to_dict(layer) for layer in self.layers],
            "config": asdict(self.config),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def with_config(self, **changes) -> "Experiment":
        return replace(self, config=replace(self.config, **changes))

    @classmethod
    def from_dict(cls, data: dict) -> "Experiment":
        if not isinstance(data, dict):
            raise SpecError("A spec must be a JSON object with 'name', 'layers' and 'config'.")
        _reject_unknown("The spec", data, {"name", "layers", "config"})
        name = check_name(data.get("name", "Untitled"))
        raw_layers = data.get("layers")
        if not isinstance(raw_layers, list) or not raw_layers:
            raise SpecError("The spec's 'layers' must be a non-empty list of layer objects.")
        if len(raw_layers) > MAX_LAYERS:
            raise SpecError(f"The spec has {len(raw_layers):,} layers, over the limit of {MAX_LAYERS}.")
        layers = tuple(layer_from_dict(raw, i + 1) for i, raw in enumerate(raw_layers))
        config = _config_from_dict(data.get("config", {}))
        return cls(name=name, layers=layers, config=config)

    @classmethod
    def from_json(cls, text: str) -> "Experiment":
        if len(text) > MAX_SPEC_CHARS:
            raise SpecError(f"The spec is {len(text):,} characters long, over the limit of {MAX_SPEC_CHARS:,}.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecError(f"The spec is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}.") from None
        except RecursionError:
            raise SpecError("The spec is nested too deeply to be a spec.") from None
        return cls.from_dict(data)


def check_name(name) -> str:
    """A run or spec name, stripped: text of 1 to MAX_NAME characters with no control characters."""
    if not isinstance(name, str) or not name.strip():
        raise SpecError(_("A name must be non-empty text."))
    name = name.strip()
    if len(name) > MAX_NAME:
        raise SpecError(_("A name may have at most {most} characters; this one has {count}.").format(
            most=MAX_NAME, count=i18n.number(len(name))))
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise SpecError(_("A name cannot contain control characters (line breaks, tabs, escapes)."))
    if any(unicodedata.category(char) == "Cs" for char in name):  # bytes that were not UTF-8, as Python keeps them
        raise SpecError(_("A name must be text: this one holds bytes that are not UTF-8, which no page could show."))
    return name


def layer_to_dict(layer: Layer) -> dict:
    return {"type": type(layer).__name__, **asdict(layer)}


def layer_from_dict(raw: dict, number: int) -> Layer:
    if not isinstance(raw, dict) or "type" not in raw:
        raise SpecError(f"Layer {number}: each layer must be an object with a 'type' field.")
    kind = raw["type"]
    cls = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SpecError(f"Layer {number}: unknown type {kind!r}; allowed: {', '.join(LAYER_TYPES)}.")
    allowed = {f.name for f in fields(cls)}
    _reject_unknown(f"Layer {number} ({kind})", raw, allowed | {"type"})
    values = {key: value for key, value in raw.items() if key != "type"}
    try:
        return cls(**values)
    except TypeError:
        required = {f.name for f in fields(cls) if f.default is MISSING}
        missing = sorted(required - values.keys())
        raise SpecError(f"Layer {number} ({kind}): missing field(s) {', '.join(missing)}.") from None


def _config_from_dict(raw) -> TrainConfig:
    if not isinstance(raw, dict):
        raise SpecError("The spec's 'config' must be an object.")
    _reject_unknown("The training config", raw, {f.name for f in fields(TrainConfig)})
    return TrainConfig(**raw)


def _reject_unknown(where: str, data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field(s) "
                        f"{', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.")


# ---------------------------------------------------------------- validation

@dataclass(frozen=True)
class LayerSummary:
    """One row of the shape table: what Keras's summary() prints for the layer."""
    number: int
    kind: str
    description: str
    output_shape: tuple[int, ...]
    params: int


def validate(experiment: Experiment, max_params: int = MAX_PARAMS,
             memory_budget: int | None = None) -> list[LayerSummary]:
    """Check the spec and return the layer table; raise SpecError on the first problem.

    Beyond each field: the parameter count, and the memory a training step would take against the
    budget (`mnistlab.memory`, 2 GiB unless $MNISTLAB_MEMORY_BUDGET_MB says otherwise).

    An Experiment is a frozen value, so a spec checked once is valid for good (against the same limits): the CLI,
    the store, train() and build_model() each ask, and only the first asks at a cost.
    """
    return list(_checked(experiment, max_params, memory_budget or memory.budget_bytes())[0])


def memory_estimate(experiment: Experiment, memory_budget: int | None = None) -> memory.MemoryEstimate:
    """The network's memory for a training step, and the evaluation batch that fits the budget."""
    return _checked(experiment, MAX_PARAMS, memory_budget or memory.budget_bytes())[1]


def _checked(experiment: Experiment, max_params: int, budget: int) -> tuple[tuple[LayerSummary, ...], memory.MemoryEstimate]:
    try:
        return _checked_once(experiment, max_params, budget)
    except TypeError:  # a field of a type no spec has (a list from hand-written JSON) cannot be a cache key
        return _check(experiment, max_params, budget)


def _check(experiment: Experiment, max_params: int, budget: int):
    check_name(experiment.name)
    validate_config(experiment.config)
    rows = tuple(_layer_rows(experiment))
    total = sum(row.params for row in rows)
    if total > max_params:
        raise SpecError(_("The network has {count} parameters, over the limit of {most} this machine trains; make the "
                          "layers smaller.").format(count=i18n.number(total), most=i18n.number(max_params)))
    return rows, _check_memory(rows, experiment.config, budget)


_checked_once = lru_cache(maxsize=1024)(_check)  # a SpecError is raised, not kept: a bad spec is checked each time


def _check_memory(rows: tuple[LayerSummary, ...], config: TrainConfig, budget: int) -> memory.MemoryEstimate:
    cost = memory.estimate(rows, config.batch_size, config.optimizer, budget)
    if cost.training_bytes > budget:
        row = rows[cost.largest_layer - 1]
        err = SpecError(_("A training step at batch size {batch} needs about {needed} GiB of memory, over the budget "
                          "of {budget} GiB; the largest part is layer {number} ({layer}) with {values} values per "
                          "image: use fewer filters, a stride or pooling earlier, or a smaller batch.").format(
            batch=config.batch_size, needed=i18n.decimal(cost.training_bytes / 2**30, 1), budget=i18n.decimal(budget / 2**30, 1),
            number=row.number, layer=row.description, values=i18n.number(cost.largest_floats)))
        err.layer = row.number
        raise err
    return cost


def layer_table(experiment: Experiment) -> tuple[list[LayerSummary], SpecError | None]:
    """The layer table as far as it is valid, and the first problem (None when the spec is valid).

    For a form that shows shapes live while the user is still fixing a later layer.
    """
    rows: list[LayerSummary] = []
    try:
        for row in _layer_rows(experiment):
            rows.append(row)
        validate(experiment)
    except SpecError as err:
        return rows, err
    return rows, None


def _layer_rows(experiment: Experiment):
    layers = experiment.layers
    if not layers:
        raise SpecError(_("The network has no layers; it needs at least the output layer Dense(10, softmax)."))
    if len(layers) > MAX_LAYERS:
        raise SpecError(_("The network has {count} layers, over the limit of {most}.").format(
            count=i18n.number(len(layers)), most=MAX_LAYERS))
    shape = INPUT_SHAPE
    for number, layer in enumerate(layers, start=1):
        is_output = number == len(layers)
        try:
            shape, params = _propagate(layer, shape, number, is_output)
        except SpecError as err:
            err.layer = number
            raise
        yield LayerSummary(number, type(layer).__name__, describe_layer(layer), shape, params)


def total_params(experiment: Experiment) -> int:
    return sum(row.params for row in validate(experiment))


def describe_layer(layer: Layer) -> str:
    match layer:
        case Dense(units, activation):
            return f"Dense({units}, {activation})"
        case Conv2D(filters, kernel, strides, activation):
            stride = f", stride {strides}" if strides != 1 else ""
            return f"Conv2D({filters}, {kernel}×{kernel}{stride}, {activation})"
        case MaxPooling2D(pool):
            return f"MaxPooling2D({pool}×{pool})"
        case Dropout(rate):
            return f"Dropout({rate:g})"
        case Flatten():
            return "Flatten"
        case RandomRotation(factor):  # augmentation (training only: Build says so under its table)
            return f"RandomRotation(±{factor * 360:g}°)"
        case RandomTranslation(factor):
            return f"RandomTranslation(±{factor:.0%})"
        case RandomZoom(factor):
            return f"RandomZoom(±{factor:.0%})"
    raise SpecError(f"Unknown layer object {layer!r}.")


def summarize_layers(experiment: Experiment) -> str:
    """A one-line description of the architecture, for tables."""
    return " → ".join(describe_layer(layer) for layer in experiment.layers)


def _propagate(layer: Layer, shape: tuple[int, ...], number: int, is_output: bool):
    where = _("Layer {number} ({kind})").format(number=number, kind=type(layer).__name__)
    match layer:
        case Dense():
            return _dense(layer, shape, where, is_output)
        case Conv2D():
            _require_map(shape, where)
            _int_in_range(layer.filters, 1, 1024, where, "filters")
            _int_in_range(layer.kernel_size, 1, min(shape[0], shape[1]), where, "kernel_size")
            _int_in_range(layer.strides, 1, min(shape[0], shape[1]), where, "strides")
            _activation(layer.activation, where, is_output)
            side = [(s - layer.kernel_size) // layer.strides + 1 for s in shape[:2]]
            params = (layer.kernel_size ** 2 * shape[2] + 1) * layer.filters
            return (side[0], side[1], layer.filters), params
        case MaxPooling2D():
            _require_map(shape, where)
            _int_in_range(layer.pool_size, 1, min(shape[0], shape[1]), where, "pool_size")
            _not_last(where, is_output)
            side = [(s - layer.pool_size) // layer.pool_size + 1 for s in shape[:2]]
            return (side[0], side[1], shape[2]), 0
        case Dropout():
            if not _is_number(layer.rate) or not 0 <= layer.rate < 1:
                raise SpecError(_("{where}: rate must be a number in [0, 1), got {value!r}.").format(
                    where=where, value=layer.rate))
            _not_last(where, is_output)
            return shape, 0
        case RandomRotation() | RandomTranslation() | RandomZoom():
            _require_map(shape, where)
            if not _is_number(layer.factor) or not 0 < layer.factor <= MAX_AUGMENTATION:
                raise SpecError(_("{where}: factor must be a number in (0, {most}], got {value!r}.").format(
                    where=where, most=MAX_AUGMENTATION, value=layer.factor))
            _not_last(where, is_output)
            return shape, 0
        case Flatten():
            _not_last(where, is_output)
            size = 1
            for s in shape:
                size *= s
            return (size,), 0
    raise SpecError(f"Layer {number}: unknown layer object {layer!r}.")


def _dense(layer: Dense, shape, where, is_output):
    if len(shape) != 1:
        raise SpecError(_("{where}: its input is a {shape} map; add a Flatten layer before it (Dense needs a flat "
                          "vector).").format(where=where, shape="×".join(map(str, shape))))
    if is_output:
        whole = isinstance(layer.units, int) and not isinstance(layer.units, bool)
        if not whole or layer.units != NUM_CLASSES or layer.activation != OUTPUT_ACTIVATION:
            raise SpecError(_("{where}: the output layer must be Dense({classes}, softmax), got units {units!r} and "
                              "activation {activation!r}.").format(where=where, classes=NUM_CLASSES,
                                                                   units=layer.units, activation=layer.activation))
    else:
        _int_in_range(layer.units, 1, 100_000, where, "units")
        _activation(layer.activation, where, is_output)
    return (layer.units,), (shape[0] + 1) * layer.units


def _require_map(shape, where):
    if len(shape) != 3:
        raise SpecError(_("{where}: its input is already flat ({count} values); convolution and pooling layers must "
                          "come before Flatten.").format(where=where, count=shape[0]))
    if shape[0] < 1 or shape[1] < 1:
        raise SpecError(_("{where}: the feature map has shrunk to nothing.").format(where=where))


def _not_last(where, is_output):
    if is_output:
        raise SpecError(_("{where}: the last layer must be the output layer Dense({classes}, softmax).").format(
            where=where, classes=NUM_CLASSES))


def _activation(name, where, is_output):
    _not_last(where, is_output)
    if name not in HIDDEN_ACTIVATIONS:
        raise SpecError(_("{where}: activation must be one of {allowed}, got {value!r} (softmax is for the output "
                          "layer only).").format(where=where, allowed=", ".join(HIDDEN_ACTIVATIONS), value=name))


def _int_in_range(value, low, high, where, name):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(_("{where}: {field} must be a whole number from {low} to {high}, got {value!r}.").format(
            where=where, field=name, low=low, high=high, value=value))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_config(config: TrainConfig) -> None:
    """Check the training settings alone (a form shows their error beside them); SpecError on the first problem."""
    where = _("Training config")
    if config.optimizer not in OPTIMIZERS:
        raise SpecError(_("{where}: optimizer must be one of {allowed}, got {value!r}.").format(
            where=where, allowed=", ".join(OPTIMIZERS), value=config.optimizer))
    lr = config.learning_rate
    if lr is not None and (not _is_number(lr) or not 0 < lr <= 10):
        raise SpecError(_("{where}: learning_rate must be a number in (0, 10], got {value!r}.").format(
            where=where, value=lr))
    _int_in_range(config.epochs, 1, 1000, where, "epochs")
    _int_in_range(config.batch_size, 1, 60_000, where, "batch_size")
    vs = config.validation_split
    if not _is_number(vs) or not 0 <= vs < 1:
        raise SpecError(_("{where}: validation_split must be a number in [0, 1), got {value!r}.").format(
            where=where, value=vs))
    if config.early_stopping_patience is not None:
        _int_in_range(config.early_stopping_patience, 1, 1000, where, "early_stopping_patience")
    _int_in_range(config.seed, 0, 2**31 - 1, where, "seed")
    if config.train_limit is not None:
        _int_in_range(config.train_limit, 1, 60_000, where, "train_limit")
    images = config.train_limit or 60_000
    trained = math.floor(images * (1 - vs))  # Keras's own split: the last part validates
    if trained == 0 or (vs > 0 and trained == images):
        raise SpecError(_("{where}: {images} training images with validation_split {split} leave {trained} to train "
                          "on and {validated} to validate; use more images or another split.").format(
            where=where, images=i18n.number(images), split=f"{vs:g}", trained=i18n.number(trained),
            validated=i18n.number(images - trained)))
