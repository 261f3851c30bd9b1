"""The inside view of one image, shared by the Inside page and Draw's "Inside the network" toggle: every hidden
layer, what the first layer looks for, and a linear network's templates. Widgets and figures only: the numbers
come from the prediction process (Predictor.inspect)."""

from __future__ import annotations

import numpy as np

import charts
from common import md, projector_on, show_figure, st
from mnistlab.i18n import _, decimal, percent
from mnistlab.presets import get_preset

LAYERS_PER_ROW = {False: 4, True: 3}  # by projector mode: its larger titles need wider columns


def show_inside(run, image, seen, prefix: str) -> None:
    """Everything below the prediction; `prefix` keeps the charts' keys apart on each page."""
    st.subheader(_("Layer by layer"))
    show_layers(seen, prefix)
    st.subheader(_("What the first layer looks for"))
    show_first_layer(seen, prefix)
    if seen.templates is not None:
        show_templates(run, seen, image, prefix)


def show_layers(seen, prefix: str) -> None:
    hidden = seen.layers[:-1]  # the last layer's output is the probabilities, shown above
    if not hidden:
        st.write(_("This network has no hidden layer to look into: its input goes straight to the output."))
        return
    per_row = LAYERS_PER_ROW[projector_on()]
    for start in range(0, len(hidden), per_row):
        row = hidden[start:start + per_row]
        for column, out in zip(st.columns(per_row), row):
            with column:
                if len(out.shape) == 3:
                    figure = charts.layer_maps(out.values, out.name, out.kind, out.shape)
                else:
                    figure = charts.unit_bars(out.values, out.name, out.kind)
                show_figure(figure, key=f"{prefix}_layer_{start}_{out.name}")
    st.caption(_("Each small square is one channel's output for this image, channel 0 at the top left and on in "
                 "reading order, all of a layer's channels on one colour scale (darker: stronger; red and blue where a "
                 "layer's outputs can be negative). A Dense layer shows its ten strongest units. Flatten and Dropout "
                 "are left out: they change nothing at inference. Hover for a pixel's strength, as a percentage of the "
                 "layer's strongest output."))


def show_templates(run, seen, image, prefix: str) -> None:
    st.subheader(_("The whole network is ten templates"))
    show_figure(charts.linear_templates(seen.templates.templates, _("The ten templates")), key=f"{prefix}_templates")
    scores = np.tensordot(seen.templates.templates, image, axes=([1, 2], [0, 1])) + seen.templates.biases
    report = ", ".join(percent(get_preset(name).report.accuracy, 2) for name in ("MLP 1", "MLP 2", "MLP 3"))
    st.write(_("{name}'s hidden layers have no activation function, so its layers multiply out to one linear map: "
               "each digit's score is the drawing's ink times that digit's template above, plus a bias (for this "
               "image the {digit}'s score is {score}, the highest). However many units such a network has, it holds "
               "one template per digit, and one template cannot fit every way of writing a digit — that is why the "
               "report's MLP 1, 2 and 3 all stop near 92% ({report}).").format(
        name=md(run.name), digit=seen.digit, score=decimal(scores[seen.digit], 2), report=report))


def show_first_layer(seen, prefix: str) -> None:
    if seen.first_layer_kind == "filters":
        show_figure(charts.weight_tiles(seen.first_layer, "filter", _("First Conv2D's filters")),
                    key=f"{prefix}_first")
        st.caption(_("Each square is one filter: the pattern of ink (red) and blank (blue) it responds to most. The "
                     "first layer's maps above are the drawing scanned with these."))
    else:
        show_figure(charts.weight_tiles(seen.first_layer, "unit", _("First Dense layer's weights, one unit each")),
                    key=f"{prefix}_first")
        st.caption(_("Each picture is one hidden unit's 784 weights laid out as the 28×28 input: ink on red pixels "
                     "raises the unit's output, ink on blue lowers it."))
