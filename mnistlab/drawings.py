"""The class's drawings: digits students drew and labelled, kept as a test set every model can be scored on.

One file per drawing under $MNISTLAB_HOME/drawings/, `<time>-<random>.npz`: the canvas as the student
drew it (PNG bytes), the 28×28 input the models read (the Draw page's preprocessing), the label the
student meant, when, and an anonymous tag of the browser session — no names. Each file is written
whole and renamed into place, and no two saves share a file, so thirty students saving at once lose
nothing and a crash leaves no half drawing.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from .home import default_home
from .i18n import _, ngettext, number, percent
from .metrics import confusion_matrix
from .npzfile import NpzError, read_npz
from .preprocess import canvas_to_mnist
from .files import atomic_write_bytes, remove_stale_temporaries
from .store import StoreError

MAX_DRAWINGS = 100_000      # in the set, and in a file imported
MAX_CANVAS_SIDE = 1024      # px: a drawing larger than this is not a canvas drawing
MAX_FILE_BYTES = 2 * 2**20  # one drawing's file: a 280×280 canvas PNG is a few KB
MAX_IMPORT_BYTES = 100 * 2**20  # an .npz to import: 100,000 images of 28×28 are 78 MB uncompressed
ID = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{8}$")


class DrawingError(ValueError):
    """A drawing or a drawings file that cannot be used; the message is one sentence."""


@dataclass(frozen=True)
class Drawing:
    drawing_id: str
    label: int
    created: str
    session: str
    input: np.ndarray  # 28×28 uint8, ink 255 on 0, as MNIST


class Drawings:
    """The drawings folder of one MNIST Lab home."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.folder = Path(home or default_home()) / "drawings"

    def save(self, canvas: np.ndarray, label: int, session: str = "") -> Drawing:
        """Keep one labelled canvas (H×W×4 or H×W×3 uint8, as the Draw page's canvas gives it). Raises DrawingError
        for a label outside 0–9, an oversized image, or a canvas with no digit on it."""
        canvas = np.asarray(canvas)
        if not (isinstance(label, (int, np.integer)) and 0 <= int(label) <= 9):
            raise DrawingError(f"A drawing's label is the digit it shows, 0 to 9; got {label!r}.")
        if canvas.ndim not in (2, 3) or canvas.dtype != np.uint8 or max(canvas.shape[:2]) > MAX_CANVAS_SIDE:
            raise DrawingError(f"A drawing is a uint8 image of at most {MAX_CANVAS_SIDE}×{MAX_CANVAS_SIDE} pixels; "
                               f"got {canvas.dtype} {canvas.shape}.")
        digit = canvas_to_mnist(canvas)
        if digit is None:
            raise DrawingError(_("There is no digit on this drawing to keep."))
        if len(self._files()) >= MAX_DRAWINGS:
            raise DrawingError(_("The class's set already holds {count} drawings; delete some first.").format(
                count=number(MAX_DRAWINGS)))
        remove_stale_temporaries(self.folder)  # what a save killed before its rename left
        return self._write(_png(canvas), np.round(255 * digit).astype(np.uint8), int(label), session)

    def count(self) -> int:
        """How many drawings the set holds (the files are counted, not read)."""
        return len(self._files())

    def all(self) -> list[Drawing]:
        """Every drawing, oldest first; a file that is not one of ours is skipped."""
        found = []
        for path in self._files():
            drawing = _read(path)
            if drawing is not None:
                found.append(drawing)
        return found

    def dataset(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """The drawings as a test set in MNIST's layout: (N, 28, 28) uint8 images, (N,) uint8 labels, and their ids.
        Read once per set: a drawing's file never changes, so the set is known by its files' names."""
        return _read_set_of(tuple(self._files()))[:3]

    def saved_in(self, session: str) -> set[str]:
        """The ids of the drawings one browser session saved (read with the set, once per set)."""
        _images, _labels, ids, sessions = _read_set_of(tuple(self._files()))
        return {drawing_id for drawing_id, saved_by in zip(ids, sessions) if saved_by == session}

    def canvas(self, drawing_id: str) -> bytes:
        """The PNG of the canvas as it was drawn."""
        path = self._path(drawing_id)
        try:
            arrays, _size = read_npz(path, lambda headers: [*_drawing_members(headers), "canvas_png"])
        except (OSError, NpzError) as err:
            raise DrawingError(f"Drawing {drawing_id} cannot be read: it {err}.") from None
        return arrays["canvas_png"].tobytes()

    def one(self, drawing_id: str) -> Drawing | None:
        """One drawing by its id, or None when there is no such drawing (deleted, or not one of ours)."""
        return _read(self._path(drawing_id))

    def delete(self, drawing_id: str) -> None:
        self._path(drawing_id).unlink(missing_ok=True)

    def delete_all(self) -> int:
        files = self._files()
        for path in files:
            path.unlink(missing_ok=True)
        return len(files)

    def export(self, path: str | os.PathLike) -> int:
        """Write the set as an .npz in Keras's test layout (x_test, y_test); returns how many drawings."""
        Path(path).write_bytes(self.npz_bytes())
        return len(self.dataset()[1])

    def npz_bytes(self) -> bytes:
        """The set as the bytes of an .npz in Keras's test layout (x_test, y_test)."""
        x, y, _ids = self.dataset()
        buffer = io.BytesIO()
        np.savez_compressed(buffer, x_test=x, y_test=y)
        return buffer.getvalue()

    def import_npz(self, path: str | os.PathLike, session: str = "imported") -> int:
        """Add every image of an .npz in Keras's layout (x_test and y_test, or x_train and y_train): checked from
        its headers before anything is read (uint8, N×28×28, at most MAX_DRAWINGS, labels 0–9), never unpickled."""
        x, y = _read_set(Path(path))
        remove_stale_temporaries(self.folder)
        if len(self._files()) + len(y) > MAX_DRAWINGS:
            raise DrawingError(_("Importing {count} drawings would take the set past {most}.").format(
                count=number(len(y)), most=number(MAX_DRAWINGS)))
        written = []
        try:
            for image, label in zip(x, y):
                written.append(self._write(_png(255 - image), image, int(label), session))  # dark ink on white
        except DrawingError:
            for drawing in written:  # all or nothing: a half import would be a set nobody chose
                self.delete(drawing.drawing_id)
            raise
        return len(y)

    def _write(self, canvas_png: bytes, digit: np.ndarray, label: int, session: str) -> Drawing:
        now = datetime.now(timezone.utc)
        drawing_id = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}"
        created = now.isoformat(timespec="seconds")
        session = re.sub(r"[^0-9A-Za-z_-]", "", str(session))[:32]  # an anonymous tag, never a name or path
        buffer = io.BytesIO()
        np.savez(buffer, canvas_png=np.frombuffer(canvas_png, np.uint8), input=digit, label=np.uint8(label),
                 created=np.array(created), session=np.array(session))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.folder / f"{drawing_id}.npz", buffer.getvalue())
        except StoreError as err:
            raise DrawingError(f"The drawing could not be kept: {err}") from None
        except OSError as err:
            raise DrawingError(f"The drawing could not be kept in {self.folder}: {err.strerror or err}.") from None
        return Drawing(drawing_id, label, created, session, digit)

    def _path(self, drawing_id: str) -> Path:
        if not ID.match(str(drawing_id)):
            raise DrawingError(f"{drawing_id!r} is not a drawing's id.")
        return self.folder / f"{drawing_id}.npz"

    def _files(self) -> list[Path]:
        try:
            return sorted(path for path in self.folder.iterdir() if ID.match(path.stem) and path.suffix == ".npz")
        except OSError:
            return []


@lru_cache(maxsize=4)
def _read_set_of(files: tuple[Path, ...]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The drawings' images, labels, ids and the sessions that saved them."""
    drawings = [d for d in map(_read, files) if d is not None]
    x = np.stack([d.input for d in drawings]) if drawings else np.zeros((0, 28, 28), np.uint8)
    x.setflags(write=False)  # shared by every caller through the cache
    return (x, np.array([d.label for d in drawings], np.uint8), tuple(d.drawing_id for d in drawings),
            tuple(d.session for d in drawings))


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _read(path: Path) -> Drawing | None:
    """One drawing's file, or None for a file that is not one of ours (a FIFO, another archive, a member whose header
    does not fit a drawing): its headers are checked before a byte of data is read."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        arrays, _size = read_npz(path, _drawing_members)
    except (OSError, NpzError):
        return None
    label = int(arrays["label"])
    if label > 9:
        return None
    return Drawing(path.stem, label, str(arrays["created"]), str(arrays["session"]), arrays["input"])


def _drawing_members(headers: dict) -> list[str]:
    """The members a drawing's file holds and their headers (the canvas is read only when asked for)."""
    text = lambda header: header[0] == () and header[1].kind == "U" and header[1].itemsize <= 4 * 64  # noqa: E731
    fits = (set(headers) == {"canvas_png", "input", "label", "created", "session"}
            and headers["input"] == ((28, 28), np.dtype(np.uint8)) and headers["label"] == ((), np.dtype(np.uint8))
            and len(headers["canvas_png"][0]) == 1 and headers["canvas_png"][0][0] <= MAX_FILE_BYTES
            and headers["canvas_png"][1] == np.uint8 and text(headers["created"]) and text(headers["session"]))
    if not fits:
        raise NpzError("does not hold a drawing's arrays")
    return ["input", "label", "created", "session"]


def _read_set(path: Path) -> tuple[np.ndarray, np.ndarray]:
    where = _("The drawings file {path}").format(path=path)
    try:
        arrays, _size = read_npz(path, lambda headers: _set_members(headers, where))
    except NpzError as err:
        raise DrawingError(_("{file} is not a readable .npz: it {problem}.").format(file=where, problem=err)) from None
    x, y = arrays.values()
    if y.size and y.max() > 9:
        raise DrawingError(_("{file}: its labels include {label}, outside 0–9.").format(file=where, label=int(y.max())))
    return x, y


def _set_members(headers: dict, where: str) -> tuple[str, str]:
    """Which images and labels to import (Keras's test layout, else its training layout), checked from their
    headers; any member beyond Keras's four refuses the file."""
    x_key, y_key = ("x_test", "y_test") if "x_test" in headers else ("x_train", "y_train")
    if x_key not in headers or y_key not in headers:
        raise DrawingError(_("{file} needs x_test and y_test (Keras's layout); it holds {found}.").format(
            file=where, found=", ".join(headers) or _("nothing")))
    unexpected = sorted(set(headers) - {"x_test", "y_test", "x_train", "y_train"})
    if unexpected:
        raise DrawingError(_("{file} also holds {found}; only Keras's layout (x_test, y_test) is read.").format(
            file=where, found=", ".join(unexpected)))
    (x_shape, x_dtype), (y_shape, y_dtype) = headers[x_key], headers[y_key]
    if x_dtype != np.uint8 or y_dtype != np.uint8:
        raise DrawingError(_("{file}: {x} and {y} must be uint8, not {x_type} and {y_type}.").format(
            file=where, x=x_key, y=y_key, x_type=x_dtype, y_type=y_dtype))
    if len(x_shape) != 3 or x_shape[1:] != (28, 28) or y_shape != (x_shape[0],):
        raise DrawingError(_("{file}: {x} must be N×28×28 and {y} N labels; got {x_shape} and {y_shape}.").format(
            file=where, x=x_key, y=y_key, x_shape=x_shape, y_shape=y_shape))
    if x_shape[0] > MAX_DRAWINGS:
        raise DrawingError(_("{file} holds {count} images, more than the {most} a set may hold.").format(
            file=where, count=number(x_shape[0]), most=number(MAX_DRAWINGS)))
    return x_key, y_key


@dataclass(frozen=True)
class ClassScore:
    """One model's digits for the class's drawings, scored."""
    accuracy: float
    per_digit: list[float | None]  # accuracy on the drawings of each digit; None for a digit nobody drew
    confusion: list[list[int]]     # rows: the digit meant; columns: the digit read
    wrong: np.ndarray              # indexes of the drawings read as another digit


def class_score(labels: np.ndarray, predicted: np.ndarray) -> ClassScore:
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    per_digit = [float(np.mean(predicted[labels == d] == d)) if np.any(labels == d) else None for d in range(10)]
    return ClassScore(float(np.mean(predicted == labels)) if labels.size else 0.0, per_digit,
                      confusion_matrix(labels, predicted).tolist(), np.flatnonzero(predicted != labels))


def gap_sentence(name: str, mnist_accuracy: float, class_accuracy: float, count: int) -> str:
    """E.g. "CNN 5: 99.2% on MNIST, 91.0% on your class's 240 drawings"."""
    return ngettext("{name}: {mnist} on MNIST, {class_} on your class's {count} drawing",
                    "{name}: {mnist} on MNIST, {class_} on your class's {count} drawings", count).format(
        name=name, mnist=percent(mnist_accuracy), class_=percent(class_accuracy), count=number(count))
