"""The page bench/lost_clicks.py clicks first: the dashboard's shape in miniature, and nothing else. A fragment
that looks at something every FOLLOW seconds and draws nothing (as every page's follow-the-store timer does), some
work before a button (as a page draws its charts before its buttons), and a count of the clicks the script saw.

With MINIMAL_CLICKS_PAUSE > 0, a script run's end-of-run clean-up (SessionState.on_script_finished) first waits that
long: what a loaded machine's scheduler does now and then to the thread at that moment, made to happen every time,
so that a race there shows within minutes instead of once in a test suite."""

import os
import time

import streamlit as st
from streamlit.runtime.state.session_state import SessionState

FOLLOW = float(os.environ.get("MINIMAL_CLICKS_FOLLOW", "0.25"))  # seconds
WORK = float(os.environ.get("MINIMAL_CLICKS_WORK", "0.15"))  # seconds before the button
PAUSE = float(os.environ.get("MINIMAL_CLICKS_PAUSE", "0"))  # seconds


def _paused(finished):
    def on_script_finished(self, *args, **kwargs):
        time.sleep(PAUSE)
        return finished(self, *args, **kwargs)

    on_script_finished.paused = True
    return on_script_finished


if PAUSE and not getattr(SessionState.on_script_finished, "paused", False):  # once per server process
    SessionState.on_script_finished = _paused(SessionState.on_script_finished)


@st.fragment(run_every=FOLLOW)
def follow() -> None:
    pass


clicks = st.session_state.setdefault("clicks", 0)
st.caption(f"fast reruns: {st.get_option('runner.fastReruns')}")
time.sleep(WORK)
if st.button("Press", key="press"):
    clicks = st.session_state["clicks"] = clicks + 1
st.markdown(f"clicks: {clicks}")
follow()
