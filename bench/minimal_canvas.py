"""The baseline page for bench/classroom.py: only the Draw page's canvas component, a Clear button and a
trivial "classifier" (no model). What a drawing costs here is the component's and Streamlit's own floor."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

generation = st.session_state.setdefault("generation", 0)
canvas = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", height=280, width=280,
                   drawing_mode="freedraw", return_image_data=True, key=f"canvas_{generation}")
if st.button("Clear"):
    st.session_state["generation"] = generation + 1
    st.rerun()
ink = 0 if canvas is None or canvas.image_data is None else int((canvas.image_data[..., 0] < 128).sum())
st.subheader(f"I read a {ink % 10}" if ink else "Draw a digit on the canvas")
