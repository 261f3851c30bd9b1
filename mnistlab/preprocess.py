"""Turn a drawing or an image file into the 28×28 image an MNIST model expects.

MNIST's own recipe: crop the digit to its bounding box, scale the longer side to 20 pixels
keeping the aspect ratio (with anti-aliasing), paste it into a 28×28 field and shift it so its
centre of mass sits at the centre. Done this way, a digit drawn anywhere on the canvas and
at any size reaches the model looking like an MNIST digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

INK_THRESHOLD = 0.15      # a pixel counts as ink above this darkness
MIN_INK_FRACTION = 1e-4   # less ink than this share of the image is a blank canvas
DOT_SIDE_FRACTION = 0.1   # a filled blob smaller than this share of the image's side is a dot
DOT_FILL = 0.6            # ...when it fills at least this share of its bounding box
MNIST_CENTRE = 14.0       # where MNIST's own digits have their centre of mass (row and column index)


@dataclass(frozen=True)
class Steps:
    """Each stage, as float32 images with ink = 1 on background = 0."""
    ink: np.ndarray        # the input as an ink map, full size
    cropped: np.ndarray    # cropped to the ink's bounding box
    scaled: np.ndarray     # longer side scaled to 20 px
    centred: np.ndarray    # 28×28, centre of mass at the centre: what the model sees
    box: tuple[int, int, int, int]  # top, left, bottom, right of the crop in the input


def canvas_to_mnist(image: np.ndarray) -> np.ndarray | None:
    """The (28, 28) float32 image in [0, 1] for a drawing, or None when it is blank or a dot."""
    steps = preprocess_steps(image)
    return None if steps is None else steps.centred


def preprocess_steps(image: np.ndarray) -> Steps | None:
    ink = to_ink(image)
    box = ink_box(ink)
    if box is None:
        return None
    top, left, bottom, right = box
    cropped = ink[top:bottom, left:right]
    scaled = _scale_longer_side(cropped, 20)
    centred = _centre_by_mass(scaled)
    return Steps(ink, cropped, scaled, centred, box)


def to_ink(image: np.ndarray) -> np.ndarray:
    """An ink map in [0, 1] from RGBA, RGB or grayscale, either polarity.

    A canvas with a transparent background keeps its ink in the alpha channel, whatever
    the ink's colour; an opaque
    image is read as brightness, inverted when its border is light (dark ink on light paper).
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"Expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}.")
    if array.size == 0:
        raise ValueError("The image is empty.")
    scale = 65535.0 if array.dtype == np.uint16 else 255.0 if array.dtype.kind in "ui" else 1.0
    pixels = array.astype(np.float32) / scale
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        alpha = pixels[..., 3]
        if alpha.min() < 0.98:
            return alpha
        pixels = pixels[..., :3]
    gray = pixels @ np.float32([0.299, 0.587, 0.114]) if pixels.ndim == 3 else pixels
    return np.clip(1.0 - gray if _border_is_light(gray) else gray, 0, 1).astype(np.float32)


def _border_is_light(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 0.5


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """The ink's bounding box, or None for a blank canvas or a single dot."""
    mask = ink > INK_THRESHOLD
    count = int(mask.sum())
    if count < max(2, MIN_INK_FRACTION * ink.size):
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = bottom - top, right - left
    small = max(height, width) < DOT_SIDE_FRACTION * max(ink.shape)
    if small and count >= DOT_FILL * height * width and max(height, width) < 2 * min(height, width):
        return None
    return int(top), int(left), int(bottom), int(right)


def _scale_longer_side(image: np.ndarray, side: int) -> np.ndarray:
    height, width = image.shape
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    scaled = Image.fromarray(image.astype(np.float32)).resize(size, resample=resample)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0, 1)


def _centre_by_mass(scaled: np.ndarray) -> np.ndarray:
    """Paste into 28×28 at the centre, then shift the centre of mass onto the field's centre."""
    field = np.zeros((28, 28), dtype=np.float32)
    height, width = scaled.shape
    top, left = (28 - height) // 2, (28 - width) // 2
    field[top:top + height, left:left + width] = scaled
    total = field.sum()
    rows, cols = np.indices(field.shape)
    centre_row, centre_col = (rows * field).sum() / total, (cols * field).sum() / total
    shift_row = _bounded_shift(MNIST_CENTRE - centre_row, top, 28 - top - height)
    shift_col = _bounded_shift(MNIST_CENTRE - centre_col, left, 28 - left - width)
    return np.roll(field, (shift_row, shift_col), axis=(0, 1))


def _bounded_shift(wanted: float, room_before: int, room_after: int) -> int:
    """Round the shift, but never push ink off the field (np.roll would wrap it around)."""
    return int(np.clip(round(wanted), -room_before, room_after))


def step_pictures(steps: Steps, canvas_scale: float = 0.5, model_scale: int = 5) -> list[np.ndarray]:
    """The four steps as uint8 pictures (dark ink on white, framed) at two fixed, stated scales, so their sizes can be
    compared: the drawing and its crop at `canvas_scale` of the canvas's pixels, the 20-px digit and the 28×28
    input at `model_scale` screen pixels per model pixel, repeated (no smoothing: each model pixel is a square).
    Shown at exactly these sizes (st.image width = the array's width), the browser does not rescale them."""
    def canvas(image):
        step = round(1 / canvas_scale)
        h, w = (image.shape[0] // step) * step, (image.shape[1] // step) * step
        if h == 0 or w == 0:
            return image
        return image[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))

    def model(image):
        return np.repeat(np.repeat(image, model_scale, axis=0), model_scale, axis=1)

    pictures = (canvas(steps.ink), canvas(steps.cropped), model(steps.scaled), model(steps.centred))
    framed = [np.pad(np.round(255 * (1 - np.clip(p, 0, 1))).astype(np.uint8), 1, constant_values=FRAME)
              for p in pictures]
    return framed


FRAME = 180  # a one-pixel grey frame, so each picture's extent shows on a white page
