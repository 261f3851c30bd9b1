"""Widget callbacks that would otherwise keep a page's data alive.

Streamlit keeps each widget's callback and `format_func` for as long as the browser session
lives (and two minutes after it closes). A function defined in a page file holds on to all of
that page's variables — on Compare, every run with its metrics — so each open session would
keep a copy, growing with every run trained. So pages that hold runs keep their callbacks here,
and every page gives `format_func` a dict of labels (`labels.get`), never a lambda. (Build's
callbacks stay in its page: its variables are a few small dicts that do not grow with runs.)
"""

from __future__ import annotations

from functools import wraps

import streamlit as st

from common import store, worker
from language import speak
from mnistlab.i18n import _
from mnistlab.roles import Refused
from mnistlab.store import StoreError
from session_role import class_actions, person


def speaking(callback):
    """A callback in the session's language: Streamlit calls it before the script, so before app.py's speak(), and
    what it says (a refusal, "Deleted run …") is said in the language of whoever clicked."""
    @wraps(callback)
    def in_language(*args, **kwargs):
        speak()
        return callback(*args, **kwargs)
    return in_language


@speaking
def rename_run(run_id: str) -> None:
    """Compare's Rename button: the new name comes from the `compare_new_name` box."""
    try:
        class_actions().rename_run(person(), run_id, st.session_state["compare_new_name"])
        st.session_state["compare_new_name"] = ""
    except (StoreError, Refused) as err:
        st.session_state["compare_error"] = str(err)


@speaking
def delete_run(run_id: str, confirmation_key: str) -> None:
    """Compare's Delete button: stop the run if it is training or queued (a queued run is then gone
    already), then remove its folder. The confirmation was for this run only: it is cleared."""
    try:
        class_actions().check_delete_run(person(), run_id)
        worker().stop(run_id, person())
        if (store().runs_dir / run_id).exists():
            class_actions().delete_run(person(), run_id)
        st.session_state["compare_notice"] = _("Deleted run {run_id}.").format(run_id=run_id)
    except (StoreError, Refused) as err:
        st.session_state["compare_error"] = str(err)
    st.session_state.pop(confirmation_key, None)


@speaking
def delete_unreadable_run(run_id: str, confirmation_key: str) -> None:
    """Compare's Delete folder button, for a run folder that cannot be read."""
    try:
        class_actions().delete_unreadable(person(), run_id)
        st.session_state["compare_notice"] = _("Deleted run {run_id}.").format(run_id=run_id)
    except (StoreError, Refused) as err:
        st.session_state["compare_error"] = str(err)
    st.session_state.pop(confirmation_key, None)


@speaking
def stop_run(run_id: str) -> None:
    """Train's Stop and Remove buttons."""
    try:
        worker().stop(run_id, person())
    except Refused as err:
        st.session_state["train_error"] = str(err)


def mark_draw_model_chosen() -> None:
    """Draw's model box: the user chose this model, so it stays chosen even when it cannot be loaded."""
    st.session_state["draw_model_chosen"] = True


def remember_compare_selection() -> None:
    """Compare's table: turn the ticked row positions into run ids, with the ids the table showed when the
    user ticked them (kept beside the table's key), so the selection follows runs, not positions."""
    table_key, ids = st.session_state["compare_table_now"]
    rows = st.session_state[table_key].selection.rows
    st.session_state["compare_selected"] = [ids[row] for row in rows if 0 <= row < len(ids)]


def keep_projector_mode() -> None:
    """The sidebar's switch: projector mode is kept under a key of its own, which page changes leave alone."""
    st.session_state["projector"] = st.session_state["projector_switch"]
