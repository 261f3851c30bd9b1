"""Inside the network, in a real browser (issue 12): on Draw, with "Inside the network" on, each stroke redraws
every layer; the drawing then opens on the Inside page, where each stroke does the same."""

import json
import re

import numpy as np

from launch import start_server, stop_server
from test_browser import _shot
from test_browser_seams import _page, _settle, assert_projector_sized, browser  # noqa: F401  (a fixture)

# The first hidden layer's tiled channels as the browser holds them (Plotly's decoded z), as JSON (gaps: null):
# the first chart whose title is a Conv2D layer's; null until Plotly has drawn it (a moment after Streamlit puts the
# chart's element on the page, so `_first_map` waits for it).
FIRST_CHART = ("[...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && gd._fullData && "
               "(gd.layout.title.text || '').includes('Conv2D ·'))")
FIRST_MAP = (f"() => {{ const gd = {FIRST_CHART}; "
             "return gd ? JSON.stringify(Array.from(gd._fullData[0].z, row => Array.from(row))) : null; }")


def _stroke(page, points):
    box = page.locator("canvas.upper-canvas").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def _as_array(text: str) -> np.ndarray:
    return np.array(json.loads(text), dtype=float)  # null → NaN


def _first_map(page) -> str:
    return page.wait_for_function(FIRST_MAP, timeout=30_000).json_value()


def _redrawn_by(page, points) -> int:
    """How many of the first layer's values a stroke changed (waiting until the browser shows the new ones)."""
    shown = _first_map(page)
    before = _as_array(shown)
    assert before.shape == (4 * 26,) * 2 and np.max(before) > 0  # 16 channels of 26×26, 4 × 4 tiles
    _stroke(page, points)
    page.wait_for_function(f"old => ![null, old].includes(({FIRST_MAP})())", arg=shown, timeout=30_000)
    _settle(page)
    after = _as_array(_first_map(page))
    assert after.shape == before.shape
    return int((after != before).sum())  # whole percentages of the layer's strongest output


def test_a_drawing_looked_into_and_every_stroke_redraws_the_layers(browser, trained_store, store_home):  # noqa: F811
    import shutil

    home, run_id = trained_store
    shutil.copytree(home, store_home)
    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "draw")
        page.get_by_text("Inside the network", exact=True).click()  # the toggle beside Clear
        _settle(page)
        _stroke(page, [(60, 60), (220, 60), (130, 240)])  # a 7
        page.get_by_text(re.compile(r"I read a \d")).first.wait_for()
        page.get_by_text("Layer by layer").first.wait_for()
        _settle(page)
        assert _redrawn_by(page, [(150, 40), (150, 120)]) > 100  # a tick on top: Draw's layers follow the pen
        page.get_by_role("button", name="Open on the Inside page").click()
        page.wait_for_url(re.compile(r"/inside$"))  # the address changes when the Inside page's run starts
        page.get_by_text(re.compile(r"It reads a \d")).first.wait_for()
        _settle(page)
        _shot(page, "inside")
        assert _redrawn_by(page, [(60, 150), (220, 150)]) > 100  # a bar across: a crossed 7, or another digit

        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the canvas").first.wait_for()
    finally:
        stop_server(process)


def test_projector_mode_stays_on_when_a_drawing_opens_on_inside(browser, trained_store, store_home):  # noqa: F811
    """Turned on at Draw, projector mode holds for the Inside page the drawing is opened on: its switch and its
    charts (st.switch_page, not a sidebar link, takes the student there)."""
    import shutil

    from playwright.sync_api import expect

    home, _ = trained_store
    shutil.copytree(home, store_home)
    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "draw")
        page.get_by_text("Projector mode").click()
        _settle(page)
        _stroke(page, [(60, 60), (220, 60), (130, 240)])
        page.get_by_text(re.compile(r"I read a \d")).first.wait_for()
        _settle(page)
        assert_projector_sized(page)
        page.get_by_role("button", name="Open on the Inside page").click()
        page.wait_for_url(re.compile(r"/inside$"))
        page.get_by_text(re.compile(r"It reads a \d")).first.wait_for()
        _settle(page)
        _first_map(page)  # the layers drawn
        expect(page.get_by_role("switch", name="Projector mode")).to_be_checked()
        assert page.locator(".js-plotly-plot .gtitle").count() >= 3
        assert_projector_sized(page)
        _shot(page, "inside-projector")
    finally:
        stop_server(process)
