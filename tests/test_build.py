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


def test_layer_names_come_from_the_spec_not_global_counters():
    """Models built one after another in a long-lived thread must not depend on Keras's name counters."""
    import threading

    from mnistlab.presets import get_preset

    names = []

    def build_twice():
        for _ in range(2):
            names.append([layer.name for layer in build_model(get_preset("CNN 5").experiment).layers])

    thread = threading.Thread(target=build_twice)
    thread.start()
    thread.join()
    expected = ["conv2d_1", "max_pooling2d_2", "conv2d_3", "max_pooling2d_4", "flatten_5", "dropout_6", "dense_7"]
    assert names == [expected, expected]
