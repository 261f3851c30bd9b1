"""Augmentation layers (issue 14): RandomRotation, RandomTranslation, RandomZoom — 0 parameters, shapes unchanged,
validated like every layer, in the spec's JSON, and working in build, train, inspect and export."""

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from mnistlab.presets import CNN5_AUGMENTED, get_preset
from mnistlab.spec import (Dense, Experiment, Flatten, RandomRotation, RandomTranslation, RandomZoom, SpecError,
                           TrainConfig, total_params, validate)


def test_they_add_no_parameters_and_keep_the_shape():
    rows = validate(CNN5_AUGMENTED)
    assert [(r.kind, r.output_shape, r.params) for r in rows[:3]] == [
        ("RandomRotation", (28, 28, 1), 0), ("RandomTranslation", (28, 28, 1), 0), ("RandomZoom", (28, 28, 1), 0)]
    assert [r.description for r in rows[:3]] == ["RandomRotation(±18°)", "RandomTranslation(±10%)", "RandomZoom(±10%)"]
    assert total_params(CNN5_AUGMENTED) == get_preset("CNN 5").params == 34_826
    assert Experiment.from_json(CNN5_AUGMENTED.to_json()) == CNN5_AUGMENTED


@pytest.mark.parametrize("layers, phrase", [
    ((RandomRotation(0.0), Flatten()), "Layer 1 (RandomRotation): factor must be a number in (0, 0.5], got 0.0"),
    ((RandomZoom(0.6), Flatten()), "Layer 1 (RandomZoom): factor must be a number in (0, 0.5], got 0.6"),
    ((RandomTranslation("x"), Flatten()), "Layer 1 (RandomTranslation): factor must be a number"),
    ((Flatten(), RandomRotation(0.1)), "Layer 2 (RandomRotation)"),
])
def test_a_bad_factor_or_place_names_the_layer_and_field(layers, phrase):
    with pytest.raises(SpecError, match=phrase.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        validate(Experiment("Bad", layers + (Dense(10, "softmax"),), TrainConfig()))


def test_trained_inspected_and_exported_with_augmentation(tmp_path, mnist_path):
    from mnistlab import inspect
    from mnistlab.export import script_for
    from mnistlab.train import train

    small = replace(CNN5_AUGMENTED, config=replace(CNN5_AUGMENTED.config, epochs=1, train_limit=1500))
    result = train(small, [])
    assert result.status == "completed" and result.metrics["accuracy"] > 0.2  # one epoch on 1,500 images: learning
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = 1.0
    seen = inspect.inspection(result.model, image)
    assert [o.kind for o in seen.layers][:2] == ["Conv2D", "MaxPooling2D"]  # the random layers: nothing to see
    assert seen.first_layer_kind == "filters" and seen.first_layer.shape == (32, 3, 3)
    linear = Experiment("Linear, augmented", (RandomRotation(0.05), Flatten(), Dense(20), Dense(10, "softmax")),
                        TrainConfig(optimizer="SGD", epochs=1, train_limit=500))
    model = train(linear, []).model
    templates = inspect.linear_templates(model)
    assert templates is not None  # still one linear map at inference
    ours = np.tensordot(templates.templates, image, axes=([1, 2], [0, 1])) + templates.biases
    assert np.allclose(ours, inspect.logits(model, image), atol=1e-4)
    script = tmp_path / "run.py"
    script.write_text(script_for(small, filename="run.py"))
    out = subprocess.run([sys.executable, str(script), "--data", str(mnist_path), "--limit", "300", "--epochs", "1"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=240,
                         env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "parameters: 34,826" in out.stdout and "RandomRotation" in script.read_text()


def test_build_starts_from_cnn5_with_augmentation_and_checks_a_typed_factor():
    from streamlit.testing.v1 import AppTest

    from conftest import REPO

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60).run()
    at.selectbox(key="build_preset").set_value("CNN 5 + augmentation").run()
    table = next(frame.value for frame in at.dataframe if "output shape" in frame.value.columns)
    assert list(table["layer"][:3]) == ["RandomRotation(±18°)", "RandomTranslation(±10%)", "RandomZoom(±10%)"]
    assert list(table["params"][:3]) == [0, 0, 0]
    assert not at.button(key="build_train").disabled
    factor = next(box for box in at.number_input if box.key.endswith("_factor"))
    factor.set_value(0.9).run()
    assert any("factor must be a number in (0, 0.5], got 0.9" in e.value for e in at.error)
    assert at.button(key="build_train").disabled
