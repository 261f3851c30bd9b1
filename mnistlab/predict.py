"""Predictions for single drawings and image files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .preprocess import Steps, preprocess_steps

MAX_IMAGE_PIXELS = 25_000_000  # refused above this, before decoding
MAX_SIDE = 1024                # larger images are scaled down on load (preprocessing ends at 28×28 anyway)


# Images a model reads at once when scoring a set: a CNN's maps for 1,000 images took hundreds of MB, and the
# prediction process's growth past its limit had it replaced — every model loaded again — after each scoring.
SET_BATCH = 128


def read_digits(model, images: np.ndarray, batch_size: int = SET_BATCH) -> np.ndarray:
    """The digit a model reads in each of a set of 28×28 uint8 images (ink 255 on 0, as MNIST and the class's
    drawings): scaled to [0, 1] as in training, read a batch at a time, and each image's digit taken by the one rule
    every score uses (metrics.predicted_classes: a diverged model's NaN never wins). The drawings CLI and the
    dashboard's prediction process both score this way."""
    from .metrics import predicted_classes

    images = np.asarray(images, dtype=np.uint8).reshape(-1, 28, 28)
    digits = np.empty(len(images), np.uint8)
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].astype(np.float32)[..., None] / 255.0
        digits[start:start + batch_size] = predicted_classes(np.asarray(model.predict_on_batch(batch)))
    return digits


class ImageError(ValueError):
    """An image file that cannot be used; the message is one sentence."""


@dataclass(frozen=True)
class Prediction:
    digit: int
    confidence: float
    probabilities: np.ndarray  # (10,)
    steps: Steps

    @classmethod
    def from_probabilities(cls, probabilities: np.ndarray, steps: Steps) -> Prediction:
        digit = int(np.argmax(probabilities))
        return cls(digit, float(probabilities[digit]), probabilities, steps)


def probabilities(model, images: np.ndarray) -> np.ndarray:
    """Class probabilities for a few (N, 28, 28) images in [0, 1].

    Calls the model directly: for one image that is several times faster than
    `model.predict`, which sets up a whole data pipeline for each call.
    """
    from .backend import keras

    ops = keras().ops

    batch = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    return ops.convert_to_numpy(model(batch, training=False))


def predict_drawing(model, image: np.ndarray) -> Prediction | None:
    """Preprocess a canvas or image array and classify it; None for a blank canvas or a dot."""
    steps = preprocess_steps(image)
    if steps is None:
        return None
    return Prediction.from_probabilities(probabilities(model, steps.centred[None])[0], steps)


def load_image_file(path: str | Path) -> np.ndarray:
    """Read an image file into an array, refusing what we cannot read faithfully."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path} does not exist or is not a file.")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageError(f"{path} is {image.width}×{image.height} pixels, over the limit of "
                                 f"{MAX_IMAGE_PIXELS:,}; scale it down first.")
            if getattr(image, "is_animated", False):
                raise ImageError(f"{path} is animated ({image.n_frames} frames); save a single frame.")
            if image.mode in ("I;16", "I;16B", "I;16L", "I", "F") or image.mode.endswith("16"):
                raise ImageError(f"{path} is a {image.mode} image (16-bit or more per channel); "
                                 f"save it as an 8-bit grayscale or RGB image.")
            image.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size straight away
            if image.mode not in ("L", "LA", "RGB", "RGBA"):
                image = image.convert("RGBA")
            if max(image.size) > MAX_SIDE:  # a digit needs no more; the full size would cost GBs downstream
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
            return np.asarray(image.convert("RGBA") if image.mode == "LA" else image)
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not an image file Pillow can read.") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{path} is too large to open safely; scale it down first.") from None
    except OSError as err:
        raise ImageError(f"{path} could not be read ({err}).") from None
