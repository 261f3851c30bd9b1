"""What differs between two specs: every consecutive pair of the report's presets, as a lesson asks about them."""

from dataclasses import replace

import pytest

from mnistlab.presets import PRESETS, get_preset
from mnistlab.spec_diff import differences, told_apart

REPORT_STEPS = {
    ("MLP 1", "MLP 2"): ["Dense(50, linear) → Dense(400, linear)"],
    ("MLP 2", "MLP 3"): ["Dense(400, linear) → Dense(300, linear) + Dense(100, linear)"],
    ("MLP 3", "MLP 4"): ["Dense(300, linear) + Dense(100, linear) → Dense(400, sigmoid)"],
    ("MLP 4", "MLP 5"): ["Dense(400, sigmoid) → Dense(400, relu)"],
    ("MLP 5", "MLP 6"): ["added Dense(300, relu) before Dense(10, softmax)"],
    ("MLP 6", "MLP 7"): ["learning rate 0.01 → 0.2"],
    ("MLP 7", "MLP 8"): ["added Dropout(0.2) before Dense(400, relu)", "added Dropout(0.2) before Dense(300, relu)"],
    ("MLP 8", "MLP 9"): ["optimizer SGD → Adam"],
    ("MLP 9", "MLP 10"): ["learning rate 0.2 → 0.001"],
    ("MLP 10", "CNN 1"): ["added Conv2D(32, 3×3, relu) + MaxPooling2D(2×2) before Flatten",
                          "removed Dropout(0.2) + Dense(400, relu) + Dropout(0.2) + Dense(300, relu)",
                          "epochs 30 → 10"],
    ("CNN 1", "CNN 2"): ["Conv2D(32, 3×3, relu) → Conv2D(64, 3×3, relu)", "epochs 10 → 30"],
    ("CNN 2", "CNN 3"): ["Conv2D(64, 3×3, relu) → Conv2D(32, 3×3, stride 2, relu)"],
    ("CNN 3", "CNN 4"): ["Conv2D(32, 3×3, stride 2, relu) → Conv2D(32, 3×3, relu) + MaxPooling2D(2×2) + "
                         "Conv2D(64, 3×3, relu)"],
    ("CNN 4", "CNN 5"): ["added Dropout(0.2) before Dense(10, softmax)"],
}


def test_every_consecutive_pair_of_the_report_says_what_changed():
    pairs = {(a.name, b.name) for a, b in zip(PRESETS, PRESETS[1:])}
    assert pairs == set(REPORT_STEPS)
    for (before, after), said in REPORT_STEPS.items():
        assert differences(get_preset(before).experiment, get_preset(after).experiment) == said, (before, after)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_a_network_against_itself_differs_in_nothing_or_its_seed(preset):
    experiment = preset.experiment
    assert differences(experiment, experiment) == []
    assert differences(experiment, experiment.with_config(seed=7)) == ["seed 42 → 7"]
    assert differences(experiment, experiment.with_config(seed=7), seed=False) == []


def test_a_layer_removed_at_the_end_and_settings_read_as_a_student_reads_them():
    mlp = get_preset("MLP 6").experiment
    shorter = replace(mlp, layers=mlp.layers[:-1])
    assert differences(mlp, shorter) == ["removed Dense(10, softmax)"]
    assert differences(shorter, mlp) == ["added Dense(10, softmax) at the end"]
    other = mlp.with_config(train_limit=10_000, early_stopping_patience=3, batch_size=32, validation_split=0.2)
    assert differences(mlp, other) == ["batch 128 → 32", "validation split 0.1 → 0.2",
                                       "early stopping off → after 3 epochs without gain",
                                       "training images all → 10,000"]


def test_experiments_of_one_name_are_told_apart_by_their_setup():
    mlp1 = get_preset("MLP 1").experiment
    sigmoid = replace(get_preset("MLP 4").experiment, name="MLP 1")
    faster = mlp1.with_config(learning_rate=0.2, epochs=5)
    labels = told_apart({key: (experiment.name, experiment) for key, experiment in
                         {1: mlp1, 2: sigmoid, 3: faster, 4: get_preset("CNN 1").experiment}.items()})
    assert labels == {1: "MLP 1 · Dense(50, linear) · learning rate 0.01 · epochs 30",
                      2: "MLP 1 · Dense(400, sigmoid) · learning rate 0.01 · epochs 30",
                      3: "MLP 1 · Dense(50, linear) · learning rate 0.2 · epochs 5", 4: "CNN 1"}
    assert told_apart({1: ("MLP 1", mlp1), 2: ("MLP 1", mlp1.with_config(seed=3))}) == {1: "MLP 1", 2: "MLP 1 (2)"}
    assert told_apart({1: ("Mine", mlp1), 2: ("Mine", faster)}) == {1: "Mine · learning rate 0.01 · epochs 30",
                                                                  2: "Mine · learning rate 0.2 · epochs 5"}
