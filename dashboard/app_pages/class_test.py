"""Class test: every model scored on the class's own drawings (saved on Draw), beside its MNIST test accuracy."""

import tempfile
from functools import partial
from pathlib import Path

import numpy as np

import charts
from readings import digit_alt
from common import distinct_names, md, predictor, show_figure, st, store
from mnistlab.drawings import MAX_IMPORT_BYTES, DrawingError, Drawings, class_score, gap_sentence
from mnistlab.i18n import _, ngettext, number, percent
from mnistlab.roles import Refused
from mnistlab.store import StoreError
from session_role import class_actions, person

MODELS_OFFERED = {"best": 11, "newest": 4}  # 15 models, all loaded at once in the prediction process (CAPACITY)
WRONG_SHOWN = 24



def manage_drawings(class_set: Drawings, x: np.ndarray, y: np.ndarray, ids: tuple) -> None:
    """Browse by digit, delete one (a student: one they saved) or all, export, import — each with its own
    confirmation; the rights are checked by ClassActions, whatever the page shows."""
    me = person()
    mine = set(ids) if me.runs_the_class else class_set.saved_in(me.tag)
    title = (_("The drawings ({count}): browse, delete, export, import") if me.runs_the_class else
             _("The drawings ({count}): browse, export, undo your own")).format(count=number(len(y)))
    with st.expander(title, icon=":material/photo_library:"):
        if "class_error" in st.session_state:
            st.error(st.session_state.pop("class_error"), icon=":material/lock:")
        digit = st.pills(_("Digit"), [str(d) for d in range(10)], key="class_browse_digit", default="0")
        if len(y) and digit is not None:
            shown = np.flatnonzero(y == int(digit))
            if len(shown):
                st.image([255 - x[i] for i in shown[:120]], width=56, caption=[f"#{i}" for i in shown[:120]],
                         alt=[digit_alt(int(digit), what=_("class drawing #{number}").format(number=i))
                              for i in shown[:120]])
                deletable = [int(i) for i in shown if ids[i] in mine]
                if deletable:
                    _delete_one(deletable, y, ids)
                elif not me.runs_the_class:
                    st.caption(_("In a class you can delete the drawings you saved yourself (to undo a wrong label); "
                                 "none of these drawings of a {digit} is yours.").format(digit=digit))
            else:
                st.write(_("Nobody has drawn a {digit} yet.").format(digit=digit))
        if me.runs_the_class:
            _teachers_part(y)
        st.download_button(_("Download as .npz (Keras's layout: x_test, y_test)"), data=partial(Drawings.npz_bytes,
                           class_set), file_name="class-drawings.npz", mime="application/octet-stream",
                           key="class_export", on_click="ignore", disabled=not len(y), icon=":material/download:")
        if me.runs_the_class:
            _import(class_set)


def _delete_one(deletable: list[int], y, ids) -> None:
    target = st.selectbox(_("Drawing"), deletable, key="class_delete_pick", format_func="#{}".format)
    confirm_key = f"class_confirm_{ids[target]}"  # a confirmation belongs to one drawing
    sure = st.checkbox(_("Yes, delete drawing #{number} (a {digit})").format(number=target, digit=y[target]),
                       key=confirm_key)
    if st.button(_("Delete drawing"), key="class_delete_one", disabled=not sure):
        _act(class_actions().delete_drawing, ids[target])
        st.session_state.pop(confirm_key, None)
        st.rerun()


def _act(action, *args):
    try:
        return action(person(), *args)
    except Refused as err:
        st.session_state["class_error"] = str(err)
        return None


def _teachers_part(y: np.ndarray) -> None:
    everything = st.checkbox(ngettext("Yes, delete the {count} drawing", "Yes, delete all {count} drawings",
                                      len(y)).format(count=number(len(y))), key=f"class_confirm_all_{len(y)}")
    if st.button(_("Delete all drawings"), key="class_delete_all", disabled=not everything or not len(y)):
        _act(class_actions().delete_all_drawings)
        st.rerun()


def _import(class_set: Drawings) -> None:
    uploaded = st.file_uploader(_("Import an .npz of drawings (Keras's layout)"), type=["npz"], key="class_import")
    if uploaded is not None and st.button(_("Import"), key="class_import_go"):
        if uploaded.size > MAX_IMPORT_BYTES:
            st.error(_("{file} is {size} MB; a set of drawings is at most {most} MB.").format(
                file=md(uploaded.name), size=number(round(uploaded.size / 2**20)), most=MAX_IMPORT_BYTES // 2**20),
                icon=":material/warning:")
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "import.npz"
            path.write_bytes(uploaded.getvalue())
            try:
                added = _act(class_actions().import_drawings, path)
            except DrawingError as err:
                st.error(md(str(err).replace(str(path), uploaded.name)), icon=":material/warning:")
                return
        if added is not None:
            st.session_state["class_notice"] = ngettext("{count} drawing imported.", "{count} drawings imported.",
                                                        added).format(count=number(added))
        st.rerun()


st.title(_("Class test"))
class_set = Drawings(store().home)
x, y, ids = class_set.dataset()
if "class_notice" in st.session_state:
    st.success(st.session_state.pop("class_notice"), icon=":material/upload:")
manage_drawings(class_set, x, y, ids)
if not len(y):
    st.info(_("No drawings yet. On Draw, draw a digit, pick the digit you meant under the canvas and press Save: "
              "every model is then scored on the class's own handwriting here."), icon=":material/draw:")
    st.stop()
counts = np.bincount(y, minlength=10)
st.caption(ngettext("{count} drawing: {per_digit}", "{count} drawings: {per_digit}", len(y)).format(
    count=number(len(y)), per_digit=" · ".join(f"{digit}: {count}" for digit, count in enumerate(counts))))

runs = store().model_runs(**MODELS_OFFERED)
if not runs:
    st.info(_("There is no trained model to score yet: train one from Build."), icon=":material/construction:")
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
labels = {rid: _("{name} · {accuracy} on your drawings · {run_id}").format(
    name=by_id[rid].name, accuracy=percent(accuracy[rid]), run_id=rid) for rid in scored}
run_id = st.selectbox(_("Model"), scored, key="class_test_model", format_func=labels.get)
if run_id is None:
    st.stop()
run, digits, score = by_id[run_id], predicted[run_id], scores[run_id]
st.subheader(md(gap_sentence(run.name, run.metrics["accuracy"], score.accuracy, len(y))))
mnist_series = _("MNIST test set")
show_figure(charts.per_class_bars({_("your drawings"): [value or 0.0 for value in score.per_digit],
                                   mnist_series: run.metrics["per_class_accuracy"]}, report=mnist_series),
            key="class_test_per_digit")
st.caption(_("A digit nobody has drawn yet shows 0 on your drawings."))
matrix, mistakes = st.columns([5, 3], gap="large")  # 5/8 of the page holds the 470-px matrix at 1280×720
with matrix:  # a fixed-size figure (square cells): its own column, wide enough for it
    show_figure(charts.confusion_matrix(score.confusion, title=_("Confusion on your drawings")),
                key="class_test_confusion", width="content")
with mistakes:
    wrong = score.wrong
    st.subheader(_("What it got wrong ({count})").format(count=number(len(wrong))))
    if len(wrong):
        shown = wrong[:WRONG_SHOWN]
        st.image([255 - x[i] for i in shown], width=84,
                 caption=[_("meant {meant} → read {read}").format(meant=y[i], read=digits[i]) for i in shown],
                 alt=[digit_alt(int(y[i]), int(digits[i]), what=_("a class drawing")) for i in shown])
    else:
        st.write(_("Nothing: it read every drawing as the digit meant."))
