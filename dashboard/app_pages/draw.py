"""Draw: a digit on a canvas, each preprocessing step, and every model's prediction."""

from common import md, st, worker
from draw_view import drawing_area, offered_models
from language import fragment
from mnistlab.i18n import _, percent
from mnistlab.presets import QUICK_CNN
from mnistlab.roles import Refused
from session_role import person, within_budget

st.title(_("Draw a digit"))
runs = offered_models()
training = worker()

if not runs:
    st.session_state.pop("draw_waiting", None)  # as on Train: only the fragment's own runs rerun the app
    st.info(_("There is no trained model yet. Train a small CNN now: it takes a few seconds on a slice of MNIST "
              "(10,000 images, 2 epochs) and reaches about 95% test accuracy."), icon=":material/neurology:")

    @fragment(run_every=1.0 if training.busy else None)
    def quick_training():
        snap = training.current()
        if snap is not None or training.queued():
            st.session_state["draw_waiting"] = True
            fraction = snap.fraction if snap else 0.0
            st.progress(fraction, text=_("Training {name} — {done}").format(name=md(snap.name) if snap else "…",
                                                                            done=percent(fraction, 0)))
            return
        if st.session_state.pop("draw_waiting", False):
            st.rerun(scope="app")
        if st.button(_("Train a quick CNN"), type="primary", key="draw_quick_train"):
            try:
                training.submit(within_budget(QUICK_CNN), person())
            except Refused as err:
                st.error(str(err), icon=":material/lock:")
            else:
                st.rerun(scope="app")

    quick_training()
    st.stop()

drawing_area()
