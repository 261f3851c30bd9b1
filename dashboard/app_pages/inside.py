"""Inside: one image seen by a network, layer by layer — what each layer outputs, what the first layer looks for,
which pixels decided, and for a linear network its ten templates. Reached from Draw (the drawing) and Results
(a test image); the work runs in the prediction process, never in this script."""

import numpy as np

import charts
import readings
from common import (INSIDE_DRAWING, INSIDE_TEST_IMAGE, model_label, predictor, projector_on, show_figure, st, store,
                    test_set)
from inside_view import show_inside
from mnistlab.i18n import _, percent
from mnistlab.preprocess import preprocess_steps
from mnistlab.store import StoreError

MODELS_OFFERED = {"best": 40, "newest": 10}


def take_request() -> None:
    """What Draw or Results asked to look at (common.look_inside), put into this page's widgets before they are
    drawn."""
    request = st.session_state.pop("inside_request", None)
    if not request:
        return
    st.session_state["inside_model"] = request["run_id"]
    st.session_state["inside_source"] = request["source"]
    if request["source"] == INSIDE_TEST_IMAGE:
        st.session_state["inside_test"] = int(request["index"])
    else:
        st.session_state["inside_strokes"] = request.get("strokes")
        st.session_state["inside_drawing"] = request.get("drawing")
        st.session_state["inside_generation"] = st.session_state.get("inside_generation", 0) + 1


def drawn_image():
    """The 28×28 input from this page's canvas (which starts with the drawing brought from Draw), or None."""
    from streamlit_drawable_canvas import st_canvas

    generation = st.session_state.setdefault("inside_generation", 0)
    canvas = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=f"inside_canvas_{generation}",
                       initial_drawing=st.session_state.get("inside_strokes"))
    if st.button(_("Clear"), key="inside_clear"):
        for key in ("inside_strokes", "inside_drawing"):
            st.session_state.pop(key, None)
        st.session_state["inside_generation"] = generation + 1
        st.rerun()
    steps = preprocess_steps(canvas.image_data) if canvas is not None and canvas.image_data is not None else None
    if steps is not None:
        return steps.centred
    return st.session_state.get("inside_drawing")  # the canvas has not sent the strokes it started with yet


def test_image():
    x_test, y_test = test_set()
    index = st.number_input(_("Test image number (0–9999)"), min_value=0, max_value=len(x_test) - 1, step=1,
                            key="inside_test")
    what = _("test image #{number}").format(number=index)
    st.image(x_test[index], width=140, caption=_("{what}: a {digit}").format(what=what, digit=y_test[index]),
             alt=readings.digit_alt(int(y_test[index]), what=what))
    return x_test[index].astype(np.float32) / 255.0


st.title(_("Inside the network"))
take_request()
runs = store().model_runs(**MODELS_OFFERED)
if not runs:
    st.info(_("There is no trained model to look inside yet: train one from Build (or Draw's quick CNN)."),
            icon=":material/neurology:")
    st.stop()
by_id = {run.run_id: run for run in runs}
if st.session_state.get("inside_model") not in by_id:
    st.session_state["inside_model"] = runs[0].run_id

labels = {rid: model_label(run) for rid, run in by_id.items()}  # text only: a widget keeps its format_func
# Above the columns: the canvas's column is too narrow for a label that ends in the whole run id
run_id = st.selectbox(_("Model"), list(by_id), key="inside_model", format_func=labels.get, width=640)
left, right = st.columns([5, 8], gap="medium")  # the left one holds the 280 px canvas
with left:
    source = st.radio(_("Look at"), (INSIDE_DRAWING, INSIDE_TEST_IMAGE), key="inside_source", horizontal=True,
                      format_func=_)  # the choices are kept in English (Draw and Results ask for them by name)
    image = drawn_image() if source == INSIDE_DRAWING else test_image()

if image is None:
    right.subheader(_("Draw a digit on the canvas"))
    right.write(_("Every layer's view of it appears here as soon as there is a digit to read."))
    st.stop()
run = by_id[run_id]
try:
    seen = predictor().inspect(run, image)
except StoreError as err:
    st.error(str(err), icon=":material/warning:")
    st.stop()
with right:
    with st.container(key="reading_headline"):
        st.subheader(_("It reads a **{digit}** ({sure} sure)").format(digit=seen.digit,
                                                                      sure=percent(seen.probabilities[seen.digit], 0)))
    st.html(readings.probability_bars(seen.probabilities, projector_on()))
    pixels, _rest = st.columns(2)  # the bars across the column (ten labels fit in projector mode), the saliency below
    with pixels:
        show_figure(charts.saliency_overlay(image, seen.saliency, seen.digit, _("Which pixels decided")),
                    key="inside_saliency")

show_inside(run, image, seen, "inside")
