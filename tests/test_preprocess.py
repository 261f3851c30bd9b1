import numpy as np
import pytest
from PIL import Image

from mnistlab.data import load_mnist
from mnistlab.preprocess import canvas_to_mnist, preprocess_steps


def _digit(index=0):
    (_, _), (x_test, y_test) = load_mnist()
    return x_test[index], int(y_test[index])


def _place(digit, side, top, left, canvas=280):
    """An ink map: the MNIST digit scaled to `side` px and put at (top, left) on a blank canvas."""
    scaled = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR))
    ink = np.zeros((canvas, canvas), np.uint8)
    ink[top:top + side, left:left + side] = scaled
    return ink


def _opaque_canvas(ink):
    """streamlit-drawable-canvas with background #FFFFFF: alpha 255 everywhere, dark ink in RGB."""
    rgb = 255 - np.repeat(ink[..., None], 3, axis=2)
    return np.dstack([rgb, np.full(ink.shape, 255, np.uint8)])


def _transparent_canvas(ink):
    """The default transparent canvas: RGB 0, ink in the alpha channel."""
    return np.dstack([np.zeros(ink.shape + (3,), np.uint8), ink])


def _similar(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_output_is_mnist_shaped_and_centred():
    digit, _ = _digit()
    image = canvas_to_mnist(_opaque_canvas(_place(digit, 200, 40, 40)))
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    rows, cols = np.indices(image.shape)
    assert abs((rows * image).sum() / image.sum() - 14) <= 0.5
    assert abs((cols * image).sum() / image.sum() - 14) <= 0.5
    ink_rows = np.flatnonzero(image.max(axis=1) > 0.05)
    assert ink_rows[-1] - ink_rows[0] + 1 <= 21  # the longer side is scaled to 20 px (+1 for anti-aliasing)


@pytest.mark.parametrize("side,top,left", [(30, 5, 5), (40, 230, 230), (120, 0, 150), (278, 1, 1), (90, 100, 20)],
                         ids=["tiny-corner", "tiny-far-corner", "off-centre", "huge", "mid"])
def test_any_size_any_place_gives_the_same_image(side, top, left):
    digit, _ = _digit(3)
    reference = canvas_to_mnist(_opaque_canvas(_place(digit, 200, 40, 40)))
    moved = canvas_to_mnist(_opaque_canvas(_place(digit, side, top, left)))
    assert _similar(reference, moved) > 0.85


def test_both_canvas_conventions_agree():
    digit, _ = _digit(5)
    ink = _place(digit, 180, 60, 30)
    opaque, transparent = canvas_to_mnist(_opaque_canvas(ink)), canvas_to_mnist(_transparent_canvas(ink))
    assert np.allclose(opaque, transparent, atol=0.02)


def test_both_polarities_and_grayscale_rgb_inputs_agree():
    digit, _ = _digit(7)
    ink = _place(digit, 150, 20, 70)
    light_on_dark = ink
    dark_on_light = 255 - ink
    rgb = np.repeat(dark_on_light[..., None], 3, axis=2)
    results = [canvas_to_mnist(x) for x in (light_on_dark, dark_on_light, rgb)]
    assert np.allclose(results[0], results[1], atol=0.02) and np.allclose(results[1], results[2], atol=0.02)


def test_mnist_digit_itself_survives_the_recipe():
    for index in range(20):
        digit, _ = _digit(index)
        assert _similar(canvas_to_mnist(digit), digit / 255.0) > 0.99


@pytest.mark.parametrize("canvas", [
    np.full((280, 280, 4), 255, np.uint8),                 # blank opaque
    np.zeros((280, 280, 4), np.uint8),                     # blank transparent
    np.zeros((28, 28), np.uint8),                           # blank grayscale
], ids=["opaque", "transparent", "gray"])
def test_blank_is_none(canvas):
    assert canvas_to_mnist(canvas) is None


def test_single_dot_is_none():
    ink = np.zeros((280, 280), np.uint8)
    yy, xx = np.ogrid[:280, :280]
    ink[(yy - 140) ** 2 + (xx - 100) ** 2 <= 9 ** 2] = 255  # one click of an 18 px brush
    assert canvas_to_mnist(_opaque_canvas(ink)) is None
    assert canvas_to_mnist(_transparent_canvas(ink)) is None


def test_thin_vertical_stroke_is_a_one_not_a_dot():
    ink = np.zeros((280, 280), np.uint8)
    ink[40:240, 130:148] = 255
    image = canvas_to_mnist(_opaque_canvas(ink))
    assert image is not None and image.max() > 0.5


def test_steps_expose_each_stage():
    digit, _ = _digit(2)
    steps = preprocess_steps(_opaque_canvas(_place(digit, 100, 150, 20)))
    top, left, bottom, right = steps.box
    assert 150 <= top < bottom <= 250 and 20 <= left < right <= 120
    assert steps.cropped.shape == (bottom - top, right - left)
    assert max(steps.scaled.shape) == 20 and steps.centred.shape == (28, 28)
    assert steps.ink.shape == (280, 280)


def test_prediction_does_not_depend_on_place_or_size(trained_store, monkeypatch):
    from mnistlab.predict import predict_drawing
    from mnistlab.store import RunStore

    home, run_id = trained_store
    model = RunStore(home).load_model(run_id)
    (_, _), (x_test, y_test) = load_mnist()
    agree = 0
    for index in range(20):
        placements = [(200, 40, 40), (60, 10, 200), (250, 15, 20), (40, 230, 5)]
        digits = {predict_drawing(model, _opaque_canvas(_place(x_test[index], *p))).digit for p in placements}
        agree += len(digits) == 1
    assert agree >= 17


def test_step_pictures_are_at_two_stated_scales_pixel_for_pixel():
    from mnistlab.preprocess import preprocess_steps, step_pictures

    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[40:200, 100:160, :3] = 0  # a bar of ink, 160 × 60 canvas pixels
    steps = preprocess_steps(canvas)
    ink, cropped, scaled, centred = step_pictures(steps)
    frame = 2  # one grey pixel on each side
    assert ink.shape == (140 + frame, 140 + frame) and cropped.shape == (80 + frame, 30 + frame)  # canvas px at ½
    assert scaled.shape == (100 + frame, 40 + frame) and centred.shape == (140 + frame, 140 + frame)  # model px ×5
    assert centred.dtype == np.uint8 and ink[0, 0] == 180 and ink[1, 1] == 255 and ink[61, 66] == 0  # ink on white
    block = centred[71:76, 71:76]
    assert (block == block[0, 0]).all()  # one model pixel is one flat 5×5 square: no smoothing
