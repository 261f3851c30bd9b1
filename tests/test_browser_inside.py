"""Inside the network, in a real browser (issue 12): a digit drawn on Draw is looked into, and each stroke drawn
on the Inside page changes what its layers show."""

import json
import re

import numpy as np

from launch import start_server, stop_server
from test_browser import _shot
from test_browser_seams import _page, _settle, browser  # noqa: F401  (a fixture)

# The first hidden layer's tiled channels as the browser holds them (Plotly's decoded z), as JSON (gaps: null).
FIRST_MAP = ("() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot')[2]._fullData[0].z, "
             "row => Array.from(row)))")


def _stroke(page, points):
    box = page.locator("canvas.upper-canvas").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def _as_array(text: str) -> np.ndarray:
    return np.array(json.loads(text), dtype=float)  # null → NaN


def test_a_drawing_looked_into_and_every_stroke_redraws_the_layers(browser, trained_store, store_home):  # noqa: F811
    import shutil

    home, run_id = trained_store
    shutil.copytree(home, store_home)
    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "draw")
        _stroke(page, [(60, 60), (220, 60), (130, 240)])  # a 7
        page.get_by_text(re.compile(r"I read a \d")).first.wait_for()
        _settle(page)
        page.get_by_role("button", name="Look inside the network").click()
        _settle(page)
        assert page.url.endswith("/inside")
        reading = page.get_by_text(re.compile(r"It reads a \d")).first
        reading.wait_for()
        shown = page.evaluate(FIRST_MAP)
        before = _as_array(shown)
        assert before.shape == (4 * 27 - 1,) * 2  # the drawing came along: 16 channels of 26×26, 4 × 4 tiles
        assert np.nanmax(before) > 0
        _shot(page, "inside")

        _stroke(page, [(60, 150), (220, 150)])  # a bar across: the 7 becomes a crossed 7, or another digit
        page.wait_for_function(f"old => ({FIRST_MAP})() !== old", arg=shown, timeout=30_000)
        _settle(page)
        after = _as_array(page.evaluate(FIRST_MAP))
        ink = ~np.isnan(before)
        assert np.array_equal(ink, ~np.isnan(after))
        changed = int((np.abs(after[ink] - before[ink]) > 1e-3).sum())
        assert changed > 100, f"only {changed} of the first layer's {ink.sum()} values changed"

        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the canvas").first.wait_for()
    finally:
        stop_server(process)
