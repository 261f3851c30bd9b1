"""Shared fixtures: real MNIST from MNISTLAB_DATA, a temporary run store, one small trained run."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "dashboard"))  # the dashboard's modules, as `streamlit run` sees them
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist.npz"

if not os.environ.get("MNISTLAB_DATA") and SHARED_MNIST.is_file():
    os.environ["MNISTLAB_DATA"] = str(SHARED_MNIST)
# Dashboards under test start their training process when a run needs it, not with every page: an AppTest per
# test would otherwise leave a warm 1 GiB process per store behind. tests/test_browser_seams.py checks the warm start.
os.environ.setdefault("MNISTLAB_WARM_TRAINER", "0")
# The tests read English, whatever this machine's LANG: the CLI and the dashboard follow MNISTLAB_LANG first.
# tests/test_i18n.py sets the language it checks.
os.environ["MNISTLAB_LANG"] = "en"


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    path = Path(os.environ.get("MNISTLAB_DATA", SHARED_MNIST))
    assert path.exists(), f"Real MNIST is needed: set MNISTLAB_DATA (looked at {path})."
    return path


@pytest.fixture(autouse=True)
def store_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty MNISTLAB_HOME, so nothing touches the user's store."""
    home = tmp_path / "home"
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def small_cnn():
    """A small CNN spec that learns MNIST well in one epoch on a 4,000-image slice (about 2 s)."""
    from mnistlab.spec import Conv2D, Dense, Experiment, Flatten, MaxPooling2D, TrainConfig

    return Experiment("Quick CNN", (Conv2D(16, 3, 1, "relu"), MaxPooling2D(2), Flatten(), Dense(10, "softmax")),
                      TrainConfig(optimizer="Adam", epochs=1, batch_size=32, train_limit=4000, seed=7))


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory, small_cnn, mnist_path):
    """A run store holding one completed run of `small_cnn`; returns (home, run_id)."""
    from mnistlab.recorder import RunRecorder
    from mnistlab.store import RunStore
    from mnistlab.train import train

    home = tmp_path_factory.mktemp("trained-home")
    store = RunStore(home)
    run_id = store.create_run(small_cnn)
    train(small_cnn, [RunRecorder(store, run_id)])
    return home, run_id


def copy_run(source: Path, runs_dir: Path, suffix: str) -> str:
    """A copy of a run folder under a new id (its own id + "-suffix"): another run with the same model."""
    import json
    import shutil

    folder = runs_dir / f"{source.name}-{suffix}"
    shutil.copytree(source, folder)
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps(dict(info, run_id=folder.name)))
    return folder.name


def drawn_digit(index: int):
    """MNIST test digit `index` drawn black on white on a 280×280 RGBA canvas, and its label."""
    import numpy as np
    from PIL import Image

    from mnistlab.data import load_mnist

    (_, _), (x_test, y_test) = load_mnist()
    ink = np.asarray(Image.fromarray(x_test[index]).resize((200, 200), Image.Resampling.BILINEAR))
    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[30:230, 50:250, :3] = 255 - ink[..., None]
    return canvas, int(y_test[index])
