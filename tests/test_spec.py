import json

import pytest

from mnistlab.presets import PRESETS, get_preset, matching_preset
from mnistlab.spec import (Conv2D, Dense, Dropout, Experiment, Flatten, MaxPooling2D, SpecError, TrainConfig,
                           validate)

REPORT_PARAMS = {"MLP 1": 39_760, "MLP 2": 318_010, "MLP 3": 266_610, "MLP 4": 318_010, "MLP 5": 318_010,
                 "MLP 6": 437_310, "MLP 7": 437_310, "MLP 8": 437_310, "MLP 9": 437_310, "MLP 10": 437_310,
                 "CNN 1": 54_410, "CNN 2": 108_810, "CNN 3": 11_850, "CNN 4": 34_826, "CNN 5": 34_826}
OUT = Dense(10, "softmax")


def test_fifteen_presets_in_report_order():
    assert [p.name for p in PRESETS] == list(REPORT_PARAMS)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_parameter_count_matches_report(preset):
    assert sum(row.params for row in validate(preset.experiment)) == REPORT_PARAMS[preset.name] == preset.params


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_round_trips_through_json(preset):
    text = preset.experiment.to_json()
    again = Experiment.from_json(text)
    assert again == preset.experiment
    assert again.to_json() == text


def test_report_settings():
    for preset in PRESETS:
        config = preset.experiment.config
        assert (config.batch_size, config.validation_split) == (128, 0.1)
        assert config.epochs == (10 if preset.name == "CNN 1" else 30)
        assert preset.report.finding.endswith(".")
    assert get_preset("mlp9").experiment.config.learning_rate == 0.2
    assert get_preset("MLP 9").experiment.config.optimizer == "Adam"
    assert get_preset("MLP 7").experiment.config.optimizer == "SGD"
    assert get_preset("CNN 5").report.per_class_accuracy[1] == 1.0
    assert get_preset("MLP 1").report.per_class_accuracy[0] == pytest.approx(0.978571)


def test_matching_preset_ignores_epochs_and_limit():
    shortened = get_preset("CNN 4").experiment.with_config(epochs=2, train_limit=1000)
    assert matching_preset(shortened).name == "CNN 4"
    assert matching_preset(get_preset("MLP 7").experiment).name == "MLP 7"
    assert matching_preset(Experiment("x", (Flatten(), Dense(7), OUT))) is None


def test_shapes_follow_keras_rules():
    rows = validate(get_preset("CNN 3").experiment)
    assert [r.output_shape for r in rows] == [(13, 13, 32), (6, 6, 32), (1152,), (10,)]
    assert [r.params for r in rows] == [320, 0, 0, 11530]


def _spec(*layers, **config):
    return Experiment("bad", tuple(layers), TrainConfig(**config))


INVALID = [
    ("map shrinks", _spec(Conv2D(8, 5, 1, "relu"), MaxPooling2D(2), Conv2D(8, 5, 1, "relu"), MaxPooling2D(2),
                          Conv2D(8, 5, 1, "relu"), Flatten(), OUT), "Layer 5", "kernel_size must be a whole number from 1 to 4"),
    ("dense on map", _spec(Dense(10, "relu"), Flatten(), OUT), "Layer 1", "Flatten"),
    ("zero units", _spec(Flatten(), Dense(0, "relu"), OUT), "Layer 2", "units"),
    ("zero filters", _spec(Conv2D(0, 3), Flatten(), OUT), "Layer 1", "filters"),
    ("kernel too big", _spec(Conv2D(4, 29), Flatten(), OUT), "Layer 1", "kernel_size must be a whole number from 1 to 28"),
    ("pool too big", _spec(MaxPooling2D(29), Flatten(), OUT), "Layer 1", "pool_size"),
    ("dropout 1", _spec(Flatten(), Dropout(1.0), OUT), "Layer 2", "rate must be a number in [0, 1)"),
    ("dropout negative", _spec(Flatten(), Dropout(-0.1), OUT), "Layer 2", "rate"),
    ("unknown activation", _spec(Flatten(), Dense(5, "gelu"), OUT), "Layer 2", "activation"),
    ("softmax hidden", _spec(Flatten(), Dense(5, "softmax"), OUT), "Layer 2", "activation"),
    ("wrong output", _spec(Flatten(), Dense(5, "softmax")), "Layer 2", "output layer must be Dense(10, softmax)"),
    ("conv after flatten", _spec(Flatten(), Conv2D(4, 3), OUT), "Layer 2", "Flatten"),
    ("ends in flatten", _spec(Flatten()), "Layer 1", "last layer"),
    ("lr zero", _spec(Flatten(), OUT, learning_rate=0.0), "Training config", "learning_rate"),
    ("epochs zero", _spec(Flatten(), OUT, epochs=0), "Training config", "epochs must be a whole number from 1"),
    ("batch zero", _spec(Flatten(), OUT, batch_size=0), "Training config", "batch_size"),
    ("split one", _spec(Flatten(), OUT, validation_split=1.0), "Training config", "validation_split"),
    ("optimizer", _spec(Flatten(), OUT, optimizer="RMSprop"), "Training config", "optimizer"),
    ("too many params", _spec(Conv2D(64, 3, 1, "relu"), Flatten(), Dense(100_000, "relu"), OUT),
     "4,327,500,650 parameters", "limit of 10,000,000"),
]


@pytest.mark.parametrize("case,spec,where,what", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_spec_names_layer_and_field(case, spec, where, what):
    with pytest.raises(SpecError) as info:
        validate(spec)
    message = str(info.value)
    assert where in message and what in message, message
    assert isinstance(info.value, ValueError)
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize("text,what", [
    ("{not json", "not valid JSON"),
    ('{"name": "x", "layers": [{"type": "Dense", "units": 10, "activation": "softmax", "bias": 1}]}',
     "Layer 1 (Dense): unknown field(s) bias"),
    ('{"name": "x", "layers": [{"type": "Conv3D"}]}', "Layer 1: unknown type 'Conv3D'"),
    ('{"name": "x", "layers": [{"type": "Dense"}]}', "Layer 1 (Dense): missing field(s) units"),
    ('{"name": "x", "layers": []}', "non-empty list"),
    ('{"name": "x", "layers": [{"type": "Flatten"}], "config": {"epoch": 3}}', "unknown field(s) epoch"),
    ('[1, 2]', "JSON object"),
])
def test_malformed_json_spec(text, what):
    with pytest.raises(SpecError, match=None) as info:
        Experiment.from_json(text)
    assert what in str(info.value)


def test_default_learning_rates_are_keras_defaults():
    assert TrainConfig(optimizer="SGD").effective_learning_rate == 0.01
    assert TrainConfig(optimizer="Adam").effective_learning_rate == 0.001
    assert json.loads(Experiment("x", (Flatten(), OUT)).to_json())["config"]["learning_rate"] is None


def test_layer_table_keeps_rows_before_the_error():
    from mnistlab.spec import layer_table

    spec = _spec(Conv2D(8, 3, 1, "relu"), MaxPooling2D(2), Dense(10, "relu"), Flatten(), OUT)
    rows, error = layer_table(spec)
    assert [r.output_shape for r in rows] == [(26, 26, 8), (13, 13, 8)]
    assert error.layer == 3 and "Flatten" in str(error)
    rows, error = layer_table(get_preset("CNN 5").experiment)
    assert error is None and sum(r.params for r in rows) == 34_826
