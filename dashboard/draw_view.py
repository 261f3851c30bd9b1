"""Draw's drawing area: the canvas, the readings, what the model sees and every model's answer.

Kept out of the page file: Streamlit keeps a widget's callback for as long as the session lives, and a function
defined in a page holds on to that page's variables (see callbacks.py). Not a fragment: a stroke's rerun costs
the server about the same with one (0.037 against 0.040 CPU-s, docs/benchmarks.md), and the class benchmark's
only unanswered drawing in three runs came with it."""

from __future__ import annotations

import base64
import io
import secrets

import numpy as np
import pyarrow as pa

import charts
from callbacks import mark_draw_model_chosen
from common import look_inside, model_label, predictor, show_figure, st, store
from inside_view import show_inside
from mnistlab.drawings import DrawingError, Drawings
from mnistlab.preprocess import preprocess_steps, step_pictures
from mnistlab.store import StoreError

DIGITS = [str(digit) for digit in range(10)]
MAX_MODELS_IN_TABLE = 8  # with the chosen model, nine models: every model a rerun asks stays loaded (CAPACITY)
STEP_CAPTIONS = ("your drawing (½ size)", "cropped to the ink (½ size)", "longer side scaled to 20 px (×5)",
                 "centred in 28×28: the input (×5)")


def drawing_area(runs) -> None:
    """`runs`: the models offered, most accurate first (read afresh at every stroke: a model trained meanwhile
    is offered at the next one)."""
    by_id = {run.run_id: run for run in runs}
    run_id = _chosen_model(runs)
    left, right = st.columns([1, 1], gap="large")
    with left:
        labels = {rid: model_label(run) for rid, run in by_id.items()}  # text only: a widget keeps its format_func
        st.selectbox("Model", list(by_id), key="draw_model", format_func=labels.get, on_change=mark_draw_model_chosen)
        canvas, generation, inside_on = _canvas()
    image = canvas.image_data if canvas is not None else None
    steps = preprocess_steps(image) if image is not None else None
    prediction = _reading(by_id[run_id], steps, runs)
    with right:
        _show_reading(prediction, run_id, steps, canvas)
    if prediction is None:
        return
    with left:
        _save_for_the_class(image, generation)
    st.subheader("What the model sees")
    st.image([png_data_uri(picture) for picture in step_pictures(steps)], caption=list(STEP_CAPTIONS))
    st.subheader("Every model's answer")
    _answers_table(runs[:MAX_MODELS_IN_TABLE], steps)
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
    st.caption("Draw one digit, large or small, anywhere on the square.")
    clear, inside = st.columns([1, 3], vertical_alignment="center")
    clear.button("Clear", key="draw_clear", on_click=_new_canvas)
    inside_on = inside.toggle("Inside the network", key="draw_inside_on",
                              help="every layer's view of the drawing, for the chosen model, redrawn with each stroke")
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


def _show_reading(prediction, run_id: str, steps, canvas) -> None:
    if prediction is None:
        st.subheader("Draw a digit on the canvas")
        st.write("The prediction appears here as soon as there is a digit to read "
                 "(a blank canvas or a single dot has none).")
        return
    st.subheader(f"I read a **{prediction.digit}** ({prediction.confidence:.0%} sure)")
    show_figure(charts.probability_bars(prediction.probabilities), key="draw_probs")
    if st.button("Open on the Inside page", key="draw_inside", icon=":material/visibility:"):
        look_inside(run_id, drawing=steps.centred, strokes=canvas.json_data)


def _save_for_the_class(image, generation: int) -> None:
    """The class's own test set: the student says which digit they meant, and saves it."""
    meant = st.pills("Save it for the class test — it is a", DIGITS, key=f"draw_label_{generation}")
    if not st.button("Save", key="draw_save", disabled=meant is None, icon=":material/save:"):
        return
    session_tag = st.session_state.setdefault("draw_session_tag", secrets.token_hex(4))  # anonymous
    try:
        class_set = Drawings(store().home)
        class_set.save(image, int(meant), session_tag)
    except DrawingError as err:
        st.error(str(err), icon=":material/warning:")
        return
    count = class_set.count()
    st.session_state["draw_saved"] = (f"Saved as a {meant}. The class's set has {count:,} "
                                      f"drawing{'' if count == 1 else 's'}.")
    _new_canvas()  # a clean one for the next digit
    st.rerun()


def _answers_table(table, steps) -> None:
    try:
        answers = predictor().answers(table, steps)  # one request for the whole table, after the chosen model's
    except StoreError as err:
        answers = dict.fromkeys((other.run_id for other in table), err)
    rows = []
    for other in table:
        guess = answers[other.run_id]
        failed = isinstance(guess, StoreError)
        rows.append({"model": other.name, "run": other.run_id, "prediction": None if failed else guess.digit,
                     "confidence": None if failed else guess.confidence,
                     "test accuracy": other.metrics["accuracy"], "note": str(guess) if failed else ""})
    # An Arrow table as it is sent: pandas would take 0.6 ms a stroke to make one from the rows
    st.dataframe(pa.Table.from_pylist(rows), hide_index=True, width="stretch", key="draw_table", placeholder="—",
                 column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1,
                                                                              format="percent"),
                                "test accuracy": st.column_config.NumberColumn(format="%.4f")})


def png_data_uri(picture: np.ndarray, gap: int = 16) -> str:
    """A picture as an inline PNG, followed by `gap` white pixels so the steps do not touch. Inline, a stroke's four
    steps are one element and no media files: as arrays they were four, each a file the browser fetched back from
    the server (6 ms of the server's CPU per stroke, docs/benchmarks.md). Shown at the PNG's own size: no
    rescaling in the browser."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.pad(picture, ((0, 0), (0, gap)), constant_values=255)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _inside(run, steps) -> None:
    try:
        seen = predictor().inspect(run, steps.centred)
    except StoreError as err:
        st.error(str(err), icon=":material/warning:")
        return
    st.subheader("Inside the network")
    saliency, _ = st.columns([1, 2])
    with saliency:
        show_figure(charts.saliency_overlay(steps.centred, seen.saliency, seen.digit), key="draw_saliency")
    show_inside(run, steps.centred, seen, "draw_inside")
