"""Train: the run in progress with live curves, the queue, and the last finished run."""

from functools import partial

import charts
from callbacks import stop_run
from common import (STATUS_ICONS, RunStatus, clock, follow_runs, go_to_results, md, shared_figure, show_figure, st,
                    status_name, store, worker)
from mnistlab.i18n import N_, _, decimal
from language import fragment
from mnistlab.roles import may_change_run
from session_role import person

OUTCOME_SENTENCES = {
    RunStatus.COMPLETED: N_("Training completed."),
    RunStatus.STOPPED: N_("Training was stopped; the run keeps its curves so far and a model evaluated as it stands."),
    RunStatus.DIVERGED: N_("Training diverged: the loss exploded, so it was stopped at once."),
    RunStatus.FAILED: N_("Training failed."),
    RunStatus.INTERRUPTED: N_("The server stopped while this run was training; it keeps the epochs it completed."),
}

st.title(_("Train"))
training = worker()
follow_runs("train", enabled=not training.busy)  # while a run trains, the live panel polls already


def _live_panel(snap) -> None:
    """One run in flight; its widgets' keys carry its id (a cluster trains several at once, told apart by seed)."""
    # the seed, and "2 of 3", tell a Repeat × N's runs apart
    seed = " · " + _("seed {seed}").format(seed=snap.experiment.config.seed) if snap.experiment else ""
    repeat = training.repeat_of(snap.run_id)
    st.subheader(_("Training {name}").format(name=md(snap.name)) + seed + (
        " · " + _("{number} of {count}").format(number=repeat[0], count=repeat[1]) if repeat else ""))
    if snap.status == "starting":
        st.progress(0.0, text=_("Preparing data and building the model…"))
    elif snap.status == "stopping":
        st.progress(snap.fraction, text=_("Stopping after batch {batch}/{steps} of epoch {epoch}…").format(
            batch=snap.batch, steps=snap.steps, epoch=max(snap.epoch, 1)))
    elif snap.status == "evaluating":
        st.progress(snap.fraction, text=_("Training is over: evaluating the model on the 10,000 test images…"))
    else:
        st.progress(snap.fraction, text=_("epoch {epoch}/{epochs} · batch {batch}/{steps} · elapsed {elapsed} · ETA "
                                          "{eta}").format(epoch=max(snap.epoch, 1), epochs=snap.epochs,
                                                          batch=snap.batch, steps=snap.steps,
                                                          elapsed=clock(snap.elapsed), eta=clock(snap.eta)))
    if _mine(snap.run_id):
        st.button(_("Stop"), key=f"train_stop_{snap.run_id}", on_click=stop_run, args=(snap.run_id,), type="secondary",
                  help=_("stop after the current batch and keep the partial run"),
                  disabled=snap.status in ("stopping", "evaluating"))
    left, right = st.columns(2)
    with left:
        batches = shared_figure(("batches", snap.run_id, len(snap.batches_history)),
                                partial(charts.batch_loss, snap.batches_history, snap.steps))
        show_figure(batches, key=f"train_batch_chart_{snap.run_id}")
    with right:
        if snap.epochs_history:
            epochs = shared_figure(("epochs", snap.run_id, len(snap.epochs_history)),
                                   partial(charts.training_curves, snap.epochs_history, _("Per epoch")))
            show_figure(epochs, key=f"train_epoch_chart_{snap.run_id}")
        else:
            st.info(_("The per-epoch curves appear when the first epoch ends."), icon=":material/hourglass_top:")


def _mine(run_id: str) -> bool:
    """Whether this session may stop or remove the run (outside a class, and for the teacher: every run)."""
    owner = training.queued_by(run_id)
    return may_change_run(person(), owner.as_record() if owner else None)


def _queue_panel() -> None:
    queued = training.waiting()
    if "train_error" in st.session_state:
        st.error(st.session_state.pop("train_error"), icon=":material/lock:")
    if training.problem:
        st.error(training.problem, icon=":material/cloud_off:")
    if queued:
        st.markdown(_("**Waiting in line** (runs start as the cluster's workers come free)") if training.scheduler
                    else _("**Waiting in line** (one run trains at a time)"))
        for item in queued:
            cols = st.columns([4, 1])
            repeat = " · " + _("{number} of {count}").format(number=item.repeat[0], count=item.repeat[1]) \
                if item.repeat else ""
            yours = item.person.tag == person().tag and item.person.role == "student"
            cols[0].markdown(f":material/hourglass_top: {md(item.name)} · "
                             + _("seed {seed}").format(seed=item.experiment.config.seed) + f"{repeat} · {item.run_id}"
                             + (" · " + _("yours") if yours else ""))
            if _mine(item.run_id):
                cols[1].button(_("Remove"), key=f"train_dequeue_{item.run_id}", on_click=stop_run, args=(item.run_id,))


def _last_run_panel() -> None:
    runs = store().list_runs().runs
    for other in (run for run in runs if run.status == RunStatus.RUNNING):  # nothing trains here: these train elsewhere
        st.info(_("{name} is training in another process (started from the command line, or by another dashboard on "
                  "this store); its results appear here when it ends.").format(name=md(other.name)),
                icon=":material/directions_run:")
    watched = st.session_state.get("train_watch")
    run = next((r for r in runs if r.run_id == watched), None) or next(
        (r for r in runs if not r.status.in_progress), None)
    if run is None:
        st.info(_("Nothing is training. Build a network and press Train, or pick a preset in Build."),
                icon=":material/construction:")
        return
    st.subheader(f"{STATUS_ICONS.get(run.status, '')} " + _("Last run: {name}").format(name=md(run.name)))
    sentence = _(OUTCOME_SENTENCES[run.status]) if run.status in OUTCOME_SENTENCES else _("Status: {status}.").format(
        status=status_name(run.status))
    if run.status == RunStatus.INTERRUPTED and "started" not in run.info:
        sentence = _("This run was queued but never started: the process that queued it ended first.")
    message = run.info.get("message")
    if run.status == RunStatus.DIVERGED:
        st.error(f"{sentence} {message} " + _("Lower the learning rate (the report's MLP 9 used Adam at 0.2; MLP 10 at "
                                               "the default 0.001 trains fine)."), icon=":material/error:")
    elif run.status.went_wrong:
        st.warning(f"{sentence} {message or ''}", icon=":material/warning:")
    else:
        st.success(sentence, icon=STATUS_ICONS[run.status])
    if run.metrics:
        c = st.columns(4)
        c[0].metric(_("Test accuracy"), decimal(run.metrics["accuracy"]))
        c[1].metric(_("Precision (Keras)"), decimal(run.metrics["keras_precision"]))
        c[2].metric(_("Recall (Keras)"), decimal(run.metrics["keras_recall"]))
        c[3].metric(_("Training time"), clock(run.info.get("train_seconds")))
        if st.button(_("See the results"), key="train_to_results", type="primary"):
            go_to_results(run.run_id)
    history = run.history()
    left, right = st.columns(2)
    if history["batches"]:
        with left:
            show_figure(charts.batch_loss(history["batches"], run.info.get("steps_per_epoch")),
                        key="train_last_batches")
    if history["epochs"]:
        with right:
            show_figure(charts.training_curves(history["epochs"], _("Per epoch")), key="train_last_chart")


@fragment(run_every=1.0 if training.busy else None)
def live() -> None:
    flying = training.in_flight()
    if not flying:
        if st.session_state.get("train_polling"):
            st.session_state["train_polling"] = False
            st.rerun(scope="app")  # stop polling and show the finished run
        _queue_panel()
        _last_run_panel()
        return
    st.session_state["train_polling"] = True
    st.session_state["train_watch"] = flying[-1].run_id
    for snap in flying:
        _live_panel(snap)
    _queue_panel()


# This full run shows what is training now. Only the fragment's own runs rerun the app when training ends: a rerun
# from here would be in the middle of the run a person's click started, and would cost the click (common.follow_runs).
st.session_state["train_polling"] = False
live()
