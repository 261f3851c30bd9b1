"""A run's model.keras: saved whole, and loaded only within limits and with Keras's safe mode, since a model file
is something a user can copy in from anywhere."""

from __future__ import annotations

import os
import secrets
import zipfile
from pathlib import Path

from .files import StoreError

MODEL_ENTRY_LIMITS = {  # bytes each entry of a model.keras may unpack to (MAX_PARAMS floats, with optimizer slots)
    "config.json": 10 * 2**20, "metadata.json": 2**20, "model.weights.h5": 256 * 2**20, "other": 10 * 2**20}


def check_model_archive(path: Path) -> None:
    """Refuse a model file whose entries would unpack past MODEL_ENTRY_LIMITS, before Keras reads any of it:
    a config.json padded to 2 GiB zips to 2 MB (under Keras's own zip-bomb floor) and took 4.8 GB to load."""
    refused = f"The model file {path} could not be loaded safely"
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise StoreError(f"{refused} (not a Keras archive: {first_line(err)}).") from None
    for entry in entries:
        limit = MODEL_ENTRY_LIMITS.get(entry.filename, MODEL_ENTRY_LIMITS["other"])
        if entry.file_size > limit:
            raise StoreError(f"{refused} ({entry.filename} would unpack to {entry.file_size:,} bytes, over the "
                             f"limit of {limit:,}).")
    if len(entries) > 100:
        raise StoreError(f"{refused} ({len(entries)} entries; a Keras model has a handful).")


def first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "no detail"



def save_model(folder: Path, model) -> None:
    """Save `model` as folder/model.keras, whole: to a temporary name first, then renamed over the old file."""
    tmp = folder / f".model-{secrets.token_hex(4)}.keras"
    try:
        model.save(tmp)
        os.replace(tmp, folder / "model.keras")
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"Cannot save the model in {folder}: {err.strerror or err}.") from None


def load_model(path: Path):
    """The Keras model in `path`, refused before Keras reads it when over the limits, then loaded in safe mode
    (no arbitrary code); a tampered or foreign file is a StoreError, never a crash of the caller."""
    check_model_archive(path)
    from .backend import keras

    keras = keras()
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:
        raise StoreError(f"The model file {path} could not be loaded safely "
                         f"({type(err).__name__}: {first_line(err)}).") from None
