"""MNIST Lab dashboard: `streamlit run dashboard/app.py`."""

import streamlit as st

import common  # noqa: F401  (puts the repo root on sys.path)
from callbacks import keep_projector_mode
from language import language_switch, speak
from mnistlab.i18n import _
from session_role import accept_teacher_link, in_class, person, show_role_notice

# An emoji icon: a material one here makes every browser fetch it from Google's font servers (classrooms are offline).
st.set_page_config(page_title="MNIST Lab", page_icon="✏️", layout="wide")
speak()  # this session's language, for everything this run shows

pages = [
    st.Page("app_pages/build.py", title=_("Build"), icon=":material/construction:", default=True),
    st.Page("app_pages/train.py", title=_("Train"), icon=":material/model_training:"),
    st.Page("app_pages/results.py", title=_("Results"), icon=":material/bar_chart:"),
    st.Page("app_pages/compare.py", title=_("Compare"), icon=":material/compare_arrows:"),
    st.Page("app_pages/draw.py", title=_("Draw"), icon=":material/draw:"),
    st.Page("app_pages/inside.py", title=_("Inside"), icon=":material/visibility:"),
    st.Page("app_pages/class_test.py", title=_("Class test"), icon=":material/groups:"),
    st.Page("app_pages/report.py", title=_("Report"), icon=":material/description:"),
    st.Page("app_pages/lesson.py", title=_("Lesson"), icon=":material/quiz:"),
]
accept_teacher_link()  # before anything is drawn: the token leaves the address bar at once
if person().role == "teacher":
    pages.append(st.Page("app_pages/class_panel.py", title=_("Class"), icon=":material/school:"))
common.worker()  # the training worker starts with the server's first page, warming its training process
navigation = st.navigation(pages)
show_role_notice()
if in_class():
    st.sidebar.caption(_("You are the **teacher**.") if person().role == "teacher" else
                       _("You are a **student** in this class: you can draw, look at everything and train within "
                         "the class's budget."))
# Projector mode lives in "projector", not in the switch's own state: Streamlit drops every widget's state when a
# page opens another with st.switch_page (Draw's "Open on the Inside page"), and the switch would stay on while
# the charts went back to normal size.
st.session_state["projector_switch"] = st.session_state.setdefault("projector", False)
st.sidebar.toggle(_("Projector mode"), key="projector_switch", on_change=keep_projector_mode,
                  help=_("larger chart text and a high-contrast palette, for the back of a classroom"))
language_switch()
common.style_page()
navigation.run()
