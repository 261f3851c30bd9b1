"""Who this browser session is: outside a class, the person at the laptop; in a class, a student unless it opened
the teacher link. The role is kept in session state under a key no widget has (a browser can set a widget's value,
never this), and the rights that go with it are checked by mnistlab.roles where each action happens."""

from __future__ import annotations

import secrets
import sys

import streamlit as st

from common import store
from mnistlab.classroom import ClassActions, ClassSettings, TokenCheck, classroom_mode, teacher_link, teacher_token
from mnistlab.drawings import Drawings
from mnistlab.files import StoreError
from mnistlab.i18n import N_, _
from mnistlab.roles import Person, Refused, Role, fit_to_budget

TEACHER_PARAM = "teacher"
_ROLE_KEY, _TAG_KEY = "session_role", "session_tag"


def in_class() -> bool:
    return classroom_mode(st.get_option("server.address"))


def person() -> Person:
    tag = st.session_state.setdefault(_TAG_KEY, secrets.token_hex(4))  # anonymous: marks this session's runs
    if not in_class():
        return Person(Role.SOLO, tag)
    role = Role.TEACHER if st.session_state.get(_ROLE_KEY) == Role.TEACHER else Role.STUDENT
    return Person(role, tag, st.context.ip_address)


def accept_teacher_link() -> None:
    """Read a teacher link's token once, take it out of the address bar at once (never projected or bookmarked),
    and make this session the teacher's when it is the class's token. Page changes drop query parameters, so the
    role lives in the session from then on."""
    offered = st.query_params.get(TEACHER_PARAM)
    if offered is None:
        return
    del st.query_params[TEACHER_PARAM]
    if not in_class() or st.session_state.get(_ROLE_KEY) == Role.TEACHER:
        return
    try:
        accepted = token_check().accepts(offered, st.context.ip_address)
    except (Refused, StoreError) as err:
        st.session_state["role_notice"] = ("error", str(err))
        return
    if accepted:
        st.session_state[_ROLE_KEY] = Role.TEACHER
        st.session_state["role_notice"] = ("success", N_("You are the teacher in this browser: the Class page is "
                                                         "yours."))
    else:
        st.session_state["role_notice"] = ("error", N_("That teacher link is not this class's: you are a student "
                                                       "here."))


def show_role_notice() -> None:
    """The notice accept_teacher_link left (kept in English: it is translated here, as it is shown)."""
    kind, text = st.session_state.pop("role_notice", (None, None))
    if kind == "error":
        st.error(_(text), icon=":material/lock:")
    elif kind == "success":
        st.success(_(text), icon=":material/school:")


def token_check() -> TokenCheck:
    return _token_check_for(str(store().home))


@st.cache_resource(show_spinner=False)
def _token_check_for(home: str) -> TokenCheck:
    """One per server: the token (made now if there is none yet, and then shown on the server's console) and the
    count of wrong guesses per address."""
    token, made = teacher_token(home)
    if made:
        port = st.get_option("server.port")
        print(f"MNIST Lab teacher link (keep it to yourself): {teacher_link('127.0.0.1', port, token)}",
              file=sys.stderr, flush=True)
    return TokenCheck(token)


def class_settings() -> ClassSettings:
    from common import worker

    return worker().settings  # the one the training queue checks


def class_actions() -> ClassActions:
    return ClassActions(store(), Drawings(store().home))


def within_budget(experiment):
    """What this session may queue of `experiment`: as it is, or shortened to a student's budget (fewer epochs, a
    slice of the images), so a preset's Train works for a student instead of being refused."""
    if person().runs_the_class:
        return experiment
    return fit_to_budget(experiment, class_settings().budget)


def connected_browsers() -> int | None:
    """How many browser sessions are connected to this server (every open tab), or None where this Streamlit does not
    say: it is read from the runtime's session manager, which Streamlit keeps internal."""
    try:
        from streamlit import runtime

        return runtime.get_instance()._session_mgr.num_active_sessions()
    except Exception:  # noqa: BLE001 — an internal that moved: the panel shows "?"
        return None
