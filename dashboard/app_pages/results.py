"""Results: one run's test metrics, per-digit accuracy, confusion matrix, mistakes, curves and spec."""

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

import charts
from readings import digit_alt
from common import (STATUS_ICONS, RunStatus, clock, follow_runs, look_inside, run_label, show_figure, show_warnings,
                    st, status_name, store, test_set)
from tables import four_places, layer_columns, layer_frame
from mnistlab.build import model_name
from mnistlab.export import script_for
from mnistlab.i18n import _, decimal, ngettext, number, percent, short, when
from mnistlab.presets import differences_from_report, epochs_text, matching_preset
from mnistlab.spec import validate

GALLERY_SIZE = 24

st.title(_("Results"))
follow_runs("results")
listing = store().list_runs()
show_warnings(listing.warnings)
runs = [run for run in listing.runs if run.metrics]
if not runs:
    st.info(_("No finished runs yet. Train one from the Build page."), icon=":material/construction:")
    st.stop()

by_id = {run.run_id: run for run in runs}
wanted = st.session_state.get("results_run")
if wanted and wanted not in by_id:
    st.warning(_("Run {run_id} is gone — it was deleted (perhaps in another tab). Showing another run.").format(
        run_id=wanted), icon=":material/delete:")
    st.session_state.pop("results_run", None)
    wanted = None
if st.session_state.get("results_pick") not in by_id:
    st.session_state["results_pick"] = wanted or runs[0].run_id
elif wanted:
    st.session_state["results_pick"] = wanted
st.session_state.pop("results_run", None)

labels = {rid: run_label(run) for rid, run in by_id.items()}
run_id = st.selectbox(_("Run"), list(by_id), key="results_pick", format_func=labels.get)
run = by_id[run_id]
metrics = run.metrics
preset = matching_preset(run.experiment)

epochs_run = run.info.get("epochs_run", 0)
whole_epochs = int(epochs_run) if float(epochs_run).is_integer() else 2  # a stopped run's 1.3 epochs count as many
st.caption(f"{STATUS_ICONS.get(run.status, '')} {status_name(run.status)} · " + ngettext(
    "{epochs} epoch · trained in {time} · {images} training images · created {created}",
    "{epochs} epochs · trained in {time} · {images} training images · created {created}", whole_epochs).format(
    epochs=epochs_text(epochs_run), time=clock(run.info.get("train_seconds")),
    images=number(run.experiment.config.train_limit or 60000),
    created=when(run.info.get("created", "?"), st.context.timezone)))
software = [f"{label} {run.info[key]}" for label, key in (("MNIST Lab", "mnistlab_version"), ("TensorFlow",
            "tensorflow_version"), ("Keras", "keras_version")) if run.info.get(key)]
if software:
    st.caption(_("Trained with {software}").format(software=" · ".join(software))
               + (" " + _("on {device}").format(device=run.info["device"]) if run.info.get("device") else ""))
if run.status == RunStatus.DIVERGED:
    st.error(_("This run diverged.") + f" {run.info.get('message', '')}", icon=":material/error:")

differences = differences_from_report(preset, run.experiment, run.info.get("epochs_run", 0)) if preset else []
like_for_like = preset is not None and not differences
cols = st.columns(4)
gap = (metrics["accuracy"] - preset.report.accuracy) * 100 if like_for_like else None
cols[0].metric(_("Test accuracy"), decimal(metrics["accuracy"]),
               delta=None if gap is None else _("{points} pp vs report").format(
                   points=("+" if gap >= 0 else "−") + decimal(abs(gap), 2)))
cols[1].metric(_("Precision (Keras)"), decimal(metrics["keras_precision"]),
               help=_("Keras's Precision() on one-hot targets at threshold 0.5, as in the report"))
cols[2].metric(_("Recall (Keras)"), decimal(metrics["keras_recall"]),
               help=_("Keras's Recall() on one-hot targets at threshold 0.5, as in the report"))
cols[3].metric(_("Macro F1"), decimal(metrics["macro_f1"]), help=_("mean over the ten digits of per-digit F1"))
if differences:
    st.caption(_("This is the report's {name} network, but the run {differences}: its scores are not directly "
                 "comparable with the report's ({accuracy} test accuracy).").format(
        name=preset.name, differences="; ".join(differences), accuracy=decimal(preset.report.accuracy)))

series = {run.name: metrics["per_class_accuracy"]}
report_series = None
if preset and preset.report.per_class_accuracy:
    report_series = _("Report ({name})").format(name=preset.name)
    series[report_series] = list(preset.report.per_class_accuracy)
show_figure(charts.per_class_bars(series, report=report_series), key="results_per_class")

st.subheader(_("Confusion matrix"))
matrix = np.array(metrics["confusion_matrix"])
left, right = st.columns([3, 2], gap="large")
with left:
    event = show_figure(charts.confusion_matrix(matrix.tolist()), key=f"results_confusion_{run_id}",
                        width="content", on_select="rerun", selection_mode="points")
    st.caption(_("Darker squares are more mistakes; the colour scale stops at the largest mistake count, so the "
                 "diagonal (the right answers) is simply darkest."))
off_diagonal = matrix - np.diag(np.diag(matrix))
worst = np.unravel_index(np.argmax(off_diagonal), matrix.shape)
clicked = charts.clicked_cell(event)
if clicked and clicked != st.session_state.get("results_clicked"):  # a new click wins over the boxes
    st.session_state["results_true"], st.session_state["results_pred"] = clicked
st.session_state["results_clicked"] = clicked
st.session_state.setdefault("results_true", int(worst[0]))
st.session_state.setdefault("results_pred", int(worst[1]))
with right:
    st.markdown(_("Click a cell, or choose one:"))
    c1, c2 = st.columns(2)
    true_digit = c1.selectbox(_("true digit"), range(10), key="results_true")
    predicted_digit = c2.selectbox(_("predicted digit"), range(10), key="results_pred")
    x_test, y_test = test_set()
    cell = [m["index"] for m in run.mistakes() if m["true"] == true_digit and m["predicted"] == predicted_digit]
    count = int(matrix[true_digit, predicted_digit])
    if true_digit == predicted_digit:
        st.write(ngettext("{count} test image of {digit} was classified correctly.",
                          "{count} test images of {digit} were classified correctly.", count).format(
            count=number(count), digit=true_digit))
        cell = list(np.flatnonzero(y_test == true_digit)[:GALLERY_SIZE])
    else:
        st.write(ngettext("{count} test image of **{true}** was taken for **{predicted}**.",
                          "{count} test images of **{true}** were taken for **{predicted}**.", count).format(
            count=number(count), true=true_digit, predicted=predicted_digit))
    if cell:
        shown = cell[:GALLERY_SIZE]
        read = true_digit if true_digit == predicted_digit else predicted_digit
        st.image([x_test[i] for i in shown], width=56, caption=[f"#{i}" for i in shown],
                 alt=[digit_alt(true_digit, read, what=_("test image #{number}").format(number=i)) for i in shown])
        pick, look = st.columns([1, 1], vertical_alignment="bottom")
        chosen = pick.selectbox(_("Image"), [int(i) for i in shown], key=f"results_inside_{true_digit}_{predicted_digit}",
                                format_func="#{}".format)
        if look.button(_("Look inside"), key="results_inside", icon=":material/visibility:",
                       help=_("this image on the Inside page: every layer of this run's network")):
            look_inside(run_id, test_index=chosen)

st.subheader(_("Most confident mistakes"))
mistakes = run.mistakes()[:GALLERY_SIZE]
if mistakes:
    st.image([x_test[m["index"]] for m in mistakes], width=84,
             caption=[_("true {true} → {read} ({sure})").format(true=m["true"], read=m["predicted"],
                                                              sure=percent(m["confidence"], 0)) for m in mistakes],
             alt=[digit_alt(m["true"], m["predicted"], m["confidence"],
                            _("test image #{number}").format(number=m["index"])) for m in mistakes])
else:
    st.write(_("No mistakes on the test set."))

st.subheader(_("Training"))
history = run.history()
if history["epochs"]:
    show_figure(charts.training_curves(history["epochs"]), key="results_curves")
if history["batches"]:
    show_figure(charts.batch_loss(history["batches"], run.info.get("steps_per_epoch")), key="results_batches")

st.subheader(_("Network"))
config = run.experiment.config
st.dataframe(layer_frame(validate(run.experiment)), hide_index=True, width="stretch", key="results_spec",
             column_config=layer_columns())
st.caption(_("{optimizer}, learning rate {lr}, batch {batch}, validation split {split}, seed {seed}").format(
    optimizer=config.optimizer, lr=short(config.effective_learning_rate), batch=config.batch_size,
    split=short(config.validation_split), seed=config.seed))

st.subheader(_("Take it home"))
stem = model_name(run.name)  # a file name made of letters, digits and underscores, whatever the run is called
model_file, script_file = st.columns(2)
# Callables without the page's variables: made only on a click, and nothing of the page kept alive by them.
model_file.download_button(_("Model file (.keras)"), data=partial(Path.read_bytes, run.path / "model.keras"),
                           file_name=f"{stem}.keras", mime="application/octet-stream", key="results_model",
                           disabled=not run.has_model, on_click="ignore", icon=":material/download:")
script_file.download_button(_("Python script (plain Keras)"), data=partial(script_for, run.experiment, run.run_id,
                                                                        f"{stem}.py"),
                            file_name=f"{stem}.py", mime="text/x-python", key="results_script", on_click="ignore",
                            icon=":material/download:")
st.caption(_("The script builds, trains and evaluates this network with plain Keras and NumPy — no MNIST Lab — with "
             "this run's seed and settings, for a notebook or Colab: `python run.py --data mnist.npz` (its first "
             "lines say more). `python -m mnistlab export RUN --script run.py --model model.keras` does the same."))

if preset:
    st.subheader(_("Beside the report's {name}").format(name=preset.name) if like_for_like else
                 _("Beside the report's {name} (not like for like)").format(name=preset.name))
    report = preset.report
    st.dataframe(pd.DataFrame({
        "metric": [_("accuracy"), _("precision (Keras)"), _("recall (Keras)")],
        "report": [report.accuracy, report.precision, report.recall],
        "this run": [metrics["accuracy"], metrics["keras_precision"], metrics["keras_recall"]],
    }).assign(difference=lambda d: d["this run"] - d["report"]), hide_index=True, key="results_report",
        column_config={"metric": st.column_config.TextColumn(_("metric")), "report": four_places(_("report")),
                       "this run": four_places(_("this run")), "difference": four_places(_("difference"))})
    st.caption(_("The report: {finding}").format(finding=_(report.finding)))
