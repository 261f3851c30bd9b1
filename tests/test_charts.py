import numpy as np
import pytest

import charts


def _epochs(n):
    return [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 0.1 / e, "val_loss": 1.1 / e, "val_accuracy": 1 - 0.12 / e}
            for e in range(1, n + 1)]


def test_training_curves_have_both_series_and_labels():
    fig = charts.training_curves(_epochs(3))
    assert [t.name for t in fig.data] == ["training", "validation", "training", "validation"]
    assert fig.layout.title.text == "Training curves"
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis2.title.text == "accuracy"
    assert list(fig.data[3].y) == [row["val_accuracy"] for row in _epochs(3)]


def test_training_curves_without_validation():
    rows = [{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": None, "val_accuracy": None}]
    assert [t.name for t in charts.training_curves(rows).data] == ["training", "training"]


def test_batch_loss_uses_fractional_epochs():
    batches = [{"epoch": 1, "batch": 5, "loss": 2.0}, {"epoch": 1, "batch": 10, "loss": 1.0},
               {"epoch": 2, "batch": 5, "loss": 0.5}]
    fig = charts.batch_loss(batches, steps_per_epoch=10)
    assert list(fig.data[0].x) == [0.5, 1.0, 1.5]
    assert list(fig.data[0].y) == [2.0, 0.0, 0.5]  # the batches' own losses: (10·1.0 − 5·2.0) / 5 = 0 for 6–10
    assert [t.name for t in fig.data] == ["per batch", "smoothed (0.6)"]
    assert fig.layout.yaxis.title.text == "loss" and "per batch" in fig.layout.title.text


def test_training_curves_put_a_stopped_epoch_where_it_stopped():
    rows = [{"epoch": 1, "completed": 1.0, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.4, "val_accuracy": 0.85},
            {"epoch": 2, "completed": 1.3, "loss": 0.4, "accuracy": 0.85, "val_loss": 0.35, "val_accuracy": 0.88}]
    assert list(charts.training_curves(rows).data[0].x) == [1.0, 1.3]


def test_per_class_bars_digits_as_categories():
    fig = charts.per_class_bars({"run": [0.9] * 10, "Report (CNN 5)": [0.99] * 10}, report="Report (CNN 5)")
    assert list(fig.data[0].x) == [str(d) for d in range(10)]
    assert fig.layout.xaxis.type == "category" and fig.layout.barmode == "group"
    assert fig.data[1].marker.color == charts.REPORT_COLOUR


def test_per_digit_values_never_run_into_each_other_and_the_axis_ends_at_one():
    one = charts.per_class_bars({"run": [0.988] * 10})
    assert one.data[0].textposition == "outside" and one.data[0].text[0] == "98.8%" and one.data[0].cliponaxis is False
    several = charts.per_class_bars({"your drawings": [0.988] * 10, "MNIST test set": [0.988] * 10})
    assert all(bar.textposition == "inside" and bar.textangle == -90 for bar in several.data)  # upright, in its bar
    assert one.layout.yaxis.range[1] == several.layout.yaxis.range[1] == 1.0


def test_confusion_matrix_orientation_scale_and_clicks():
    matrix = np.eye(10, dtype=int) * 900
    matrix[3, 5] = 12
    fig = charts.confusion_matrix(matrix.tolist())
    assert fig.layout.yaxis.title.text == "true digit" and fig.layout.xaxis.title.text == "predicted digit"
    assert fig.data[0].type == "scatter"  # Streamlit reports clicks on scatter points, not on heatmap cells
    assert fig.data[0].marker.cmax == 12  # mistakes, not the diagonal, set the colour scale
    cell = 3 * 10 + 5
    assert (fig.data[0].x[cell], fig.data[0].y[cell], fig.data[0].text[cell]) == (5, 3, "12")
    assert fig.layout.width - fig.layout.margin.l - fig.layout.margin.r == \
        fig.layout.height - fig.layout.margin.t - fig.layout.margin.b  # a square plot: square cells
    assert fig.layout.yaxis.range == (9.5, -0.5)  # digit 0 on top, as a matrix is read
    click = {"selection": {"points": [{"customdata": {"0": 3, "1": 5, "2": 12}, "x": 5, "y": 3}]}}
    assert charts.clicked_cell(click) == (3, 5) and charts.clicked_cell({"selection": {"points": []}}) is None


def test_projector_style_is_large_and_leaves_the_original_alone():
    fig = charts.per_class_bars({"A": [0.9] * 10, "B": [0.8] * 10})
    big = charts.for_projector(fig)
    assert big.layout.font.size >= 18 and big.layout.title.font.size >= 24
    assert big.layout.xaxis.tickfont.size >= 18 and list(big.layout.colorway) == charts.PROJECTOR_PALETTE
    assert fig.layout.font.size == charts.FONT["size"]


def test_accuracy_bars_with_report_and_references():
    fig = charts.accuracy_bars(["MLP 1", "CNN 5"], [0.92, 0.991], [0.9206, 0.9924])
    names = [t.name for t in fig.data]
    assert names[:2] == ["ours", "report"]
    assert any("96.95%" in n for n in names) and any("99.22%" in n for n in names)


def test_compare_curves_one_trace_per_run():
    fig = charts.compare_curves({"a": _epochs(2), "b": _epochs(4)})
    assert [t.name for t in fig.data] == ["a", "b"] and len(fig.data[1].x) == 4


def test_epoch_axes_tick_whole_epochs():
    assert charts.training_curves(_epochs(1)).layout.xaxis.dtick == 1
    assert charts.training_curves(_epochs(30)).layout.xaxis2.dtick == 3


def test_compare_curves_keep_accuracy_below_one_even_for_a_single_epoch():
    fig = charts.compare_curves({"one epoch": [{"epoch": 1, "val_accuracy": 0.95}]})
    assert tuple(fig.layout.yaxis.range) == pytest.approx((0.93, 1.0))
    assert fig.layout.xaxis.dtick == 1


def test_accuracy_bars_zoom_past_a_diverged_run():
    fig = charts.accuracy_bars(["MLP 9", "CNN 5"], [0.1875, 0.9917], [0.101, 0.9924])
    assert fig.layout.xaxis.range[0] == 0.88  # the working run (and a 0.9 floor) sets the scale, not 0.19
    assert [a.text for a in fig.layout.annotations] == ["◀ off the scale"]
    assert list(fig.data[0].y) == ["MLP 9 · 0.1875", "CNN 5 · 0.9917"]


def test_user_names_are_plain_text_and_cannot_squeeze_the_bars():
    """Plotly renders <a>, <b> and <br> in labels: a run name is escaped, and cut on a bar chart's axis."""
    long_name = "<br>" * 60
    fig = charts.accuracy_bars(['<a href="https://evil.example/">x</a>', long_name], [0.9, 0.95], tags=["a", "b"])
    labels = list(fig.data[0].y)
    assert labels[0].startswith('&lt;a href="https://evil.example/"&gt;x&lt;/a&gt; · a')
    assert len(labels[1]) < 120 and labels[1].endswith("… · b · 0.9500")
    curves = charts.compare_curves({"<b>bold</b>": [{"epoch": 1, "val_accuracy": 0.9}]})
    assert curves.data[0].name == "&lt;b&gt;bold&lt;/b&gt;"


# ---------------------------------------------------------------- the inside view

def test_layer_maps_tile_every_channel_on_one_scale():
    values = np.zeros((5, 4, 3), np.float32)
    values[..., 0], values[..., 1], values[..., 2] = 1.0, 2.0, 3.0  # channel c holds c + 1 everywhere
    fig = charts.layer_maps(values, "conv2d", "Conv2D", (5, 4, 3))
    heat = fig.data[0]
    assert heat.z.shape == (2 * 5, 2 * 4) and heat.z.dtype == np.int8  # 3 channels: 2 × 2 tiles, a byte a pixel
    assert (heat.z[0][0], heat.z[0][4], heat.z[5][0], heat.z[5][4]) == (33, 67, 100, 0)  # % of the strongest
    assert heat.customdata is None  # a byte a pixel: the channels are in reading order
    assert (heat.zmin, heat.zmax, heat.colorscale[0][1]) == (0, 100, "rgb(247,251,255)")  # ReLU: 0 → largest
    assert len(fig.layout.shapes) == 2  # a white line between the tiles' columns, one between their rows
    assert "5×4×3" in fig.layout.title.text and "first" not in fig.layout.title.text
    cut = charts.layer_maps(values[..., :2], "conv2d", "Conv2D", (5, 4, 64))
    assert "first 2" in cut.layout.title.text


def test_layer_maps_with_negative_values_are_symmetric_about_zero():
    values = np.array([[[-4.0], [1.0]]], np.float32)
    heat = charts.layer_maps(values, "conv2d", "Conv2D", (1, 2, 1)).data[0]
    assert (heat.zmin, heat.zmid, heat.zmax) == (-100, 0, 100) and list(heat.z[0]) == [-100, 25]


def test_a_stroke_on_inside_sends_a_byte_a_pixel():
    """CNN 5's first layer (26×26×32) as the browser receives it: a byte a pixel, base64 in JSON — under 40 KB
    (bench/inside_page.py measures a whole stroke)."""
    import plotly.io

    values = np.random.default_rng(0).random((26, 26, 32), np.float32)
    assert len(plotly.io.to_json(charts.layer_maps(values, "conv2d", "Conv2D", (26, 26, 32)))) < 40_000


def test_unit_bars_show_the_strongest_units_first():
    values = np.arange(30, dtype=np.float32)[::-1] % 7
    fig = charts.unit_bars(values, "dense", "Dense", top=3)
    assert list(fig.data[0].x) == [6.0, 6.0, 6.0] and list(fig.data[0].y) == ["unit 2", "unit 9", "unit 16"]  # 29 − i ≡ 6 (mod 7)
    assert "30 units, top 3" in fig.layout.title.text


def test_saliency_overlay_is_see_through_where_nothing_changes():
    image, saliency = np.zeros((28, 28)), np.zeros((28, 28))
    saliency[3, 4], saliency[5, 6] = 0.5, -0.25
    fig = charts.saliency_overlay(image, saliency, digit=7)
    over = fig.data[1]
    assert (over.zmin, over.zmax) == (-0.5, 0.5) and over.colorscale[1][1].endswith(",0)")
    assert "P(7)" in over.hovertemplate and fig.layout.yaxis.autorange == "reversed"


def test_linear_templates_one_panel_per_digit_on_one_scale():
    templates = np.random.default_rng(0).normal(size=(10, 28, 28))
    fig = charts.linear_templates(templates)
    assert len(fig.data) == 10 and {t.zmax for t in fig.data} == {float(np.abs(templates).max().astype(np.float32))}
    assert [a.text for a in fig.layout.annotations] == charts.DIGITS


def test_group_curves_draw_the_mean_and_a_band_of_one_std():
    runs = [[{"epoch": 1, "val_accuracy": 0.90}, {"epoch": 2, "val_accuracy": 0.94}],
            [{"epoch": 1, "val_accuracy": 0.92}, {"epoch": 2, "val_accuracy": 0.96}, {"epoch": 3, "val_accuracy": 0.97}]]
    fig = charts.group_curves({"CNN 4 (2 seeds)": runs, "CNN 5": [runs[0]]})
    band, mean, single = fig.data
    assert list(mean.x) == [1, 2] and list(mean.y) == pytest.approx([0.91, 0.95])  # the shorter run's two epochs
    assert band.fill == "toself" and band.y[0] == pytest.approx(0.91 + 0.01414, abs=1e-4)
    assert single.name == "CNN 5" and list(single.y) == [0.90, 0.94]  # one run: its own line, no band


def test_per_class_bars_with_error_bars_for_groups():
    fig = charts.per_class_bars({"A (3 seeds)": [0.9] * 10, "B": [0.8] * 10}, errors={"A (3 seeds)": [0.01] * 10})
    assert list(fig.data[0].error_y.array) == [0.01] * 10 and fig.data[1].error_y.array is None
