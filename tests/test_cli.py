"""The CLI end to end, in subprocesses where exit codes and imports matter."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnistlab.cli import main
from mnistlab.store import RunStore

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, home=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    if home is not None:
        env["MNISTLAB_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "mnistlab", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)


def test_help_does_not_import_tensorflow():
    code = ("import sys, contextlib, io\nfrom mnistlab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['--help'])\n    except SystemExit: pass\n"
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_presets_json(capsys):
    assert main(["presets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 15 and rows[0]["name"] == "MLP 1" and rows[-1]["params"] == 34_826
    assert rows[8]["report_accuracy"] == 0.101


def test_train_json_then_runs_show_predict(tmp_path):
    home = tmp_path / "home"
    spec = {"name": "CLI CNN", "layers": [
        {"type": "Conv2D", "filters": 16, "kernel_size": 3, "strides": 1, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
        {"type": "Dense", "units": 10, "activation": "softmax"}],
        "config": {"optimizer": "Adam", "batch_size": 32, "epochs": 3}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = run_cli("train", "--spec", tmp_path / "spec.json", "--epochs", 1, "--limit", 4000, "--json", home=home)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "completed" and result["metrics"]["accuracy"] > 0.8
    assert Path(result["folder"]).is_dir() and "epoch 1/1" in out.stderr

    runs = run_cli("runs", "--json", home=home)
    table = json.loads(runs.stdout)
    assert [r["name"] for r in table] == ["CLI CNN"] and table[0]["epochs"] == 1

    shown = run_cli("show", result["run_id"][:15], home=home)
    assert shown.returncode == 0 and "Conv2D(16, 3×3, relu)" in shown.stdout and "(13, 13, 16)" in shown.stdout

    from mnistlab.data import load_mnist

    (_, _), (x_test, y_test) = load_mnist()
    image = tmp_path / "digit.png"
    big = Image.fromarray(255 - x_test[0]).resize((300, 300))  # dark ink on white paper, like a scan
    big.save(image)
    predicted = run_cli("predict", "--run", "CLI CNN", image, "--json", home=home)
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["digit"] == int(y_test[0])


def _bad_images(folder: Path) -> dict:
    (folder / "not-an-image.png").write_text("hello")
    Image.fromarray(np.zeros((6000, 5000), np.uint8)).save(folder / "huge.png")
    Image.fromarray(np.zeros((28, 28), np.uint16)).save(folder / "deep.png")
    frames = [Image.fromarray(np.full((28, 28), v, np.uint8)) for v in (0, 255)]
    frames[0].save(folder / "animated.png", save_all=True, append_images=frames[1:])
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(folder / "blank.png")
    return {"missing.png": "does not exist", "not-an-image.png": "not an image file",
            "huge.png": "over the limit", "deep.png": "16-bit", "animated.png": "animated",
            "blank.png": "looks blank"}


def test_predict_bad_files_are_one_sentence(tmp_path, trained_store):
    home, run_id = trained_store
    for name, phrase in _bad_images(tmp_path).items():
        out = run_cli("predict", "--run", run_id, tmp_path / name, home=home)
        assert out.returncode != 0, name
        assert phrase in out.stderr and "Traceback" not in out.stderr, (name, out.stderr)
        assert out.stderr.strip().startswith("error: ") and out.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("args,phrase", [
    (["train", "--preset", "MLP 99"], "No preset named 'MLP 99'"),
    (["show", "nope"], "No run has the id or name 'nope'"),
    (["train", "--preset", "MLP 1", "--epochs", "0"], "epochs must be a whole number from 1 to 1000"),
    (["delete", "nope", "--yes"], "No run has the id or name 'nope'"),
    (["train", "--preset", "MLP 1", "--seeds", "1,x"], "is not a comma-separated list of whole numbers"),
    (["train", "--preset", "MLP 1", "--seeds", "3,3"], "repeats a seed"),
    (["train", "--preset", "MLP 1", "--repeats", "0"], "give at least 1"),
    (["train", "--preset", "MLP 1", "--repeats", "21"], "more than 20 repeats"),
    (["reproduce", "--seeds", "0"], "give 1 to 20 runs per experiment"),
])
def test_errors_are_sentences_with_exit_code(args, phrase, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert phrase in err and err.startswith("error: ")


def test_malformed_spec_file(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"name": "x", "layers": [{"type": "Dense", "units": 0, '
                                       '"activation": "relu"}, {"type": "Dense", "units": 10, "activation": "softmax"}]}')
    assert main(["train", "--spec", str(tmp_path / "bad.json")]) == 2
    assert "Layer 1 (Dense): its input is a 28×28×1 map" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{")
    assert main(["train", "--spec", str(tmp_path / "broken.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["train", "--spec", str(tmp_path / "absent.json")]) == 2
    assert "Cannot read the spec file" in capsys.readouterr().err


def test_rename_and_delete(trained_store, tmp_path, capsys, monkeypatch):
    import shutil

    home = tmp_path / "copy"
    shutil.copytree(trained_store[0], home)
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    run_id = trained_store[1]
    assert main(["rename", run_id, "Renamed"]) == 0
    assert main(["show", "Renamed", "--json"]) == 0
    assert "Renamed" in capsys.readouterr().out
    assert main(["delete", run_id, "--yes"]) == 0
    assert main(["runs", "--json"]) == 0
    assert capsys.readouterr().out.strip().endswith("[]")


def test_reproduce_is_resumable_and_writes_markdown(tmp_path):
    home = tmp_path / "home"
    out_md = tmp_path / "repro.md"
    first = run_cli("reproduce", "--only", "CNN 3", "--epochs", 1, "--limit", 3000, "--output", out_md, home=home)
    assert first.returncode == 0, first.stderr
    assert "| CNN 3 | 11,850 | 0.9801 |" in out_md.read_text()
    assert "CNN 3, seed 42: training" in first.stderr
    again = run_cli("reproduce", "--only", "CNN 3", "--epochs", 1, "--limit", 3000, "--seeds", 2, home=home)
    assert again.returncode == 0, again.stderr
    assert "seed 42: already reproduced" in again.stderr and "CNN 3, seed 43: training" in again.stderr
    assert len(list((home / "runs").iterdir())) == 2
    assert "| Experiment | Report acc. | Seeds | Ours mean ± std |" in again.stdout
    assert re.search(r"\| CNN 3 \| 0\.9801 \| 2 \| 0\.\d{4} ± 0\.\d{4} \| 0\.\d{4} – 0\.\d{4} \| (yes|no) \|", again.stdout)


def test_train_repeats_make_one_group_of_runs(tmp_path, monkeypatch, capsys):
    from mnistlab.groups import groups

    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "home"))
    assert main(["train", "--preset", "MLP 1", "--epochs", "1", "--limit", "1000", "--repeats", "2", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert [run["seed"] for run in trained] == [1, 2] and all(run["status"] == "completed" for run in trained)
    assert main(["train", "--preset", "MLP 1", "--epochs", "1", "--limit", "1000", "--seeds", "7"]) == 0
    assert main(["train", "--preset", "MLP 2", "--epochs", "1", "--limit", "1000", "--seed", "1"]) == 0
    found = groups(RunStore(tmp_path / "home").list_runs().runs)
    assert [(group.name, group.seeds) for group in found] == [("MLP 2", (1,)), ("MLP 1", (1, 2, 7))]
    spread = found[1].spread()
    assert spread.n == 3 and spread.low <= spread.mean <= spread.high


def test_inspect_prints_every_layer_and_writes_pictures(tmp_path, trained_store, capsys, monkeypatch):
    from conftest import drawn_digit

    home, run_id = trained_store
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    canvas, label = drawn_digit(0)
    Image.fromarray(canvas).save(tmp_path / "digit.png")
    assert main(["inspect", "--run", run_id, str(tmp_path / "digit.png"), "--json", "--output",
                 str(tmp_path / "pics")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["digit"] == label and [layer["kind"] for layer in report["layers"]] == [
        "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert report["layers"][0]["shape"] == [26, 26, 16] and np.array(report["saliency"]).shape == (28, 28)
    assert report["linear"] is False
    names = sorted(Path(path).name for path in report["pictures"])
    assert names == ["first-layer-weights.png", "input.png", "layer01-conv2d_1.png", "layer02-max_pooling2d_2.png",
                     "saliency-occlusion.png"]
    assert all(Image.open(tmp_path / "pics" / name).size[0] >= 28 for name in names)
    assert main(["inspect", "--run", run_id, str(tmp_path / "digit.png")]) == 0
    text = capsys.readouterr().out
    assert "conv2d_1" in text and "26×26×16" in text


def test_inspect_bad_inputs_are_one_sentence(tmp_path, trained_store):
    home, run_id = trained_store
    for name, phrase in _bad_images(tmp_path).items():
        out = run_cli("inspect", "--run", run_id, tmp_path / name, home=home)
        assert out.returncode == 2 and phrase in out.stderr and "Traceback" not in out.stderr, (name, out.stderr)
    Image.fromarray(np.full((50, 50), 255, np.uint8)).save(tmp_path / "blank.png")
    out = run_cli("inspect", "--run", run_id, tmp_path / "blank.png", home=home)
    assert out.returncode == 2 and "looks blank" in out.stderr
    from mnistlab.store import RunStore

    queued = RunStore(home).create_run(RunStore(home).load(run_id).experiment)  # no model yet
    from conftest import drawn_digit

    Image.fromarray(drawn_digit(1)[0]).save(tmp_path / "digit.png")
    out = run_cli("inspect", "--run", queued, tmp_path / "digit.png", home=home)
    RunStore(home).delete(queued)
    assert out.returncode == 2 and "has no saved model" in out.stderr, out.stderr


def test_export_writes_a_standalone_script_that_trains_the_same_network(trained_store, tmp_path, monkeypatch,
                                                                       mnist_path):
    """The script imports neither mnistlab nor anything of ours, builds the run's network (same parameter count),
    trains it on a slice and prints the test accuracy; the model file is the run's own."""
    import shutil

    home, run_id = trained_store
    shutil.copytree(home, tmp_path / "home")
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "home"))
    script, model = tmp_path / "out" / "run.py", tmp_path / "out" / "model.keras"
    script.parent.mkdir()
    assert main(["export", run_id, "--script", str(script), "--model", str(model)]) == 0
    run = RunStore(tmp_path / "home").load(run_id)
    assert model.read_bytes() == (run.path / "model.keras").read_bytes()
    text = script.read_text()
    assert "mnistlab" not in text.replace("MNIST Lab", "") and f"keras.utils.set_random_seed({run.experiment.config.seed})" in text
    out = subprocess.run([sys.executable, str(script), "--data", str(mnist_path), "--limit", "600", "--epochs", "1"],
                         capture_output=True, text=True, cwd=script.parent, timeout=240,
                         env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    from mnistlab.spec import total_params

    assert f"parameters: {total_params(run.experiment):,}" in out.stdout
    assert re.search(r"test accuracy 0\.\d{4} · Keras precision 0\.\d{4} · Keras recall 0\.\d{4}", out.stdout)


def test_export_refuses_what_it_cannot_do(trained_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTLAB_HOME", str(trained_store[0]))
    assert main(["export", trained_store[1]]) == 2
    assert "Say what to export" in capsys.readouterr().err
    assert main(["export", trained_store[1], "--script", str(tmp_path / "missing" / "run.py")]) == 2
    assert "Cannot write" in capsys.readouterr().err


def test_a_spec_is_validated_once_per_training_call_and_spec_json_is_not_read_again(tmp_path, monkeypatch, capsys):
    """The CLI, the store, train() and build_model() each ask whether the spec is valid; the first asks at a cost.
    Each epoch's run.json change reads the folder again, but reuses the spec parsed when the run was created."""
    from mnistlab import memory, spec, store

    counts = {"validations": 0, "memory estimates": 0, "spec.json reads": 0}

    def counted(module, name, key, when=lambda *args: True):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            counts[key] += bool(when(*args))
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    counted(spec, "_layer_rows", "validations")
    counted(memory, "estimate", "memory estimates")
    counted(store, "_read_json", "spec.json reads", when=lambda path: path.name == "spec.json")
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "home"))
    path = tmp_path / "spec.json"
    path.write_text(spec.Experiment("Counted once", (spec.Flatten(), spec.Dense(24, "relu"), spec.Dense(10, "softmax")),
                                    spec.TrainConfig(epochs=3, train_limit=1000, seed=8128)).to_json())
    assert main(["train", "--spec", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    assert counts == {"validations": 1, "memory estimates": 1, "spec.json reads": 0}
