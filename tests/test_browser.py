"""End to end in a real browser: build, train live, compare, draw — Debian's Chromium driven by Playwright.

Along the way: a run name of Markdown and HTML shows as plain text everywhere, no page asks any host but
the dashboard's own, and the server never loads TensorFlow.

Screenshots of each page land in artifacts/ (not committed).
"""

import os
import re
from pathlib import Path

import pytest

from conftest import REPO
from mnistlab.store import RunStore
from launch import CHROMIUM, CHROMIUM_ARGS, READY, children, start_server, stop_server

ARTIFACTS = REPO / "artifacts"


@pytest.fixture
def server(store_home):
    process, url = start_server(store_home)
    try:
        yield process, url
    finally:
        stop_server(process)


def _tensorflow_loaded(pid: int) -> bool:
    """Whether TensorFlow's native library is mapped into a process (it is, once anything imports it)."""
    return "tensorflow" in (Path(f"/proc/{pid}/maps").read_text())


def _settle(page):
    page.wait_for_selector(READY, timeout=60_000)


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _set_value(page, label, value):
    """Type a value into the box labelled `label` and press Enter, as a person does, and see that the box shows it."""
    from playwright.sync_api import expect

    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    _settle(page)
    expect(field).to_have_value(str(value))


HOSTILE = "[click](https://evil.example/) ![x](https://evil.example/x.png) <b>bold</b>"


def test_build_train_compare_draw(server, store_home):
    from playwright.sync_api import expect, sync_playwright

    process, url = server
    assert os.path.exists(CHROMIUM), "Debian's chromium is needed (apt-get install chromium chromium-driver)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(60_000)
        requests, url_prefix = [], url + "/"
        page.on("request", lambda request: requests.append(request.url))  # every page must be offline-safe

        # Build: a small CNN on a slice of MNIST, one epoch.
        page.goto(url)
        _settle(page)
        expect(page.get_by_text("Build a network").first).to_be_visible()
        _set_value(page, "Epochs", 1)
        page.get_by_text("Train on a slice").click()
        _settle(page)
        _set_value(page, "training images", 20000)
        name = page.get_by_label("Run name", exact=True)
        name.fill("Browser CNN")
        name.press("Enter")
        _settle(page)
        _shot(page, "build")
        page.get_by_role("button", name="Train", exact=True).click()

        # Train: the live curve gets points, then the run completes.
        expect(page.get_by_text("Training Browser CNN").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text(re.compile(r"batch [1-9]\d*/\d+")).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Training loss per batch").first).to_be_visible()  # a rerun may briefly show two
        expect(page.locator(".scatterlayer .trace .points path").first).to_be_visible()  # live points drawn
        _shot(page, "train-live")
        expect(page.get_by_text("Training completed.").first).to_be_visible(timeout=180_000)
        _settle(page)
        _shot(page, "train-done")

        # A student renames the run to Markdown and HTML: every page shows it as the characters typed.
        run_id = RunStore(store_home).list_runs().runs[0].run_id
        RunStore(store_home).rename(run_id, HOSTILE)
        page.reload()
        _settle(page)
        expect(page.get_by_text(f"Last run: {HOSTILE}").first).to_be_visible()

        # Compare: the run is in the table and the accuracy chart, its name plain text in both.
        page.get_by_role("link", name="Compare").click()
        _settle(page)
        expect(page.get_by_text("Compare runs").first).to_be_visible()
        expect(page.locator("svg text", has_text="[click](https://evil.example/) ![x]").first).to_be_visible()
        expect(page.get_by_text(f"Yes, delete {HOSTILE}").first).to_be_visible()
        _shot(page, "compare")

        # Results for it.
        page.get_by_role("link", name="Results").click()
        _settle(page)
        expect(page.get_by_text("Most confident mistakes").first).to_be_visible()
        _shot(page, "results")

        # Draw: a 7 with the mouse, and a prediction comes back.
        page.get_by_role("link", name="Draw").click()
        _settle(page)
        canvas = page.locator("canvas.upper-canvas")
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        x, y = box["x"], box["y"]
        page.mouse.move(x + 60, y + 60)
        page.mouse.down()
        page.mouse.move(x + 220, y + 60, steps=8)
        page.mouse.move(x + 130, y + 240, steps=8)
        page.mouse.up()
        expect(page.get_by_text(re.compile(r"I read a \d")).first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("What the model sees").first).to_be_visible()
        _settle(page)
        _shot(page, "draw")
        answers = page.locator(".mnl-answers td", has_text=HOSTILE)  # the run's name as typed, in Draw's HTML table
        expect(answers.first).to_be_visible()
        assert page.locator(".mnl-answers a, .mnl-answers img, .mnl-answers b").count() == 0

        # Inside: the same drawing, every layer (computed in the prediction process, like the drawing's reading).
        page.get_by_role("button", name="Open on the Inside page").click()
        _settle(page)
        expect(page.get_by_text(re.compile(r"It reads a \d")).first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("What the first layer looks for").first).to_be_visible()

        page.get_by_role("link", name="Report").click()
        _settle(page)
        expect(page.get_by_text("The course report, reproduced").first).to_be_visible()
        _shot(page, "report")
        assert page.locator("a[href*='evil.example'], img[src*='evil.example']").count() == 0
        browser.close()
    foreign = [url for url in requests if not url.startswith((url_prefix, "data:", "blob:"))]
    assert not foreign, f"the dashboard asked other hosts: {foreign[:5]}"
    assert not _tensorflow_loaded(process.pid), "the server imported TensorFlow (Streamlit then clears Keras's " \
                                                "session after every script run)"
    assert any(_tensorflow_loaded(child) for child in children(process.pid)), "the predictions came from elsewhere"
