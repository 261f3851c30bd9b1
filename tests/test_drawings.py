"""The class's drawings (issue 14, the store and the CLI): kept whole, never lost to a crowd, exported and imported
in Keras's layout with the file checked before it is read, and scored like the test set."""

import io
import json
import zipfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from conftest import drawn_digit
from mnistlab.cli import main
from mnistlab.drawings import MAX_DRAWINGS, DrawingError, Drawings
from mnistlab.preprocess import canvas_to_mnist


def test_a_drawing_round_trips_raw_and_as_the_models_input(tmp_path):
    canvas, label = drawn_digit(3)
    drawings = Drawings(tmp_path)
    kept = drawings.save(canvas, label, session="tab-7f3a")
    [again] = drawings.all()
    assert (again.drawing_id, again.label, again.session) == (kept.drawing_id, label, "tab-7f3a")
    assert np.array_equal(again.input, np.round(255 * canvas_to_mnist(canvas)).astype(np.uint8))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(drawings.canvas(kept.drawing_id)))), canvas)
    x, y, ids = drawings.dataset()
    assert x.shape == (1, 28, 28) and x.dtype == np.uint8 and y.tolist() == [label] and ids == (kept.drawing_id,)
    drawings.delete(kept.drawing_id)
    assert drawings.all() == [] and drawings.dataset()[0].shape == (0, 28, 28)


@pytest.mark.parametrize("canvas, label, phrase", [
    (drawn_digit(0)[0], 10, "0 to 9"),
    (drawn_digit(0)[0], "7", "0 to 9"),
    (np.full((280, 280, 4), 255, np.uint8), 1, "no digit"),
    (np.zeros((2000, 10, 4), np.uint8), 1, "at most 1024×1024"),
    (drawn_digit(0)[0].astype(np.float32), 1, "uint8"),
])
def test_what_is_not_a_labelled_digit_is_refused(tmp_path, canvas, label, phrase):
    with pytest.raises(DrawingError, match=phrase):
        Drawings(tmp_path).save(canvas, label)
    assert Drawings(tmp_path).all() == []
    with pytest.raises(DrawingError, match="not a drawing's id"):
        Drawings(tmp_path).delete("../runs/x")


def _save_many(home, count, offset):
    drawings = Drawings(home)
    return [drawings.save(drawn_digit(offset + i)[0], drawn_digit(offset + i)[1], f"p{offset}").drawing_id
            for i in range(count)]


def test_a_class_saving_at_the_same_moment_loses_nothing(tmp_path):
    """Thirty threads, then three processes with ten each, all at once: every drawing is there once."""
    with ThreadPoolExecutor(30) as pool:
        ids = list(pool.map(lambda i: _save_many(tmp_path, 1, i)[0], range(30)))
    with ProcessPoolExecutor(3) as pool:
        ids += [i for batch in pool.map(_save_many, [tmp_path] * 3, [10] * 3, [30, 40, 50]) for i in batch]
    kept = Drawings(tmp_path).all()
    assert sorted(d.drawing_id for d in kept) == sorted(ids) and len(set(ids)) == 60
    assert not [p for p in (tmp_path / "drawings").iterdir() if p.suffix != ".npz"]  # no temporary file left


def test_export_and_import_round_trip_in_keras_layout(tmp_path):
    first = Drawings(tmp_path / "a")
    for i in range(5):
        first.save(*drawn_digit(i))
    assert first.export(tmp_path / "class.npz") == 5
    with np.load(tmp_path / "class.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"x_test", "y_test"} and npz["x_test"].shape == (5, 28, 28)
    second = Drawings(tmp_path / "b")
    assert second.import_npz(tmp_path / "class.npz") == 5
    assert all(np.array_equal(a, b) for a, b in zip(first.dataset()[:2], second.dataset()[:2]))


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _header_only(path, shape):
    """An .npz whose x_test header promises `shape` with no data behind it (checked before anything is read)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    labels = io.BytesIO()
    np.save(labels, np.zeros(shape[0], np.uint8))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_test.npy", header.getvalue())  # the magic and the header: no data
        archive.writestr("y_test.npy", labels.getvalue())
    return path


@pytest.mark.parametrize("make, phrase", [
    (lambda p: _npz(p, x_test=np.array([object()] * 2, dtype=object), y_test=np.zeros(2, np.uint8)), "pickled"),
    (lambda p: _npz(p, x_test=np.zeros((2, 28, 28), np.float32), y_test=np.zeros(2, np.uint8)), "must be uint8"),
    (lambda p: _npz(p, x_test=np.zeros((2, 28, 27), np.uint8), y_test=np.zeros(2, np.uint8)), "N×28×28"),
    (lambda p: _npz(p, x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.array([1, 12], np.uint8)), "outside 0–9"),
    (lambda p: _npz(p, images=np.zeros((2, 28, 28), np.uint8)), "needs x_test and y_test"),
    (lambda p: p.write_bytes(b"not a zip") and p, "not a readable .npz"),
    (lambda p: _header_only(p, (MAX_DRAWINGS + 1, 28, 28)), "more than the 100,000"),
])
def test_a_malformed_import_is_refused_with_a_sentence(tmp_path, make, phrase):
    path = make(tmp_path / "bad.npz")
    with pytest.raises(DrawingError, match=phrase):
        Drawings(tmp_path / "home").import_npz(path)
    assert Drawings(tmp_path / "home").all() == []


def test_the_cli_adds_lists_exports_imports_and_evaluates(trained_store, tmp_path, monkeypatch, capsys):
    """`drawings evaluate` against a hand computation: the run's own model on the same 28×28 inputs."""
    from mnistlab.store import RunStore

    home, run_id = trained_store
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "home"))
    for i in range(6):
        canvas, label = drawn_digit(i)
        Image.fromarray(canvas).save(tmp_path / f"{i}.png")
        assert main(["drawings", "add", "--label", str(label), str(tmp_path / f"{i}.png")]) == 0
    assert main(["drawings", "add", "--label", "3", str(tmp_path / "missing.png")]) == 2
    capsys.readouterr()
    assert main(["drawings", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 6 and sum(listed["per_digit"]) == 6
    assert main(["drawings", "export", str(tmp_path / "set.npz")]) == 0
    monkeypatch.setenv("MNISTLAB_HOME", str(home))  # the trained run's home, with no drawings yet
    assert main(["drawings", "evaluate", "--run", run_id]) == 2
    assert "no drawings" in capsys.readouterr().err
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "scored"))
    import shutil

    shutil.copytree(home / "runs", tmp_path / "scored" / "runs")
    assert main(["drawings", "import", str(tmp_path / "set.npz")]) == 0
    capsys.readouterr()
    assert main(["drawings", "evaluate", "--run", run_id, "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    x, y, _ = Drawings(tmp_path / "scored").dataset()
    model = RunStore(tmp_path / "scored").load_model(run_id)
    by_hand = np.argmax(model.predict((x / 255.0).astype("float32")[..., None], verbose=0), axis=1)
    assert scored["drawings"] == 6 and scored["accuracy"] == pytest.approx(float(np.mean(by_hand == y)))
    assert scored["sentence"].startswith(f"Quick CNN: {scored['mnist_accuracy']:.1%} on MNIST, ")
    assert scored["sentence"].endswith("on your class's 6 drawings")
