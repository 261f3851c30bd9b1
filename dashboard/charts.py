"""Plotly figures for the dashboard: pure functions of plain data, testable without Streamlit.

Made for a projector: a title on every chart, labelled axes, large fonts, digits 0–9 as
categories, values in the hover text.
"""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

DIGITS = [str(d) for d in range(10)]
FONT = dict(size=15)
TRAIN_COLOUR, VAL_COLOUR, REPORT_COLOUR = "#1f77b4", "#ff7f0e", "#7f7f7f"
AXIS_NAME_CHARS = 40  # a run name on a bar chart's axis, at most
REFERENCES = {  # well-known MNIST test accuracies, for scale
    "LeCun et al. 1998, 300-100 MLP": 0.9695,
    "keras-io simple convnet (34,826 params)": 0.9922,
}


def _plain(text: str, most: int | None = None) -> str:
    """A user's text (a run name) for a Plotly label: Plotly renders <a>, <b>, <br> and entities in labels.
    With `most`, cut to that many characters, so one long name cannot squeeze a chart's bars away."""
    text = str(text)
    if most is not None and len(text) > most:
        text = text[:most - 1] + "…"
    return html.escape(text, quote=False)


def _base_layout(title: str, height: int = 380) -> dict:
    return dict(title=dict(text=title, x=0.01), font=FONT, height=height, margin=dict(l=60, r=20, t=60, b=50),
                legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0.0), hovermode="x unified")


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(**_base_layout(title, height))
    return fig


def _epoch_step(epochs: int) -> int:
    """Whole-number epoch ticks, at most about ten of them (Plotly would mark half epochs)."""
    return max(1, math.ceil(epochs / 10))


def training_curves(epochs: list[dict], title: str = "Training curves") -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.12)
    x = [row["epoch"] for row in epochs]
    for col, key in ((1, "loss"), (2, "accuracy")):
        fig.add_trace(go.Scatter(x=x, y=[row[key] for row in epochs], name="training", mode="lines+markers",
                                 line=dict(color=TRAIN_COLOUR), legendgroup="train", showlegend=col == 1), 1, col)
        val = [row.get(f"val_{key}") for row in epochs]
        if any(v is not None for v in val):
            fig.add_trace(go.Scatter(x=x, y=val, name="validation", mode="lines+markers",
                                     line=dict(color=VAL_COLOUR), legendgroup="val", showlegend=col == 1), 1, col)
        fig.update_xaxes(title_text="epoch", row=1, col=col, rangemode="tozero" if len(x) < 2 else None,
                         dtick=_epoch_step(len(x)))
    fig.update_yaxes(title_text="cross-entropy loss", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", row=1, col=2)
    return _layout(fig, title)


def batch_loss(batches: list[dict], steps_per_epoch: int | None = None,
               title: str = "Loss within each epoch") -> go.Figure:
    """Keras's running loss every few batches, against fractional epochs."""
    steps = steps_per_epoch or max((b["batch"] for b in batches), default=1)
    x = [b["epoch"] - 1 + b["batch"] / steps for b in batches]
    fig = go.Figure(go.Scatter(x=x, y=[b["loss"] for b in batches], mode="lines+markers", name="running loss",
                               line=dict(color=TRAIN_COLOUR), marker=dict(size=5),
                               customdata=[[b["epoch"], b["batch"]] for b in batches],
                               hovertemplate="epoch %{customdata[0]}, batch %{customdata[1]}: loss %{y:.4f}"
                                             "<extra></extra>"))
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(title_text="loss (running mean in the epoch)")
    _layout(fig, title, height=320)
    fig.update_layout(hovermode="closest")
    return fig


def per_class_bars(series: dict[str, list[float]], title: str = "Accuracy per digit") -> go.Figure:
    """Grouped bars, one group per digit, one bar per named series (a run, or the report)."""
    fig = go.Figure()
    for name, values in series.items():
        label = _plain(name)
        fig.add_trace(go.Bar(x=DIGITS, y=values, name=label, text=[f"{v:.3f}" for v in values],
                             textposition="outside", hovertemplate=f"{label}<br>digit %{{x}}: %{{y:.4f}}<extra></extra>",
                             marker_color=REPORT_COLOUR if name.startswith("Report") else None))
    low = min((v for values in series.values() for v in values), default=0.0)
    fig.update_xaxes(title_text="digit", type="category")
    fig.update_yaxes(title_text="accuracy (share of that digit's test images)", range=[max(0.0, low - 0.05), 1.02])
    _layout(fig, title, height=420)
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


def confusion_heatmap(matrix: list[list[int]], title: str = "Confusion matrix (test set)") -> go.Figure:
    """Rows are true digits, columns predicted digits; the diagonal is right.

    The colour scale tops out at the largest mistake count, so the mistakes stand out
    instead of fading next to the thousand-strong diagonal (whose counts are printed).
    """
    mistakes = [v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j]
    fig = go.Figure(go.Heatmap(z=matrix, x=DIGITS, y=DIGITS, colorscale="Blues", text=matrix, zmin=0,
                               zmax=max(mistakes + [1]),
                               texttemplate="%{text}", hovertemplate="true %{y}, predicted %{x}: %{z} images"
                                                                     "<extra></extra>",
                               colorbar=dict(title="mistakes")))
    fig.update_xaxes(title_text="predicted digit", type="category", side="bottom")
    fig.update_yaxes(title_text="true digit", type="category", autorange="reversed")
    _layout(fig, title, height=560)
    fig.update_layout(hovermode="closest")
    return fig


def probability_bars(probabilities, title: str = "How sure is the model?") -> go.Figure:
    """Built in one go (one validation pass, 1 ms instead of 8: the Draw page draws it on every stroke)."""
    values = [float(p) for p in probabilities]
    best = max(range(10), key=values.__getitem__)
    colours = ["#2ca02c" if d == best else "#9ecae1" for d in range(10)]
    bars = dict(type="bar", x=DIGITS, y=values, marker=dict(color=colours), text=[f"{v:.0%}" for v in values],
                textposition="outside", hovertemplate="digit %{x}: %{y:.2%}<extra></extra>")
    layout = dict(_base_layout(title, height=360), hovermode="closest", showlegend=False,
                  xaxis=dict(title=dict(text="digit"), type="category"),
                  yaxis=dict(title=dict(text="probability"), range=[0, 1.12], tickformat=".0%"))
    return go.Figure(data=[bars], layout=layout)


def compare_curves(histories: dict[str, list[dict]], key: str = "val_accuracy",
                   title: str = "Validation accuracy per epoch") -> go.Figure:
    """One line per run; epochs on whole-number ticks, an accuracy axis never past 1."""
    fig = go.Figure()
    for name, epochs in histories.items():
        fig.add_trace(go.Scatter(x=[row["epoch"] for row in epochs], y=[row.get(key) for row in epochs],
                                 mode="lines+markers", name=_plain(name)))
    fig.update_xaxes(title_text="epoch", dtick=_epoch_step(max(map(len, histories.values()), default=1)))
    fig.update_yaxes(title_text=key.replace("val_", "validation ").replace("_", " "))
    values = [row[key] for epochs in histories.values() for row in epochs if row.get(key) is not None]
    if "accuracy" in key and values:
        fig.update_yaxes(range=[max(0.0, min(values) - 0.02), 1.0])
    _layout(fig, title, height=420)
    fig.update_layout(hovermode="closest")
    return fig


def accuracy_bars(names: list[str], accuracies: list[float], report: list[float | None] | None = None,
                  references: dict[str, float] = REFERENCES, title: str = "Test accuracy",
                  tags: list[str] | None = None) -> go.Figure:
    """Horizontal bars of test accuracy per run, with the report's value and reference lines.

    The axis is zoomed on the working runs (at least 50% accurate): a diverged run such as the
    report's MLP 9 would otherwise squash every other bar into the same length. Runs below the
    axis are named with their accuracy at its left edge. `tags` (run ids) follow each name, uncut, so that
    two runs of one name keep two bars.
    """
    tags = [f" · {tag}" for tag in tags] if tags else [""] * len(names)
    labels = [f"{_plain(name, AXIS_NAME_CHARS)}{tag} · {acc:.4f}" for name, tag, acc in zip(names, tags, accuracies)]
    working = [a for a in accuracies if a >= 0.5]
    low = max(0.0, min(working + [0.9]) - 0.02)
    fig = go.Figure(go.Bar(y=labels, x=accuracies, orientation="h", name="ours",
                           hovertemplate="%{y}<extra></extra>"))
    if report and any(r is not None for r in report):
        fig.add_trace(go.Scatter(y=labels, x=report, mode="markers", name="report",
                                 marker=dict(symbol="diamond", size=12, color=REPORT_COLOUR),
                                 hovertemplate="report: %{x:.4f}<extra></extra>"))
    for (label, value), colour in zip(references.items(), ("#d62728", "#9467bd")):
        fig.add_trace(go.Scatter(x=[value, value], y=[labels[0], labels[-1]], mode="lines",
                                 name=f"{label}: {value:.2%}", line=dict(dash="dot", color=colour, width=2),
                                 hoverinfo="name"))
    for label, accuracy in zip(labels, accuracies):
        if accuracy < low:
            fig.add_annotation(x=low, y=label, text="◀ off the scale", showarrow=False, xanchor="left",
                               font=dict(color="#d62728"))
    fig.update_xaxes(title_text="test accuracy", range=[low, 1.002])
    fig.update_yaxes(autorange="reversed", type="category")
    _layout(fig, title, height=max(360, 140 + 32 * len(names)))
    fig.update_layout(hovermode="closest")
    return fig
