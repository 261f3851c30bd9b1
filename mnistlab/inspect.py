"""Inside a trained network: what each layer outputs, what the first layer learned, which pixels decided.

Every function takes a Keras model as the store loads it (a `keras.Sequential` built by
`mnistlab.build`) and one 28×28 image with ink = 1 on background = 0 (`canvas_to_mnist`'s output,
or a test image scaled to [0, 1]). TensorFlow is imported only when one of them is called.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from . import backend

OCCLUSION_PATCH = 4  # px: about a pen stroke's width at 28×28
OCCLUSION_STRIDE = 2
CHANNELS_SHOWN = 64  # per layer in a view: more would be too small to see, and cost the page to draw
# Layers a view skips: a reshape, and layers that pass their input through unchanged at inference.
NOTHING_NEW = frozenset({"Flatten", "Dropout", "RandomRotation", "RandomTranslation", "RandomZoom"})


@dataclass(frozen=True)
class LayerOutput:
    name: str
    kind: str             # the Keras class: Conv2D, MaxPooling2D, Dropout, Flatten, Dense
    shape: tuple          # one image's output shape: (H, W, C) for maps, (units,) for vectors
    values: np.ndarray    # float32, that shape


@dataclass(frozen=True)
class LinearTemplates:
    """A network whose hidden layers are all linear is one linear map: logits = image · templates + biases."""
    templates: np.ndarray  # (10, 28, 28): how much each pixel's ink adds to each digit's logit
    biases: np.ndarray     # (10,)


@dataclass(frozen=True)
class Inspection:
    """Everything the dashboard's view of one image shows, as plain arrays (it crosses a process boundary)."""
    layers: list[LayerOutput]    # every layer but NOTHING_NEW ones; a map layer's values cut to its first
                                 # CHANNELS_SHOWN channels (its shape still says how many it has)
    first_layer: np.ndarray      # first_layer_weights, at most CHANNELS_SHOWN of them
    first_layer_kind: str        # "filters" (Conv2D) or "units" (Dense)
    templates: LinearTemplates | None
    saliency: np.ndarray         # occlusion, for the predicted digit
    probabilities: np.ndarray    # (10,)

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))


def inspection(model, image: np.ndarray, channels_shown: int = CHANNELS_SHOWN) -> Inspection:
    """One image seen through the whole network: two forward passes (every layer's output; the occluded batch)."""
    outputs = activations(model, image)
    shown = []
    for out in outputs:
        if out.kind in NOTHING_NEW:
            continue
        if len(out.shape) == 3:
            out = LayerOutput(out.name, out.kind, out.shape, out.values[..., :channels_shown])
        shown.append(out)
    first = first_layer_weights(model)
    probabilities = outputs[-1].values
    first_kind = next(type(layer).__name__ for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense"))
    return Inspection(shown, first[:channels_shown], "filters" if first_kind == "Conv2D" else "units",
                      linear_templates(model),
                      saliency(model, image, "occlusion", int(np.argmax(probabilities))), probabilities)


def activations(model, image: np.ndarray) -> list[LayerOutput]:
    """Every layer's output for one image, in order, from a single forward pass (Dropout passes its input
    through, as at inference). The last one is the ten probabilities."""
    outputs = _probe(model)(_batch(image), training=False)
    return [LayerOutput(layer.name, type(layer).__name__, tuple(out.shape[1:]), np.asarray(out)[0])
            for layer, out in zip(model.layers, outputs)]


def first_layer_weights(model) -> np.ndarray:
    """What the first layer looks for: the first Conv2D's filters as (filters, k, k) — one input channel — or,
    when the network starts with Flatten → Dense, each unit's 784 weights as a 28×28 image, (units, 28, 28)."""
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kernel = np.asarray(layer.get_weights()[0])  # (k, k, 1, filters)
            return np.transpose(kernel[:, :, 0, :], (2, 0, 1))
        if kind == "Dense":
            return np.asarray(layer.get_weights()[0]).T.reshape(-1, 28, 28)
    raise ValueError("The network has neither a Conv2D nor a Dense layer.")


def linear_templates(model) -> LinearTemplates | None:
    """The ten class templates of a network that is linear up to its softmax (the report's MLP 1–3: Dense
    layers with the linear activation, Flatten and Dropout), or None for any network with a non-linearity.
    However many units such a network has, it can only draw one template per digit: that is why MLP 1, 2 and 3
    all stop near 92%."""
    weights, biases = None, np.zeros(784)  # None: the identity (784 × 784), never built
    layers = model.layers
    for number, layer in enumerate(layers, start=1):
        kind = type(layer).__name__
        if kind in NOTHING_NEW or kind == "InputLayer":  # the identity at inference
            continue
        if kind != "Dense":
            return None
        activation = layer.get_config().get("activation")
        if number < len(layers) and activation != "linear":
            return None
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        weights, biases = (kernel if weights is None else weights @ kernel), biases @ kernel + bias
    if weights is None or weights.shape[1] != 10:
        return None
    return LinearTemplates(weights.T.reshape(10, 28, 28).astype(np.float32), biases.astype(np.float32))


def logits(model, image: np.ndarray) -> np.ndarray:
    """The output layer's input to its softmax (the scores before they become probabilities)."""
    out = activations(model, image)
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    return out[-2].values.reshape(-1) @ np.asarray(kernel) + np.asarray(bias)


def saliency(model, image: np.ndarray, method: str = "occlusion", digit: int | None = None) -> np.ndarray:
    """A 28×28 map of how much each pixel drove the probability of `digit` (the predicted one by default).

    occlusion: slide a 4×4 blank patch over the image (stride 2, every position in one batch) and record how much
        the digit's probability drops; a pixel gets the mean drop of the patches that cover it.
    gradient_x_input: the gradient of the digit's probability with respect to each pixel, times the pixel.
    """
    x = _batch(image)
    if method == "occlusion":
        return _occlusion(model, x, digit)
    if method == "gradient_x_input":
        if digit is None:
            digit = int(np.argmax(model(x, training=False)[0]))
        return _gradient_x_input(model, x, digit)
    raise ValueError(f"Unknown saliency method {method!r}; use 'occlusion' or 'gradient_x_input'.")


def _occlusion(model, x: np.ndarray, digit: int | None) -> np.ndarray:
    size, stride = OCCLUSION_PATCH, OCCLUSION_STRIDE
    corners = [(top, left) for top in range(0, 28 - size + 1, stride) for left in range(0, 28 - size + 1, stride)]
    batch = np.repeat(x, len(corners) + 1, axis=0)  # the image itself first: one pass gives the base and the drops
    for i, (top, left) in enumerate(corners, start=1):
        batch[i, top:top + size, left:left + size, 0] = 0.0
    probabilities = np.asarray(model(batch, training=False))
    digit = int(np.argmax(probabilities[0])) if digit is None else digit
    drops = probabilities[0, digit] - probabilities[1:, digit]
    total, count = np.zeros((28, 28)), np.zeros((28, 28))
    for drop, (top, left) in zip(drops, corners):
        total[top:top + size, left:left + size] += drop
        count[top:top + size, left:left + size] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)


def _gradient_x_input(model, x: np.ndarray, digit: int) -> np.ndarray:
    backend.keras()
    import tensorflow as tf

    tensor = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        probability = model(tensor, training=False)[:, digit]
    gradient = tape.gradient(probability, tensor)
    return (np.asarray(gradient) * x)[0, :, :, 0].astype(np.float32)


_PROBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _probe(model):
    """A model with every layer's output as its outputs, built once per model."""
    probe = _PROBES.get(model)
    if probe is None:
        keras = backend.keras()
        probe = _PROBES[model] = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    return probe


def _batch(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"An image to inspect is 28×28; this one is {image.shape}.")
    return image.reshape(1, 28, 28, 1)


def summary(model, image: np.ndarray) -> dict:
    """What `python -m mnistlab inspect` prints: the prediction, each layer's shape and statistics of its output
    (for ReLU layers the share of units that fired), the occlusion saliency, and the linear templates' note."""
    outputs = activations(model, image)
    probabilities = outputs[-1].values.astype(float)
    digit = int(np.argmax(probabilities))
    layers = [{"name": o.name, "kind": o.kind, "shape": list(o.shape), "min": float(o.values.min()),
               "mean": float(o.values.mean()), "max": float(o.values.max()),
               "active": float((o.values > 0).mean())} for o in outputs]
    return {"digit": digit, "confidence": float(probabilities[digit]), "probabilities": probabilities.tolist(),
            "layers": layers, "saliency": saliency(model, image, "occlusion", digit).round(5).tolist(),
            "linear": linear_templates(model) is not None}


def write_pictures(model, image: np.ndarray, folder) -> list:
    """PNGs of what `summary` describes, into `folder` (made if missing): the input, each map layer's channels
    side by side, the first layer's weights, the occlusion saliency, and the templates of a linear network.
    Values at one scale per picture: grey is 0, white the largest positive, black the largest negative
    (the input: ink black on white). Returns the paths written."""
    from pathlib import Path

    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pictures = {"input": 255 - np.round(255 * np.clip(image, 0, 1)).astype(np.uint8)}
    for number, out in enumerate(activations(model, image), start=1):
        if len(out.shape) == 3:
            pictures[f"layer{number:02d}-{out.name}"] = _signed(_tiles(np.moveaxis(out.values, -1, 0)))
    pictures["first-layer-weights"] = _signed(_tiles(first_layer_weights(model)[:64]))
    pictures["saliency-occlusion"] = _signed(saliency(model, image, "occlusion"))
    templates = linear_templates(model)
    if templates is not None:
        pictures["linear-templates"] = _signed(_tiles(templates.templates))
    written = []
    for name, picture in pictures.items():
        path = folder / f"{name}.png"
        scale = max(1, 280 // max(picture.shape))
        Image.fromarray(np.kron(picture, np.ones((scale, scale), np.uint8))).save(path)
        written.append(path)
    return written


def _tiles(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """Several 2-D maps in one row-major grid, as square as it goes, separated by NaN (drawn grey)."""
    count, height, width = maps.shape
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    grid = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, np.float32)
    for i, single in enumerate(maps):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        grid[top:top + height, left:left + width] = single
    return grid


def _signed(values: np.ndarray) -> np.ndarray:
    peak = float(np.nanmax(np.abs(values))) or 1.0
    scaled = 128 + 127 * np.nan_to_num(values / peak, nan=0.0)
    return np.round(scaled).astype(np.uint8)
