"""Class test: every model scored on the class's own drawings (saved on Draw), beside its MNIST test accuracy."""

import numpy as np

import charts
from common import distinct_names, md, predictor, show_figure, st, store
from mnistlab.drawings import Drawings, class_score, gap_sentence
from mnistlab.store import StoreError

MODELS_OFFERED = {"best": 40, "newest": 10}
WRONG_SHOWN = 24

st.title("Class test")
x, y, ids = Drawings(store().home).dataset()
if not len(y):
    st.info("No drawings yet. On Draw, draw a digit, pick the digit you meant under the canvas and press Save: "
            "every model is then scored on the class's own handwriting here.", icon=":material/draw:")
    st.stop()
counts = np.bincount(y, minlength=10)
st.caption(f"{len(y):,} drawings: " + " · ".join(f"{digit}: {count}" for digit, count in enumerate(counts)))

runs = store().model_runs(**MODELS_OFFERED)
if not runs:
    st.info("There is no trained model to score yet: train one from Build.", icon=":material/construction:")
    st.stop()
try:
    predicted = predictor().score(runs, x)  # remembered in the prediction process until the set or a model changes
except StoreError as err:
    st.error(str(err), icon=":material/warning:")
    st.stop()
scores = {run.run_id: class_score(y, found) for run in runs if not isinstance(found := predicted[run.run_id], StoreError)}
accuracy = {run.run_id: scores[run.run_id].accuracy if run.run_id in scores else None for run in runs}
names = distinct_names(runs)  # two runs of one name get two bars
show_figure(charts.class_test_bars([names[run.run_id] for run in runs], [run.metrics["accuracy"] for run in runs],
                                   [accuracy[run.run_id] for run in runs], len(y)), key="class_test_bars")
for run in runs:
    if isinstance(predicted[run.run_id], StoreError):
        st.warning(f"{md(run.name)}: {predicted[run.run_id]}", icon=":material/warning:")

by_id = {run.run_id: run for run in runs}
scored = [run.run_id for run in runs if accuracy[run.run_id] is not None]
labels = {rid: f"{by_id[rid].name} · {accuracy[rid]:.1%} on your drawings · {rid[:15]}" for rid in scored}
run_id = st.selectbox("Model", scored, key="class_test_model", format_func=labels.get)
if run_id is None:
    st.stop()
run, digits, score = by_id[run_id], predicted[run_id], scores[run_id]
st.subheader(md(gap_sentence(run.name, run.metrics["accuracy"], score.accuracy, len(y))))
show_figure(charts.per_class_bars({"your drawings": [value or 0.0 for value in score.per_digit],
                                   "MNIST test set": run.metrics["per_class_accuracy"]},
                                  title="Accuracy per digit"), key="class_test_per_digit")
st.caption("A digit nobody has drawn yet shows 0 on your drawings.")
matrix, mistakes = st.columns([5, 3], gap="large")  # 5/8 of the page holds the 470-px matrix at 1280×720
with matrix:  # a fixed-size figure (square cells): its own column, wide enough for it
    show_figure(charts.confusion_matrix(score.confusion, title="Confusion on your drawings"),
                key="class_test_confusion", width="content")
with mistakes:
    wrong = score.wrong
    st.subheader(f"What it got wrong ({len(wrong):,})")
    if len(wrong):
        shown = wrong[:WRONG_SHOWN]
        st.image([255 - x[i] for i in shown], width=84, caption=[f"meant {y[i]} → read {digits[i]}" for i in shown])
    else:
        st.write("Nothing: it read every drawing as the digit meant.")
