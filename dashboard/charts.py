"""Plotly figures for the dashboard: pure functions of plain data, testable without Streamlit.

Made for a projector: a title on every chart, labelled axes, large fonts, digits 0–9 as
categories, values in the hover text.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnistlab.curves import SMOOTHING, batch_losses, smoothed
from mnistlab.i18n import N_, _, decimal, decimal_mark, group_mark, ngettext, number, percent

DIGITS = [str(d) for d in range(10)]
FONT = dict(size=15)
TRAIN_COLOUR, VAL_COLOUR, REPORT_COLOUR = "#1f77b4", "#ff7f0e", "#7f7f7f"
CURVE_AXES = {"val_accuracy": N_("validation accuracy"), "val_loss": N_("validation loss"),
              "accuracy": N_("accuracy"), "loss": N_("loss")}  # a curve's axis title, as _(CURVE_AXES[key])
AXIS_NAME_CHARS = 40  # a run name on a bar chart's axis, at most
REFERENCES = {  # well-known MNIST test accuracies, for scale; labels shown as _(label)
    N_("LeCun et al. 1998, 300-100 MLP"): 0.9695,
    N_("keras-io simple convnet (34,826 params)"): 0.9922,
}


def _plain(text: str, most: int | None = None) -> str:
    """A user's text (a run name) for a Plotly label: Plotly renders <a>, <b>, <br> and entities in labels.
    With `most`, cut to that many characters, so one long name cannot squeeze a chart's bars away."""
    text = str(text)
    if most is not None and len(text) > most:
        text = text[:most - 1] + "…"
    return html.escape(text, quote=False)


def _base_layout(title: str, height: int = 380) -> dict:
    """`separators`: the decimal mark and thousands separator of the session's language, for ticks and hover texts."""
    return dict(title=dict(text=title, x=0.01), font=FONT, height=height, margin=dict(l=60, r=20, t=60, b=50),
                legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0.0), hovermode="x unified",
                separators=decimal_mark() + group_mark())


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(**_base_layout(title, height))
    return fig


def _epoch_step(epochs: int) -> int:
    """Whole-number epoch ticks, at most about ten of them (Plotly would mark half epochs)."""
    return max(1, math.ceil(epochs / 10))


def training_curves(epochs: list[dict], title: str | None = None) -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Loss"), _("Accuracy")), horizontal_spacing=0.12)
    x = [row.get("completed") or row["epoch"] for row in epochs]  # a stopped run's last epoch: 1.3, not 2
    for col, key in ((1, "loss"), (2, "accuracy")):
        fig.add_trace(go.Scatter(x=x, y=[row[key] for row in epochs], name=_("training"), mode="lines+markers",
                                 line=dict(color=TRAIN_COLOUR), legendgroup="train", showlegend=col == 1), 1, col)
        val = [row.get(f"val_{key}") for row in epochs]
        if any(v is not None for v in val):
            fig.add_trace(go.Scatter(x=x, y=val, name=_("validation"), mode="lines+markers",
                                     line=dict(color=VAL_COLOUR), legendgroup="val", showlegend=col == 1), 1, col)
        fig.update_xaxes(title_text=_("epoch"), row=1, col=col, rangemode="tozero" if len(x) < 2 else None,
                         dtick=_epoch_step(len(x)))
    fig.update_yaxes(title_text=_("loss"), row=1, col=1)
    fig.update_yaxes(title_text=_("accuracy"), row=1, col=2)
    return _layout(fig, _("Training curves") if title is None else title)


def batch_loss(batches: list[dict], steps_per_epoch: int | None = None,
               title: str | None = None) -> go.Figure:
    """The loss of the batches themselves (recovered from Keras's running means, which restart every epoch and
    would show a false drop at each boundary), faint, with TensorBoard-style smoothing over it."""
    steps = steps_per_epoch or max((b["batch"] for b in batches), default=1)
    rows = batch_losses(batches, steps)
    # Arrays, not lists: Plotly checks and encodes an array whole (base64), a list point by point. A Train tab polls
    # this chart every second: at 1,000 batches it is built in 8 ms instead of 21 and sent in 0.7 instead of 3.5.
    x = np.array([row["x"] for row in rows], dtype=np.float32)
    losses = [row["loss"] for row in rows]
    custom = np.array([[row["epoch"], row["batch"], row["batches"]] for row in rows], dtype=np.int32).reshape(-1, 3)
    fig = go.Figure([
        go.Scatter(x=x, y=np.array(losses, dtype=np.float32), mode="lines+markers", name=_("per batch"),
                   line=dict(color=TRAIN_COLOUR, width=1), marker=dict(size=4), opacity=0.4, customdata=custom,
                   hovertemplate=_("epoch %{customdata[0]}, batch %{customdata[1]}: loss %{y:.4f} "
                                   "(mean of the last %{customdata[2]} batches)") + "<extra></extra>"),
        go.Scatter(x=x, y=np.array(smoothed(losses), dtype=np.float32), mode="lines",
                   name=_("smoothed ({weight})").format(weight=decimal(SMOOTHING, 1)),
                   line=dict(color=TRAIN_COLOUR, width=3), hoverinfo="skip"),
    ])
    fig.update_xaxes(title_text=_("epoch"), rangemode="tozero")
    fig.update_yaxes(title_text=_("loss"), rangemode="tozero")
    _layout(fig, _("Training loss per batch") if title is None else title, height=320)
    fig.update_layout(hovermode="closest")
    return fig


def per_class_bars(series: dict[str, list[float]], title: str | None = None,
                   errors: dict[str, list[float]] | None = None, report: str | None = None) -> go.Figure:
    """Grouped bars, one group per digit, one bar per named series (a run, a group's mean, or the report); a series
    with `errors` (a group's standard deviation over its seeds) gets error bars; the series named `report` is grey.

    Each bar's value is written on it as a percentage: above it for one series, and inside it, upright, for several
    (side by side above their bars, the numbers of a group ran into each other: "0.9880.988"). The axis ends at
    100%, and a label above a full bar is drawn in the margin over it, not cut off."""
    fig = go.Figure()
    errors = errors or {}
    several = len(series) > 1
    for name, values in series.items():
        label = _plain(name)
        spread = errors.get(name)
        fig.add_trace(go.Bar(x=DIGITS, y=values, name=label, text=None if spread else [percent(v) for v in values],
                             textposition="inside" if several else "outside", textangle=-90 if several else 0,
                             insidetextanchor="end", cliponaxis=False,
                             hovertemplate=f"{label}<br>" + _("digit %{x}: %{y:.4f}")
                             + (" ± %{error_y.array:.4f}" if spread else "") + "<extra></extra>",
                             error_y=dict(type="data", array=spread, visible=True) if spread else None,
                             marker_color=REPORT_COLOUR if name == report else None))
    low = min((v for values in series.values() for v in values), default=0.0)
    fig.update_xaxes(title_text=_("digit"), type="category")
    fig.update_yaxes(title_text=_("accuracy on that digit"), range=[max(0.0, low - 0.05), 1.0], tickformat=".0%")
    _layout(fig, _("Accuracy per digit") if title is None else title, height=420)
    fig.update_layout(barmode="group", hovermode="closest", uniformtext=dict(minsize=10, mode="hide"),
                      margin_t=80)  # room for a label above a full bar
    return fig


CONFUSION_PLOT = 400  # px, the square plot area: with its axes it fits Results' left column at 1280×720


def confusion_matrix(matrix: list[list[int]], title: str | None = None) -> go.Figure:
    """Rows are true digits, columns predicted digits; the diagonal is right.

    Drawn as square scatter markers, not a heatmap: Streamlit reports clicks on scatter points (a
    heatmap's cells send nothing). Each point carries its true and predicted digit as customdata.
    The colour scale tops out at the largest mistake count, so the mistakes stand out instead of
    fading next to the thousand-strong diagonal (whose counts are printed). Markers have a fixed
    size in pixels, so the figure has a fixed size too: show it with `width="content"`.
    """
    values = [v for row in matrix for v in row]
    mistakes = [v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j]
    top = max(mistakes + [1])
    true = [i for i in range(10) for _column in range(10)]
    predicted = [j for _row in range(10) for j in range(10)]
    cell = CONFUSION_PLOT / 10
    points = go.Scatter(
        x=predicted, y=true, mode="markers+text", text=[str(v) for v in values],  # "1075": 4 digits fit a cell
        marker=dict(symbol="square", size=cell - 2, color=[min(v, top) for v in values], colorscale="Blues",
                    cmin=0, cmax=top, line=dict(width=0)),
        textfont=dict(size=14, color=["white" if min(v, top) > top / 2 else "black" for v in values]),
        customdata=[[t, p, v] for t, p, v in zip(true, predicted, values)],
        hovertemplate=_("true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]:,} images")
        + "<extra></extra>",
        selected=dict(marker=dict(color="#ffb000"), textfont=dict(color="black")),
        unselected=dict(marker=dict(opacity=1)))
    fig = go.Figure(points)
    axis = dict(tickmode="array", tickvals=list(range(10)), ticktext=DIGITS, range=[-0.5, 9.5], showgrid=False,
                zeroline=False, fixedrange=True)
    fig.update_xaxes(title_text=_("predicted digit"), **axis)
    fig.update_yaxes(title_text=_("true digit"), **dict(axis, range=[9.5, -0.5]))
    margin = dict(l=60, r=10, t=50, b=60)
    fig.update_layout(**_base_layout(_("Confusion matrix (test set)") if title is None else title,
                                     CONFUSION_PLOT + margin["t"] + margin["b"]))
    fig.update_layout(width=CONFUSION_PLOT + margin["l"] + margin["r"], margin=margin, hovermode="closest",
                      showlegend=False, plot_bgcolor="white")
    return fig


def clicked_cell(event) -> tuple[int, int] | None:
    """The (true, predicted) digits of the cell clicked in `confusion_matrix`, from Streamlit's selection event."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    if not points:
        return None
    data = points[0].get("customdata")
    if isinstance(data, dict):  # Streamlit hands customdata back as {"0": true, "1": predicted, ...}
        data = [data.get("0"), data.get("1")]
    try:
        return int(data[0]), int(data[1])
    except (TypeError, ValueError, IndexError):
        return None


def compare_curves(histories: dict[str, list[dict]], key: str = "val_accuracy",
                   title: str | None = None) -> go.Figure:
    """One line per run; epochs on whole-number ticks, an accuracy axis never past 1."""
    fig = go.Figure()
    for name, epochs in histories.items():
        fig.add_trace(go.Scatter(x=[row["epoch"] for row in epochs], y=[row.get(key) for row in epochs],
                                 mode="lines+markers", name=_plain(name)))
    fig.update_xaxes(title_text=_("epoch"), dtick=_epoch_step(max(map(len, histories.values()), default=1)))
    fig.update_yaxes(title_text=_(CURVE_AXES[key]))
    values = [row[key] for epochs in histories.values() for row in epochs if row.get(key) is not None]
    if "accuracy" in key and values:
        fig.update_yaxes(range=[max(0.0, min(values) - 0.02), 1.0])
    _layout(fig, _("Validation accuracy per epoch") if title is None else title, height=420)
    fig.update_layout(hovermode="closest")
    return fig


def group_curves(groups: dict[str, list[list[dict]]], key: str = "val_accuracy",
                 title: str | None = None) -> go.Figure:
    """One line per group of seeds: the mean over its runs per epoch, with a band of ± one standard deviation (a
    group of one run is its plain line). Epochs past the shortest run of a group are left out."""
    fig = go.Figure()
    for index, (name, histories) in enumerate(groups.items()):
        length = min(len(epochs) for epochs in histories)
        values = [[row.get(key) for row in epochs[:length]] for epochs in histories]
        if not length or any(v is None for run in values for v in run):
            continue
        epochs, colour = list(range(1, length + 1)), PROJECTOR_PALETTE[index % len(PROJECTOR_PALETTE)]
        mean = [sum(column) / len(column) for column in zip(*values)]
        label = _plain(name)
        if len(values) > 1:
            std = [math.sqrt(sum((v - m) ** 2 for v in column) / (len(column) - 1)) for column, m in zip(zip(*values), mean)]
            fig.add_trace(go.Scatter(x=epochs + epochs[::-1], y=[m + s for m, s in zip(mean, std)]
                                     + [m - s for m, s in zip(mean[::-1], std[::-1])], fill="toself", mode="lines",
                                     line=dict(width=0), fillcolor=colour, opacity=0.2, hoverinfo="skip",
                                     showlegend=False, legendgroup=label))
        fig.add_trace(go.Scatter(x=epochs, y=mean, mode="lines+markers", name=label, line=dict(color=colour),
                                 legendgroup=label, hovertemplate=f"{label}<br>" + _("epoch %{x}: %{y:.4f}")
                                 + (" " + _("(mean of {count} seeds)").format(count=len(values)) if len(values) > 1
                                    else "") + "<extra></extra>"))
    fig.update_xaxes(title_text=_("epoch"), dtick=_epoch_step(max((len(h[0]) for h in groups.values() if h), default=1)))
    fig.update_yaxes(title_text=_(CURVE_AXES[key]))
    _layout(fig, _("Validation accuracy per epoch") if title is None else title, height=420)
    fig.update_layout(hovermode="closest")
    return fig


def accuracy_bars(names: list[str], accuracies: list[float], report: list[float | None] | None = None,
                  references: dict[str, float] = REFERENCES, title: str | None = None,
                  tags: list[str] | None = None) -> go.Figure:
    """Horizontal bars of test accuracy per run, with the report's value and reference lines.

    The axis is zoomed on the working runs (at least 50% accurate): a diverged run such as the
    report's MLP 9 would otherwise squash every other bar into the same length. Runs below the
    axis are named with their accuracy at its left edge. `tags` (run ids) follow each name, uncut, so that
    two runs of one name keep two bars.
    """
    tags = [f" · {tag}" for tag in tags] if tags else [""] * len(names)
    labels = [f"{_plain(name, AXIS_NAME_CHARS)}{tag} · {decimal(acc)}" for name, tag, acc in zip(names, tags, accuracies)]
    working = [a for a in accuracies if a >= 0.5]
    low = max(0.0, min(working + [0.9]) - 0.02)
    fig = go.Figure(go.Bar(y=labels, x=accuracies, orientation="h", name=_("ours"),
                           hovertemplate="%{y}<extra></extra>"))
    if report and any(r is not None for r in report):
        fig.add_trace(go.Scatter(y=labels, x=report, mode="markers", name=_("report"),
                                 marker=dict(symbol="diamond", size=12, color=REPORT_COLOUR),
                                 hovertemplate=_("report: %{x:.4f}") + "<extra></extra>"))
    for (label, value), colour in zip(references.items(), ("#d62728", "#9467bd")):
        fig.add_trace(go.Scatter(x=[value, value], y=[labels[0], labels[-1]], mode="lines",
                                 name=f"{_(label)}: {percent(value, 2)}", line=dict(dash="dot", color=colour, width=2),
                                 hoverinfo="name"))
    for label, accuracy in zip(labels, accuracies):
        if accuracy < low:
            fig.add_annotation(x=low, y=label, text=_("◀ off the scale"), showarrow=False, xanchor="left",
                               font=dict(color="#d62728"))
    fig.update_xaxes(title_text=_("test accuracy"), range=[low, 1.002])
    fig.update_yaxes(autorange="reversed", type="category")
    _layout(fig, _("Test accuracy") if title is None else title, height=max(360, 140 + 32 * len(names)))
    fig.update_layout(hovermode="closest")
    return fig


def class_test_bars(names: list[str], mnist: list[float], drawings: list[float | None], count: int,
                    title: str | None = None) -> go.Figure:
    """Grouped horizontal bars per model: its accuracy on MNIST's 10,000 test images and on the class's drawings."""
    labels = [_plain(name, AXIS_NAME_CHARS) for name in names]
    fig = go.Figure([
        go.Bar(y=labels, x=mnist, orientation="h", name=_("MNIST test set"), marker_color=REPORT_COLOUR,
               text=[percent(v) for v in mnist], textposition="outside",
               hovertemplate=_("%{y}: %{x:.2%} on MNIST") + "<extra></extra>"),
        go.Bar(y=labels, x=drawings, orientation="h",
               name=ngettext("your class's {count} drawing", "your class's {count} drawings", count).format(
                   count=number(count)),
               marker_color=TRAIN_COLOUR, text=[None if v is None else percent(v) for v in drawings],
               textposition="outside", hovertemplate=_("%{y}: %{x:.2%} on your drawings") + "<extra></extra>"),
    ])
    fig.update_xaxes(title_text=_("accuracy"), range=[0, 1.12], tickformat=".0%")
    fig.update_yaxes(autorange="reversed", type="category")
    _layout(fig, _("MNIST's test set against your class's drawings") if title is None else title,
            height=max(320, 120 + 56 * len(names)))
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


PROJECTOR_PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
"""Okabe & Ito's colour-blind-safe qualitative palette (yellow swapped for grey, which a projector washes out)."""


def for_projector(figure: go.Figure) -> go.Figure:
    """The same chart for the back of a classroom: text at 18 px and more, titles at 24, the Okabe–Ito palette for
    runs, cell numbers that can be read. A copy: the figure given may be shared between sessions."""
    fig = go.Figure(figure)
    fig.update_layout(font=dict(size=18), title_font=dict(size=24), colorway=PROJECTOR_PALETTE,
                      legend=dict(font=dict(size=18)), hoverlabel=dict(font=dict(size=18)))
    if fig.layout.height and not fig.layout.width:  # room for the larger text; a fixed-size figure keeps its size
        fig.update_layout(height=round(fig.layout.height * 1.25))
    fig.update_annotations(font_size=20)  # subplot titles and notes
    fig.update_xaxes(title_font_size=20, tickfont_size=18)
    fig.update_yaxes(title_font_size=20, tickfont_size=18)
    fig.update_traces(textfont_size=18, selector=dict(type="heatmap"))
    fig.update_traces(textfont_size=18, selector=dict(type="bar"))
    fig.update_traces(textfont_size=18, selector=dict(type="scatter", mode="text"))
    fig.update_traces(textfont_size=17, selector=dict(type="scatter", mode="markers+text"))  # 4 digits per cell
    return fig



# The inside view (app_pages/inside.py): one image seen by every layer. Arrays in, figures out.

SIGNED = "RdBu_r"  # negative blue, zero white, positive red
OVERLAY = [[0.0, "rgba(33,102,172,0.8)"], [0.5, "rgba(255,255,255,0)"], [1.0, "rgba(178,24,43,0.8)"]]  # 0: see-through


def _z(grid: np.ndarray) -> np.ndarray:
    """A grid for Plotly (NaN: a gap, no hover). An array, not lists: Plotly
    checks a list element by element (a third of a second for CNN 5's layers) and an array at once, and sends it
    as binary: float32 is 4 bytes a value."""
    return np.asarray(grid, np.float32)


def _colour_scale(values: np.ndarray) -> dict:
    """One scale for a whole layer: 0 to its largest value when nothing is negative (after ReLU), else
    symmetric about 0 (blue below, red above)."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low >= 0:
        return dict(colorscale="Blues", zmin=0.0, zmax=high or 1.0)
    peak = max(-low, high) or 1.0
    return dict(colorscale=SIGNED, zmin=-peak, zmid=0.0, zmax=peak)


PICTURE_TEMPLATE = go.layout.Template()


def _picture(traces: list[dict], title: str, height: int) -> go.Figure:
    """Square pixels, row 0 at the top, no axes: the figure is a picture. Built in one go (a figure's update_*
    calls cost more than its data here; the Inside page draws six of these on every stroke)."""
    layout = dict(_base_layout(title, height), hovermode="closest", showlegend=False,
                  margin=dict(l=5, r=5, t=75, b=5), plot_bgcolor="white",
                  template=PICTURE_TEMPLATE,  # Plotly's default (7 KB a chart, sent at every stroke) styles axes: none here
                  xaxis=dict(visible=False, constrain="domain"),
                  yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", constrain="domain"))
    return go.Figure(data=traces, layout=layout)


def _tiled_percent(maps: np.ndarray, of_what: str, signed: bool | None = None) -> tuple[dict, list[dict]]:
    """(n, h, w) maps tiled in a square-ish grid as one heatmap of whole percentages of the largest magnitude (int8:
    a byte a pixel), and the white lines between the tiles.

    A stroke on Inside sends every hidden layer again: as float32 values with each pixel's tile number it was 511 KB
    a stroke for CNN 5, too much for a phone on a school's Wi-Fi (bench/inside_page.py). A colour scale shows no more
    than a hundred steps either way; hover says the percentage (and no longer the tile's number, which was half of
    the bytes left: the tiles are in reading order, and the caption says so)."""
    maps = np.asarray(maps, np.float32)
    count, height, width = maps.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    peak = float(np.abs(maps).max()) or 1.0
    signed = float(maps.min()) < 0 if signed is None else signed
    grid = np.zeros((rows * height, columns * width), np.int8)
    for tile, single in enumerate(np.round(100 * maps / peak).astype(np.int8)):
        top, left = (tile // columns) * height, (tile % columns) * width
        grid[top:top + height, left:left + width] = single
    scale = dict(colorscale=SIGNED, zmin=-100, zmid=0, zmax=100) if signed else dict(colorscale="Blues", zmin=0,
                                                                                       zmax=100)
    heatmap = dict(type="heatmap", z=grid, showscale=False, **scale,
                   hovertemplate=_("%{{z}}% of {what}").format(what=of_what) + "<extra></extra>")
    line = dict(type="line", line=dict(color="white", width=2), layer="above")
    lines = ([dict(line, x0=c * width - 0.5, x1=c * width - 0.5, y0=-0.5, y1=rows * height - 0.5)
              for c in range(1, columns)] +
             [dict(line, y0=r * height - 0.5, y1=r * height - 0.5, x0=-0.5, x1=columns * width - 0.5)
              for r in range(1, rows)])
    return heatmap, lines


def layer_maps(values, name: str, kind: str, shape: tuple, height: int = 300) -> go.Figure:
    """A Conv2D or pooling layer's output for one image (values: H×W×C, the channels shown): each channel a small
    map on the layer's one colour scale, as in CNN Explainer's overview (0 to the largest after ReLU, else
    symmetric about 0: blue below, red above), the channels in reading order. Hover gives a pixel's strength."""
    maps = np.moveaxis(np.asarray(values, np.float32), -1, 0)
    more = "" if len(maps) == shape[-1] else ", " + _("first {count}").format(count=len(maps))
    heatmap, lines = _tiled_percent(maps, _("the layer's strongest output"))
    figure = _picture([heatmap], f"{_plain(name)}<br><sup>{kind} · {'×'.join(map(str, shape))}{more}</sup>", height)
    figure.layout.shapes = lines
    return figure


def unit_bars(values, name: str, kind: str, top: int = 10, height: int = 300) -> go.Figure:
    """A Dense layer's output: its `top` strongest units as bars (of how many it has), strongest at the top."""
    values = np.asarray(values, np.float32).reshape(-1)
    order = np.argsort(-values, kind="stable")[:top]
    fig = go.Figure(go.Bar(y=[_("unit {number}").format(number=i) for i in order], x=values[order].tolist(),
                           orientation="h", marker_color=TRAIN_COLOUR, hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text=_("output"))
    units = _("{count} units, top {top}").format(count=len(values), top=len(order))
    fig.update_layout(**_base_layout(f"{_plain(name)}<br><sup>{kind} · {units}</sup>", height))
    fig.update_layout(hovermode="closest", showlegend=False, margin=dict(l=70, r=10, t=75, b=45))
    return fig


def saliency_overlay(image, saliency, digit: int, title: str | None = None) -> go.Figure:
    """The input (ink dark) with the occlusion saliency over it: red where covering the ink lowers the
    probability of `digit`, blue where it raises it, see-through where it changes nothing."""
    image, saliency = np.asarray(image, np.float32), np.asarray(saliency, np.float32)
    peak = float(np.abs(saliency).max()) or 1.0
    traces = [
        dict(type="heatmap", z=_z(image), colorscale="Greys", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
        dict(type="heatmap", z=_z(saliency), colorscale=OVERLAY, zmin=-peak, zmid=0, zmax=peak, showscale=False,
             hovertemplate=_("row %{{y}}, column %{{x}}: covering it changes P({digit}) by −%{{z:.3f}}").format(
                 digit=digit) + "<extra></extra>"),
    ]
    title = _("Which pixels decided") if title is None else title
    legend = _("red: covering it lowers P({digit})<br>blue: covering it raises it").format(digit=digit)
    return _picture(traces, f"{title}<br><sup>{legend}</sup>", 360)


def weight_tiles(maps, what: str, title: str, height: int = 340) -> go.Figure:
    """Weights as pictures on one signed scale (red adds, blue subtracts): the first Conv2D's filters, or each
    first-layer Dense unit's 784 weights as a 28×28 picture (what the unit looks for)."""
    of_what = _("the largest weight of any filter") if what == "filter" else _("the largest weight of any unit")
    heatmap, lines = _tiled_percent(np.asarray(maps, np.float32), of_what, signed=True)
    figure = _picture([heatmap], title, height)
    figure.layout.shapes = lines
    return figure


def linear_templates(templates, title: str | None = None) -> go.Figure:
    """A linear network's whole computation: each digit's logit is the drawing's ink times that digit's template
    (red pixels add to it, blue subtract) plus a bias. One signed scale for all ten."""
    templates = np.asarray(templates, np.float32)
    peak = float(np.abs(templates).max()) or 1.0
    fig = make_subplots(rows=2, cols=5, subplot_titles=DIGITS, horizontal_spacing=0.02, vertical_spacing=0.1)
    for digit, template in enumerate(templates):
        fig.add_trace(go.Heatmap(z=_z(template), colorscale=SIGNED, zmin=-peak, zmid=0.0, zmax=peak, showscale=False,
                                 hovertemplate=_("digit {digit}, row %{{y}}, column %{{x}}: weight %{{z:.4f}}").format(
                                     digit=digit) + "<extra></extra>"), digit // 5 + 1, digit % 5 + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for panel in range(1, 11):  # square pixels in every panel
        fig.update_yaxes(scaleanchor=f"x{'' if panel == 1 else panel}", row=(panel - 1) // 5 + 1,
                         col=(panel - 1) % 5 + 1)
    fig.update_layout(**_base_layout(_("The ten templates") if title is None else title, 420))
    fig.update_layout(hovermode="closest", showlegend=False, plot_bgcolor="white", margin=dict(l=5, r=5, t=70, b=5))
    return fig


def vote_bars(choices: list[str], votes: dict[str, list[int]], title: str, axis: str) -> go.Figure:
    """How the class voted: a bar per choice, one series per vote (the first, then the second beside it), the count
    on each bar. Labels arrive translated."""
    fig = go.Figure([go.Bar(x=choices, y=counts, name=_plain(name), text=[str(n) for n in counts],
                            textposition="outside", cliponaxis=False, hovertemplate="%{x}: %{y}<extra></extra>")
                     for name, counts in votes.items()])
    top = max((n for counts in votes.values() for n in counts), default=0)
    fig.update_yaxes(title_text=axis, range=[0, max(1, top) * 1.2], dtick=1 if top < 10 else None)
    fig.update_xaxes(type="category")
    _layout(fig, title, height=340)
    fig.update_layout(barmode="group", hovermode="closest", showlegend=len(votes) > 1)
    return fig
