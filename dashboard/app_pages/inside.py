"""Inside: one image seen by a network, layer by layer — what each layer outputs, what the first layer looks for,
which pixels decided, and for a linear network its ten templates. Reached from Draw (the drawing) and Results
(a test image); the work runs in the prediction process, never in this script."""

import numpy as np

import charts
from common import INSIDE_DRAWING, INSIDE_TEST_IMAGE, md, predictor, show_figure, st, store, test_set
from mnistlab.preprocess import preprocess_steps
from mnistlab.presets import get_preset
from mnistlab.store import StoreError

MODELS_OFFERED = {"best": 40, "newest": 10}
LAYERS_PER_ROW = {False: 4, True: 3}  # by projector mode: its larger titles need wider columns


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
    if st.button("Clear", key="inside_clear"):
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
    index = st.number_input("Test image number (0–9999)", min_value=0, max_value=len(x_test) - 1, step=1,
                            key="inside_test")
    st.image(x_test[index], width=140, caption=f"test image #{index}: a {y_test[index]}")
    return x_test[index].astype(np.float32) / 255.0


def show_layers(seen) -> None:
    hidden = seen.layers[:-1]  # the last layer's output is the probabilities, shown above
    if not hidden:
        st.write("This network has no hidden layer to look into: its input goes straight to the output.")
        return
    per_row = LAYERS_PER_ROW[bool(st.session_state.get("projector"))]
    for start in range(0, len(hidden), per_row):
        row = hidden[start:start + per_row]
        for column, out in zip(st.columns(per_row), row):
            with column:
                if len(out.shape) == 3:
                    figure = charts.layer_maps(out.values, out.name, out.kind, out.shape)
                else:
                    figure = charts.unit_bars(out.values, out.name, out.kind)
                show_figure(figure, key=f"inside_layer_{start}_{out.name}")
    st.caption("Each small square is one channel's output for this image, all of a layer's channels on one colour "
               "scale (darker: stronger; red and blue where a layer's outputs can be negative). A Dense layer shows "
               "its ten strongest units. Flatten and Dropout are left out: they change nothing at inference. "
               "Hover for values.")


def show_templates(run, seen, image) -> None:
    st.subheader("The whole network is ten templates")
    show_figure(charts.linear_templates(seen.templates.templates), key="inside_templates")
    scores = np.tensordot(seen.templates.templates, image, axes=([1, 2], [0, 1])) + seen.templates.biases
    st.write(f"{md(run.name)}'s hidden layers have no activation function, so its layers multiply out to one "
             f"linear map: each digit's score is the drawing's ink times that digit's template above, plus a bias "
             f"(for this image the {seen.digit}'s score is {scores[seen.digit]:.2f}, the highest). However many "
             f"units such a network has, it holds one template per digit, and one template cannot fit every way "
             f"of writing a digit — that is why the report's MLP 1, 2 and 3 all stop near 92% "
             f"({', '.join(f'{get_preset(n).report.accuracy:.2%}' for n in ('MLP 1', 'MLP 2', 'MLP 3'))}).")


st.title("Inside the network")
take_request()
runs = store().model_runs(**MODELS_OFFERED)
if not runs:
    st.info("There is no trained model to look inside yet: train one from Build (or Draw's quick CNN).",
            icon=":material/neurology:")
    st.stop()
by_id = {run.run_id: run for run in runs}
if st.session_state.get("inside_model") not in by_id:
    st.session_state["inside_model"] = runs[0].run_id

left, right = st.columns([5, 8], gap="medium")  # the left one holds the 280 px canvas
with left:
    labels = {rid: f"{run.name} · {run.metrics['accuracy']:.2%} · {rid[:15]}" for rid, run in by_id.items()}
    run_id = st.selectbox("Model", list(by_id), key="inside_model", format_func=labels.get)
    source = st.radio("Look at", (INSIDE_DRAWING, INSIDE_TEST_IMAGE), key="inside_source", horizontal=True)
    image = drawn_image() if source == INSIDE_DRAWING else test_image()

if image is None:
    right.subheader("Draw a digit on the canvas")
    right.write("Every layer's view of it appears here as soon as there is a digit to read.")
    st.stop()
run = by_id[run_id]
try:
    seen = predictor().inspect(run, image)
except StoreError as err:
    st.error(str(err), icon=":material/warning:")
    st.stop()
with right:
    st.subheader(f"It reads a **{seen.digit}** ({seen.probabilities[seen.digit]:.0%} sure)")
    probabilities, pixels = st.columns(2)
    with probabilities:
        show_figure(charts.probability_bars(seen.probabilities, title="Probabilities"), key="inside_probs")
    with pixels:
        show_figure(charts.saliency_overlay(image, seen.saliency, seen.digit), key="inside_saliency")

st.subheader("Layer by layer")
show_layers(seen)

st.subheader("What the first layer looks for")
if seen.first_layer_kind == "filters":
    show_figure(charts.weight_tiles(seen.first_layer, "filter", "First Conv2D's filters"), key="inside_first")
    st.caption("Each square is one filter: the pattern of ink (red) and blank (blue) it responds to most. The "
               "first layer's maps above are the drawing scanned with these.")
else:
    show_figure(charts.weight_tiles(seen.first_layer, "unit", "First Dense layer's weights, one unit each"),
                key="inside_first")
    st.caption("Each picture is one hidden unit's 784 weights laid out as the 28×28 input: ink on red pixels "
               "raises the unit's output, ink on blue lowers it.")

if seen.templates is not None:
    show_templates(run, seen, image)
