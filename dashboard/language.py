"""The session's language (issue 25): chosen once from the browser's (st.context.locale), else the server's
MNISTLAB_LANG, else English; changed with the sidebar's switch, for this session only. `speak()` at the top of
every run sets it for the run (mnistlab.i18n: per script thread, nothing process-wide), so every text is translated
as it is shown. Kept under "language", not the switch's own key: Streamlit drops widget state on st.switch_page."""

from __future__ import annotations

import os
from functools import wraps

import streamlit as st

from mnistlab import i18n
from mnistlab.i18n import _

_KEY, _SWITCH = "language", "language_switch"


def speak() -> str:
    """This session's language, set for this run: what every _() of the run (and of mnistlab) reads."""
    language = st.session_state.get(_KEY)
    if language not in i18n.LANGUAGES and language != i18n.PSEUDO:
        language = st.session_state[_KEY] = i18n.pick(st.context.locale, os.environ.get("MNISTLAB_LANG"))
    i18n.use(language)
    return language


def language_switch() -> None:
    """The sidebar's choice of language, shown in each language's own name."""
    st.session_state[_SWITCH] = st.session_state[_KEY] if st.session_state[_KEY] in i18n.LANGUAGES else i18n.ENGLISH
    st.sidebar.selectbox(_("Language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key=_SWITCH,
                         on_change=_keep_language)


def _keep_language() -> None:
    st.session_state[_KEY] = st.session_state[_SWITCH]


def fragment(function=None, *, run_every=None):
    """st.fragment, speaking the session's language in each of its runs: a fragment's rerun (a stroke on Draw, Train's
    poll) runs only its own function — not app.py, whose speak() the fragment would otherwise miss, and it would
    answer in English."""
    def decorate(inner):
        @wraps(inner)
        def in_language(*args, **kwargs):
            speak()
            return inner(*args, **kwargs)
        return st.fragment(in_language, run_every=run_every)
    return decorate(function) if function is not None else decorate
