"""MNIST Lab dashboard: `streamlit run dashboard/app.py`."""

import streamlit as st

import common  # noqa: F401  (puts the repo root on sys.path)

# An emoji icon: a material one here makes every browser fetch it from Google's font servers (classrooms are offline).
st.set_page_config(page_title="MNIST Lab", page_icon="✏️", layout="wide")

pages = [
    st.Page("app_pages/build.py", title="Build", icon=":material/construction:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/results.py", title="Results", icon=":material/bar_chart:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("app_pages/inside.py", title="Inside", icon=":material/visibility:"),
    st.Page("app_pages/class_test.py", title="Class test", icon=":material/groups:"),
    st.Page("app_pages/report.py", title="Report", icon=":material/description:"),
]
common.worker()  # the training worker starts with the server's first page, warming its training process
navigation = st.navigation(pages)
st.sidebar.toggle("Projector mode", key="projector",  # drawn on every page, so it is kept all session
                  help="larger chart text and a high-contrast palette, for the back of a classroom")
navigation.run()
