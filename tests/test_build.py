import pytest

from mnistlab.build import build_model
from mnistlab.presets import PRESETS
from mnistlab.spec import validate


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_keras_model_matches_our_shape_table(preset):
    model = build_model(preset.experiment)
    rows = validate(preset.experiment)
    assert model.count_params() == preset.params
    assert [layer.count_params() for layer in model.layers] == [row.params for row in rows]
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [row.output_shape for row in rows]
    config = preset.experiment.config
    assert type(model.optimizer).__name__ == config.optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(config.effective_learning_rate)
