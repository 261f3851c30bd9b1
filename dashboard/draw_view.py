"""Draw's drawing area: the canvas, the readings, what the model sees and every model's answer.

A fragment: a stroke reruns this area, not the app's navigation, sidebar and title. Kept out of the page file:
Streamlit keeps a widget's callback, and a fragment's function, for as long as the session lives, and a function
defined in a page holds on to that page's variables (see callbacks.py); the fragment takes no arguments for the
same reason, and reads the models offered itself."""

from __future__ import annotations

import base64
import io

import numpy as np

import charts
import readings
from callbacks import mark_draw_model_chosen
from common import look_inside, model_label, predictor, projector_on, show_figure, st, store
from inside_view import show_inside
from language import fragment
from mnistlab.drawings import DrawingError, Drawings
from mnistlab.i18n import N_, _, ngettext, number, percent
from mnistlab.preprocess import preprocess_steps, step_pictures
from mnistlab.store import StoreError
from session_role import person

DIGITS = [str(digit) for digit in range(10)]
MODELS_OFFERED = {"best": 40, "newest": 10}  # a rerun's store cost stays the same with 10 or 10,000 runs
MAX_MODELS_IN_TABLE = 8  # with the chosen model, nine models: every model a rerun asks stays loaded (CAPACITY)
STEP_CAPTIONS = (N_("your drawing (½ size)"), N_("cropped to the ink (½ size)"), N_("longer side scaled to 20 px (×5)"),
                 N_("centred in 28×28: the input (×5)"))  # shown as _(caption)


def offered_models():
    """The models Draw offers, most accurate first."""
    return store().model_runs(**MODELS_OFFERED)


@fragment
def drawing_area() -> None:
    """Read afresh at every stroke: a model trained meanwhile is offered at the next one."""
    runs = offered_models()
    if not runs:  # every model deleted since the page was drawn
        st.rerun(scope="app")
    by_id = {run.run_id: run for run in runs}
    run_id = _chosen_model(runs)
    left, right = st.columns([1, 1], gap="large")
    with left:
        labels = {rid: model_label(run) for rid, run in by_id.items()}  # text only: a widget keeps its format_func
        st.selectbox(_("Model"), list(by_id), key="draw_model", format_func=labels.get, on_change=mark_draw_model_chosen)
        compact = st.container(key="compact_reading")  # shown on a phone only (readings._style): above the canvas
        canvas, generation, inside_on = _canvas()
    image = canvas.image_data if canvas is not None else None
    steps = preprocess_steps(image) if image is not None else None
    prediction = _reading(by_id[run_id], steps, runs)
    projector = projector_on()
    if prediction is not None:
        compact.markdown(_("Reading: **{digit}** · {sure} sure").format(digit=prediction.digit,
                                                                      sure=percent(prediction.confidence, 0)))
    with right:
        _show_reading(prediction, run_id, steps, canvas, projector)
    if prediction is None:
        return
    with left:
        _save_for_the_class(image, generation)
    st.html(readings.steps_and_answers([png_data_uri(picture) for picture in step_pictures(steps)],
                                       [_(caption) for caption in STEP_CAPTIONS],
                                       _answers(runs[:MAX_MODELS_IN_TABLE], steps), projector))
    if inside_on:  # off by default: a class drawing at once pays only for the readings
        _inside(by_id[run_id], steps)


def _chosen_model(runs) -> str:
    """The model in the box: the one the user picked, else the most accurate one that loads."""
    broken = predictor().known_broken()
    chosen = st.session_state.get("draw_model")
    if chosen not in {run.run_id for run in runs} or (chosen in broken
                                                      and not st.session_state.get("draw_model_chosen")):
        st.session_state["draw_model"] = next((run.run_id for run in runs if run.run_id not in broken), runs[0].run_id)
    return st.session_state["draw_model"]


def _canvas():
    """The canvas (a new one after Clear or Save), Clear, and the inside-view toggle."""
    from streamlit_drawable_canvas import st_canvas

    generation = st.session_state.setdefault("draw_generation", 0)
    canvas = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=f"draw_canvas_{generation}")
    st.caption(_("Draw one digit, large or small, anywhere on the square."))
    clear, inside = st.columns([1, 3], vertical_alignment="center")
    clear.button(_("Clear"), key="draw_clear", on_click=_new_canvas)
    inside_on = inside.toggle(_("Inside the network"), key="draw_inside_on",
                              help=_("every layer's view of the drawing, for the chosen model, redrawn with each "
                                     "stroke"))
    if "draw_saved" in st.session_state:
        st.success(st.session_state.pop("draw_saved"), icon=":material/save:")
    return canvas, generation, inside_on


def _new_canvas() -> None:
    """A canvas has no clear command: a new key makes a new, empty one (Clear's callback, before the run)."""
    st.session_state["draw_generation"] = st.session_state.get("draw_generation", 0) + 1


def _reading(run, steps, runs):
    """The chosen model's answer for the drawing, None for a blank canvas; a model that does not load is said."""
    try:
        prediction = predictor().answers([run], steps)[run.run_id] if steps is not None else None
    except StoreError as err:  # the prediction process itself could not start: say why
        st.error(str(err), icon=":material/warning:")
        st.stop()
    if isinstance(prediction, StoreError):
        if not st.session_state.get("draw_model_chosen") and any(
                other.run_id not in predictor().known_broken() for other in runs):
            st.rerun()  # the default model does not load: the next run picks another
        st.error(str(prediction), icon=":material/warning:")
        st.stop()
    return prediction


def _show_reading(prediction, run_id: str, steps, canvas, projector: bool) -> None:
    if prediction is None:
        st.subheader(_("Draw a digit on the canvas"))
        st.write(_("The prediction appears here as soon as there is a digit to read "
                   "(a blank canvas or a single dot has none)."))
        return
    with st.container(key="reading_headline"):  # larger in projector mode: what the back of the room reads
        st.subheader(_("I read a **{digit}** ({sure} sure)").format(digit=prediction.digit,
                                                                    sure=percent(prediction.confidence, 0)))
    st.html(readings.probability_bars(prediction.probabilities, projector))
    if st.button(_("Open on the Inside page"), key="draw_inside", icon=":material/visibility:"):
        look_inside(run_id, drawing=steps.centred, strokes=canvas.json_data)


def _save_for_the_class(image, generation: int) -> None:
    """The class's own test set: the student says which digit they meant, and saves it."""
    meant = st.pills(_("Save it for the class test — it is a"), DIGITS, key=f"draw_label_{generation}")
    if not st.button(_("Save"), key="draw_save", disabled=meant is None, icon=":material/save:"):
        return
    try:
        class_set = Drawings(store().home)
        class_set.save(image, int(meant), person().tag)  # anonymous: lets this session undo a wrong label
    except DrawingError as err:
        st.error(str(err), icon=":material/warning:")
        return
    count = class_set.count()
    st.session_state["draw_saved"] = ngettext("Saved as a {digit}. The class's set has {count} drawing.",
                                              "Saved as a {digit}. The class's set has {count} drawings.",
                                              count).format(digit=meant, count=number(count))
    _new_canvas()  # a clean one for the next digit
    st.rerun()


def _answers(table, steps) -> list[readings.Answer]:
    """Every model's answer for the drawing; a model that cannot answer says why in its row."""
    try:
        answers = predictor().answers(table, steps)  # one request for the whole table, after the chosen model's
    except StoreError as err:
        answers = dict.fromkeys((other.run_id for other in table), err)
    rows = []
    for other in table:
        guess = answers[other.run_id]
        failed = isinstance(guess, StoreError)
        rows.append(readings.Answer(other.name, other.run_id, None if failed else guess.digit,
                                    None if failed else guess.confidence, other.metrics["accuracy"],
                                    str(guess) if failed else ""))
    return rows


def png_data_uri(picture: np.ndarray) -> str:
    """A picture as an inline PNG, shown at its own size (no rescaling in the browser). Inline, a stroke's four
    steps are no media files: as arrays they were four, each a file the browser fetched back from the server
    (6 ms of the server's CPU per stroke, docs/benchmarks.md)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _inside(run, steps) -> None:
    try:
        seen = predictor().inspect(run, steps.centred)
    except StoreError as err:
        st.error(str(err), icon=":material/warning:")
        return
    st.subheader(_("Inside the network"))
    saliency, _rest = st.columns([1, 2])
    with saliency:
        show_figure(charts.saliency_overlay(steps.centred, seen.saliency, seen.digit, _("Which pixels decided")),
                    key="draw_saliency")
    show_inside(run, steps.centred, seen, "draw_inside")
