"""Inside the network (issue 12, library part): activations equal Keras's own, the linear collapse of MLP 1–3,
first-layer weights, and saliency maps that pass Adebayo et al.'s randomisation check."""

import numpy as np
import pytest

from mnistlab import inspect
from mnistlab.build import build_model
from mnistlab.data import load_mnist
from mnistlab.presets import PRESETS, get_preset
from mnistlab.store import RunStore

LINEAR = {"MLP 1", "MLP 2", "MLP 3"}


@pytest.fixture(scope="module")
def digits():
    (_, _), (x_test, y_test) = load_mnist()
    return x_test[:8].astype(np.float32) / 255.0, y_test[:8]


@pytest.fixture(scope="module")
def trained(trained_store):
    home, run_id = trained_store
    return RunStore(home).load_model(run_id)


@pytest.mark.parametrize("preset", [p.name for p in PRESETS])
def test_every_layer_equals_keras_for_every_preset(preset, digits):
    from mnistlab.backend import keras

    model = build_model(get_preset(preset).experiment)
    image = digits[0][0]
    outputs = inspect.activations(model, image)
    assert [o.name for o in outputs] == [layer.name for layer in model.layers]
    for layer, out in zip(model.layers, outputs):
        expected = np.asarray(keras().Model(model.inputs[0], layer.output)(image.reshape(1, 28, 28, 1)))[0]
        assert out.shape == expected.shape and np.allclose(out.values, expected, atol=1e-6), layer.name
    assert np.isclose(outputs[-1].values.sum(), 1.0, atol=1e-5)  # the last layer: the ten probabilities
    first = inspect.first_layer_weights(model)
    assert first.shape[1:] == ((28, 28) if preset.startswith("MLP") else (3, 3))
    templates = inspect.linear_templates(model)
    assert (templates is not None) == (preset in LINEAR)


@pytest.mark.parametrize("preset", sorted(LINEAR))
def test_linear_networks_are_ten_templates(preset, digits):
    model = build_model(get_preset(preset).experiment)
    templates = inspect.linear_templates(model)
    for image in digits[0]:
        ours = np.tensordot(templates.templates, image, axes=([1, 2], [0, 1])) + templates.biases
        assert np.allclose(ours, inspect.logits(model, image), atol=1e-4)


def _rank_correlation(a, b, where):
    """Spearman's rank correlation of two signed maps over the pixels `where` (ties are rare in float maps)."""
    ranks = [np.argsort(np.argsort(m[where])) for m in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


@pytest.mark.parametrize("method", ["occlusion", "gradient_x_input"])
def test_saliency_depends_on_what_the_model_learned(trained, digits, method):
    """Adebayo et al. (NeurIPS 2018): a map that barely changes when the weights are re-initialised explains the
    image, not the model. Rank correlation between the trained and the re-initialised model's signed maps over
    the ink < 0.5. (Over all 784 pixels the *absolute* maps of both models correlate at about 0.9: both are zero
    where there is no ink, which says where the ink is, not what the model learned; measured in this session.)"""
    from mnistlab.backend import keras

    fresh = keras().models.clone_model(trained)  # same architecture, new random weights
    correlations = [_rank_correlation(inspect.saliency(trained, image, method, int(label)),
                                      inspect.saliency(fresh, image, method, int(label)), image > 0)
                    for image, label in zip(*digits)]
    assert np.mean(correlations) < 0.5, correlations


def test_occlusion_highlights_ink_not_background(trained, digits):
    for image, label in zip(*digits):
        drop = inspect.saliency(trained, image, "occlusion", int(label))
        assert drop.shape == (28, 28)
        assert np.abs(drop[image > 0.5]).mean() > 2 * np.abs(drop[image == 0]).mean()


def test_images_of_another_size_are_refused(trained):
    with pytest.raises(ValueError, match="28×28"):
        inspect.activations(trained, np.zeros((280, 280)))


def test_one_inspection_holds_what_the_view_shows(digits):
    """inspection(): the layers worth a picture (Flatten and Dropout left out), map layers cut to the channels shown
    but keeping their real shape, the first layer's kind, the templates of a linear network and the saliency."""
    image = digits[0][0]
    cnn = build_model(get_preset("CNN 5").experiment)  # Conv 32, Pool, Conv 64, Pool, Flatten, Dropout, Dense
    seen = inspect.inspection(cnn, image, channels_shown=40)
    assert [o.kind for o in seen.layers] == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Dense"]
    assert seen.layers[2].shape == (11, 11, 64) and seen.layers[2].values.shape == (11, 11, 40)
    assert seen.layers[0].values.shape == (26, 26, 32)
    assert seen.first_layer_kind == "filters" and seen.first_layer.shape == (32, 3, 3) and seen.templates is None
    assert seen.digit == int(np.argmax(seen.probabilities)) and seen.saliency.shape == (28, 28)
    np.testing.assert_allclose(seen.saliency, inspect.saliency(cnn, image, "occlusion", seen.digit), atol=1e-6)
    mlp = build_model(get_preset("MLP 3").experiment)
    seen = inspect.inspection(mlp, image)
    assert seen.first_layer_kind == "units" and seen.first_layer.shape == (64, 28, 28)  # 300 units, 64 shown
    assert seen.templates is not None and [o.shape for o in seen.layers] == [(300,), (100,), (10,)]
