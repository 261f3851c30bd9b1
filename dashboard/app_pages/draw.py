"""Draw: a digit on a canvas, each preprocessing step, and every model's prediction."""

import secrets

import pandas as pd

import charts
from callbacks import mark_draw_model_chosen
from common import look_inside, md, predictor, show_figure, st, store, worker
from inside_view import show_inside
from mnistlab.drawings import DrawingError, Drawings
from mnistlab.preprocess import preprocess_steps, step_pictures
from mnistlab.presets import QUICK_CNN
from mnistlab.store import StoreError

DIGITS = [str(digit) for digit in range(10)]
MAX_MODELS_IN_TABLE = 8  # with the chosen model, nine models: every model a rerun asks stays loaded (CAPACITY)

MODELS_OFFERED = {"best": 40, "newest": 10}  # a rerun's store cost stays the same with 10 or 10,000 runs

st.title("Draw a digit")
runs = store().model_runs(**MODELS_OFFERED)  # most accurate first
training = worker()

if not runs:
    st.info("There is no trained model yet. Train a small CNN now: it takes a few seconds on a slice of MNIST "
            "(12,000 images, 2 epochs) and reaches about 95% test accuracy.", icon=":material/neurology:")

    @st.fragment(run_every=1.0 if training.busy else None)
    def quick_training():
        snap = training.current()
        if snap is not None or training.queued():
            st.session_state["draw_waiting"] = True
            fraction = snap.fraction if snap else 0.0
            st.progress(fraction, text=f"Training {md(snap.name) if snap else '…'} — {fraction:.0%}")
            return
        if st.session_state.pop("draw_waiting", False):
            st.rerun(scope="app")
        if st.button("Train a quick CNN", type="primary", key="draw_quick_train"):
            training.submit(QUICK_CNN)
            st.rerun(scope="app")

    quick_training()
    st.stop()

by_id = {run.run_id: run for run in runs}
broken = predictor().known_broken()
chosen = st.session_state.get("draw_model")
if chosen not in by_id or (chosen in broken and not st.session_state.get("draw_model_chosen")):
    # the default is the most accurate model that loads; a model the user picked stays picked
    st.session_state["draw_model"] = next((run.run_id for run in runs if run.run_id not in broken), runs[0].run_id)
left, right = st.columns([1, 1], gap="large")
with left:
    labels = {rid: f"{run.name} · {run.metrics['accuracy']:.2%} · {rid[:15]}" for rid, run in by_id.items()}
    run_id = st.selectbox("Model", list(by_id), key="draw_model", format_func=labels.get,
                          on_change=mark_draw_model_chosen)
    from streamlit_drawable_canvas import st_canvas

    generation = st.session_state.setdefault("draw_generation", 0)
    canvas = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=f"draw_canvas_{generation}")
    st.caption("Draw one digit, large or small, anywhere on the square.")
    clear, inside = st.columns([1, 3], vertical_alignment="center")
    if clear.button("Clear", key="draw_clear"):
        st.session_state["draw_generation"] = generation + 1
        st.rerun()
    inside_on = inside.toggle("Inside the network", key="draw_inside_on",
                              help="every layer's view of the drawing, for the chosen model, redrawn with each stroke")
    if "draw_saved" in st.session_state:
        st.success(st.session_state.pop("draw_saved"), icon=":material/save:")

image = canvas.image_data if canvas is not None else None
steps = preprocess_steps(image) if image is not None else None
try:
    prediction = predictor().answers([by_id[run_id]], steps)[run_id] if steps is not None else None
except StoreError as err:  # the prediction process itself could not start: say why
    st.error(str(err), icon=":material/warning:")
    st.stop()
if isinstance(prediction, StoreError):
    if not st.session_state.get("draw_model_chosen") and any(r.run_id not in predictor().known_broken() for r in runs):
        st.rerun()  # the default model does not load: the next run picks another
    st.error(str(prediction), icon=":material/warning:")
    st.stop()

with right:
    if prediction is None:
        st.subheader("Draw a digit on the canvas")
        st.write("The prediction appears here as soon as there is a digit to read "
                 "(a blank canvas or a single dot has none).")
    else:
        st.subheader(f"I read a **{prediction.digit}** ({prediction.confidence:.0%} sure)")
        show_figure(charts.probability_bars(prediction.probabilities), key="draw_probs")
        if st.button("Open on the Inside page", key="draw_inside", icon=":material/visibility:"):
            look_inside(run_id, drawing=steps.centred, strokes=canvas.json_data)

if prediction is not None:
    with left:  # the class's own test set: the student says which digit they meant
        meant = st.pills("Save it for the class test — it is a", DIGITS, key=f"draw_label_{generation}")
        if st.button("Save", key="draw_save", disabled=meant is None, icon=":material/save:"):
            session_tag = st.session_state.setdefault("draw_session_tag", secrets.token_hex(4))  # anonymous
            try:
                class_set = Drawings(store().home)
                class_set.save(image, int(meant), session_tag)
            except DrawingError as err:
                st.error(str(err), icon=":material/warning:")
            else:
                count = class_set.count()
                st.session_state["draw_saved"] = (f"Saved as a {meant}. The class's set has {count:,} "
                                                  f"drawing{'' if count == 1 else 's'}.")
                st.session_state["draw_generation"] = generation + 1  # a clean canvas for the next digit
                st.rerun()

    st.subheader("What the model sees")
    cols = st.columns(4)
    captions = ("your drawing (½ size)", "cropped to the ink (½ size)", "longer side scaled to 20 px (×5)",
                "centred in 28×28: the input (×5)")
    for col, picture, caption in zip(cols, step_pictures(steps), captions):
        col.image(picture, caption=caption, width=max(1, picture.shape[1]))  # its own size: no browser rescaling

    st.subheader("Every model's answer")
    table = runs[:MAX_MODELS_IN_TABLE]
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
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="draw_table", placeholder="—",
                 column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1,
                                                                              format="percent"),
                                "test accuracy": st.column_config.NumberColumn(format="%.4f")})

if prediction is not None and inside_on:  # off by default: a class drawing at once pays only for the readings
    try:
        seen = predictor().inspect(by_id[run_id], steps.centred)
    except StoreError as err:
        st.error(str(err), icon=":material/warning:")
    else:
        st.subheader("Inside the network")
        saliency, _ = st.columns([1, 2])
        with saliency:
            show_figure(charts.saliency_overlay(steps.centred, seen.saliency, seen.digit), key="draw_saliency")
        show_inside(by_id[run_id], steps.centred, seen, "draw_inside")
