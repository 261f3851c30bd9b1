"""The classroom's seams, in a real browser (issue 10): each test is a bug a teacher met that only shows there.

One server per test, on a store of five runs of one trained model (copies named Run A to Run D, and the original).
"""

import itertools
import json
import re
import threading
import time

import pytest

from conftest import copy_run
from launch import CHROMIUM, CHROMIUM_ARGS, READY, start_server, stop_server
from mnistlab.store import RunStore
from test_browser import _set_value, _shot

ROW, HEADER = 35, 35  # px: st.dataframe's row and header heights


@pytest.fixture
def classroom(trained_store, store_home):
    """A served store holding the trained run and four copies, Run A (oldest) to Run D (newest); yields
    (url, {name: run_id})."""
    home, run_id = trained_store
    runs = store_home / "runs"
    runs.mkdir(parents=True)
    copy_run(home / "runs" / run_id, runs, "0")
    names = {}
    for letter in "ABCD":
        copied = copy_run(home / "runs" / run_id, runs, letter.lower())
        info = json.loads((runs / copied / "run.json").read_text())
        (runs / copied / "run.json").write_text(json.dumps(dict(info, name=f"Run {letter}")))
        names[f"Run {letter}"] = copied
    process, url = start_server(store_home)
    try:
        yield url, names
    finally:
        stop_server(process)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser, url, path="", width=1280, height=720):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/{path}")
    _settle(page)
    return page


EXPANDERS_STILL = """() => [...document.querySelectorAll("[data-testid='stExpander'] details")]
    .every(details => details.getAnimations().length === 0)"""


def _settle(page):
    """Wait until the page has run and no expander is still growing or shrinking to its new content (see _expand)."""
    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_function(EXPANDERS_STILL)


def _tick(page, label: str) -> None:
    """Tick a box as a person does, with one click on its label, and see it ticked."""
    from playwright.sync_api import expect

    page.get_by_text(label).click()
    expect(page.get_by_role("checkbox", name=label)).to_be_checked()


def _expand(page, title: str) -> None:
    """Open an expander as a person does: click its title, then wait until it has opened. Streamlit animates the
    opening (its box grows for half a second, the content clipped meanwhile); a click inside it before then made
    Playwright scroll the clipped box to the target, whose scroll the growing box then undid between the mouse's press
    and release — a lost click (issue 24, seam 7; a person cannot click what is still hidden). An open expander
    whose content changes size animates the same way: _settle waits for that."""
    page.get_by_text(title).click()
    details = page.get_by_test_id("stExpander").filter(has=page.get_by_text(title)).locator("details")
    page.wait_for_function("details => details.open", arg=details.element_handle())
    page.wait_for_function(EXPANDERS_STILL)


def _choose(page, label, option):
    """Pick `option` in the select box labelled `label`, with the mouse. Right after a click in a table the first
    click only takes the focus from the table's grid (as it does for a person), so click until the list opens."""
    box = page.get_by_label(label, exact=True)
    for _ in range(3):
        box.click()
        page.wait_for_timeout(300)
        if box.get_attribute("aria-expanded") == "true":
            break
    page.get_by_role("option", name=option).click()
    _settle(page)


def _legend(page):
    """The run names in the charts' legends (SVG text has no innerText)."""
    return set(page.locator(".legendtext").evaluate_all("nodes => nodes.map(node => node.textContent)"))


def test_compare_selection_follows_runs_across_a_delete(classroom, browser):
    """Bug 1: tick Run C and Run B, delete Run D (the row above them) from the manage box: no traceback, and the
    charts still compare Run C and Run B (the ticks were kept by row position, so they moved to other runs)."""
    from playwright.sync_api import expect

    url, names = classroom
    page = _page(browser, url, "compare", height=1000)
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    for row in (1, 2):  # newest first: D, C, B, A, the original
        page.mouse.click(grid["x"] + 15, grid["y"] + HEADER + ROW * row + ROW / 2)
        _settle(page)
    expect(page.locator(".legendtext", has_text="Run B").first).to_be_visible()
    assert {"Run C", "Run B"} <= _legend(page) and "Run D" not in _legend(page)
    _choose(page, "Run", f"Run D · {names['Run D']}")
    page.get_by_text(f"Yes, delete Run D ({names['Run D']})").click()
    _settle(page)
    page.get_by_role("button", name="Delete run").click()
    _settle(page)
    expect(page.get_by_text(f"Deleted run {names['Run D']}.")).to_be_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    legend = _legend(page)
    assert {"Run C", "Run B"} <= legend and "Run A" not in legend, legend
    _shot(page, "seams-compare-after-delete")


def test_a_click_on_a_confusion_matrix_cell_shows_its_images(classroom, browser):
    """Bug 3: a mouse click on an off-diagonal cell of Results' confusion matrix shows that cell's images."""
    from playwright.sync_api import expect

    url, _ = classroom
    page = _page(browser, url, "results")
    matrix = page.locator(".js-plotly-plot", has=page.locator("text=predicted digit")).first
    matrix.scroll_into_view_if_needed()
    area = matrix.locator(".nsewdrag").first.bounding_box()
    true, predicted = 4, 9
    page.mouse.click(area["x"] + (predicted + 0.5) * area["width"] / 10, area["y"] + (true + 0.5) * area["height"] / 10)
    _settle(page)
    expect(page.get_by_text(re.compile(rf"test images of {true} were taken for {predicted}\."))).to_be_visible()
    assert page.get_by_label("true digit", exact=True).input_value() == str(true)  # the boxes follow the click
    _shot(page, "seams-results-cell-clicked")


def test_a_typed_value_out_of_range_is_a_layer_error_that_blocks_training(classroom, browser):
    """Bug 4: typing kernel 30 used to turn the box red and keep 3×3; what was typed is validated and shown."""
    from playwright.sync_api import expect

    url, _ = classroom
    page = _page(browser, url, height=1000)
    kernels = page.get_by_label("kernel", exact=True)
    expect(kernels).to_have_count(2)  # every layer drawn: once, .first was the second Conv2D's box (CI, a slow page)
    kernel = kernels.first
    kernel.fill("30")
    kernel.press("Enter")
    _settle(page)
    expect(page.get_by_text("Layer 1 (Conv2D): kernel_size must be a whole number from 1 to 28, got 30.")).to_be_visible(
        timeout=30_000)  # the rerun can start after _settle looked, and take seconds beside other tests
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_disabled()
    _shot(page, "seams-build-kernel-30")


def test_pages_follow_runs_started_renamed_or_queued_elsewhere(classroom, browser, store_home):
    """Bug 5: an idle Train page shows a run started in another tab, the Report's button shows "(queued)", and
    Compare's manage box shows a rename made elsewhere — each without a reload."""
    from playwright.sync_api import expect

    url, names = classroom
    watcher = _page(browser, url, "train")
    report = _page(browser, url, "report")
    compare = _page(browser, url, "compare")
    RunStore(store_home).rename(names["Run D"], "Renamed elsewhere")  # the manage box's target: the newest run
    expect(compare.get_by_label("Run", exact=True)).to_have_value(f"Renamed elsewhere · {names['Run D']}",
                                                                  timeout=5_000)

    teacher = _page(browser, url, height=1000)
    # Five epochs: still training when the Report's button is clicked below. A one-epoch run could finish at that
    # moment, and the Report's own redraw for it (follow_runs) would swallow the click (seen once in 12 full runs).
    for label, value in (("Epochs", 5), ("Batch size", 256)):
        _set_value(teacher, label, value)
    _tick(teacher, "Train on a slice")
    _set_value(teacher, "Run name", "Started in another tab")
    train = teacher.get_by_role("button", name="Train", exact=True)
    if not train.is_enabled():  # say why (in CI it stayed disabled once): the page's own error
        raise AssertionError(teacher.get_by_test_id("stMain").inner_text()[:3000])
    train.click()
    started = time.perf_counter()
    expect(watcher.get_by_text("Training Started in another tab").first).to_be_visible(timeout=30_000)
    print(f"idle Train page showed the run {time.perf_counter() - started:.1f} s after the click in the other tab")
    # The Report redraws itself (follow_runs) within FOLLOW_EVERY of the run's start: the click may land in that
    # redraw, and must not be lost there (seam 7).
    report.get_by_role("button", name="CNN 1", exact=True).click()  # queued behind the running one
    _settle(report)
    other_report = _page(browser, url, "report")
    expect(other_report.get_by_role("button", name="CNN 1 (queued)")).to_be_visible()
    expect(report.get_by_role("button", name="CNN 1 (queued)")).to_be_visible(timeout=5_000)
    _shot(watcher, "seams-train-followed")


def test_a_redraw_for_a_run_changed_elsewhere_never_costs_a_click(classroom, browser, store_home):
    """Seam 7: while a run is renamed elsewhere every 0.4 s (each rename redraws every page that follows the store),
    each of eight clicks on Results' "Look inside", at different moments of those redraws, opens Inside. Before
    fast reruns were turned off and the followers' own look was fixed, about one click in a hundred was lost here
    (docs/benchmarks.md, "Lost clicks"); tests/test_dashboard.py has the deterministic twin of this test."""
    from playwright.sync_api import expect

    url, names = classroom
    store, done = RunStore(store_home), threading.Event()

    def rename_again_and_again():
        for turn in itertools.count():
            if done.wait(0.4):
                return
            store.rename(names["Run A"], f"Renamed {turn} times")

    renamer = threading.Thread(target=rename_again_and_again)
    renamer.start()
    try:
        page = _page(browser, url, "results")
        for click in range(8):
            page.wait_for_timeout(50 * click)  # not a wait for something: each click at another moment of the renames
            page.get_by_role("button", name="Look inside").click()
            expect(page.get_by_role("heading", name="Inside the network")).to_be_visible(timeout=30_000)
            page.go_back()
            _settle(page)
    finally:
        done.set()
        renamer.join()


def test_open_in_build_forks_a_run(classroom, browser):
    """Compare's "Open in Build": the Build page holds the run's layers and settings under a new name."""
    from playwright.sync_api import expect

    url, names = classroom
    page = _page(browser, url, "compare", height=1000)
    _choose(page, "Run", f"Run B · {names['Run B']}")
    page.get_by_role("button", name="Open in Build").click()
    _settle(page)
    expect(page.locator("h1", has_text="Build a network")).to_be_visible()
    expect(page.get_by_label("Run name", exact=True)).to_have_value("Run B (fork)")
    expect(page.get_by_label("filters", exact=True).first).to_have_value("16")  # the trained run's Conv2D(16)
    _shot(page, "seams-build-forked")


def test_the_training_process_is_warm_before_anyone_presses_train(store_home, browser):
    """Train's first point comes within seconds of the first press: the server's first page starts the training
    process (TensorFlow imported, MNIST loaded), and the page's server itself still has no TensorFlow."""
    from launch import children

    process, url = start_server(store_home, env={"MNISTLAB_WARM_TRAINER": "1"})
    try:
        _page(browser, url)
        deadline, trainer = time.time() + 90, None
        while trainer is None and time.time() < deadline:
            trainer = next((pid for pid in children(process.pid)
                            if b"trainer_process" in open(f"/proc/{pid}/cmdline", "rb").read()), None)
            time.sleep(0.5)
        assert trainer is not None, "no training process was started with the server's first page"
        deadline = time.time() + 90
        while "tensorflow" not in open(f"/proc/{trainer}/maps").read() and time.time() < deadline:
            time.sleep(0.5)
        assert "tensorflow" in open(f"/proc/{trainer}/maps").read()
        assert "tensorflow" not in open(f"/proc/{process.pid}/maps").read()
    finally:
        stop_server(process)


def test_with_no_model_draw_trains_the_quick_cnn_then_reads_a_drawing(store_home, browser):
    """An empty store, as a class's first lesson starts: Draw offers the quick CNN; one click trains it with a
    progress bar, and the page turns into the canvas by itself (its training fragment hands over to the drawing
    area's), which then reads a stroke."""
    from playwright.sync_api import expect

    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "draw")
        page.get_by_role("button", name="Train a quick CNN").click()
        expect(page.get_by_text(re.compile(r"Training Quick CNN — \d+%"))).to_be_visible(timeout=60_000)
        expect(page.locator("canvas.upper-canvas")).to_have_count(1, timeout=180_000)
        page.wait_for_timeout(500)  # the canvas mounted: a stroke on a canvas still mounting selects text instead
        box = page.locator("canvas.upper-canvas").bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 60)
        page.mouse.down()
        for x, y in ((220, 60), (130, 240)):
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()
        expect(page.get_by_text(re.compile(r"I read a \d"))).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Every model's answer")).to_be_visible()
        assert [run.name for run in RunStore(store_home).list_runs().runs] == ["Quick CNN"]
    finally:
        stop_server(process)


TITLES = {"Train": "Train", "Results": "Results", "Compare": "Compare runs", "Draw": "Draw a digit",
          "Report": "The course report, reproduced", "Build": "Build a network"}


def test_every_page_has_its_address_and_a_projector_mode_at_1280_by_720(classroom, browser):
    """Item 7: each page has its own address, and /draw and /report open directly (bookmarks). Projector mode,
    toggled once in the sidebar, stays on across pages: chart text ≥ 18 px, titles ≥ 24 px, the whole confusion
    matrix fits a 1280×720 screen. Screenshots of every page land in artifacts/ to be looked at."""
    from playwright.sync_api import expect

    url, _ = classroom
    for path in ("draw", "report"):
        fresh = _page(browser, url, path)
        expect(fresh.locator("h1", has_text=TITLES[path.title()])).to_be_visible()
        fresh.context.close()
    page = _page(browser, url)
    page.get_by_text("Projector mode").click()
    _settle(page)
    for link in ("Train", "Results", "Compare", "Draw", "Report", "Build"):
        page.get_by_role("link", name=link).click()
        _settle(page)
        expect(page.locator("h1", has_text=TITLES[link])).to_be_visible()
        assert page.url.rstrip("/").endswith(f"/{link.lower()}") or link == "Build", page.url
        expect(page.get_by_role("switch", name="Projector mode")).to_be_checked()
        if link in ("Train", "Results", "Compare"):  # the pages with charts here (no drawing, no reproduction yet)
            expect(page.locator(".js-plotly-plot .xtick text").first).to_be_visible()
        _shot(page, f"projector-{link.lower()}")
        page.screenshot(path=str(_artifacts() / f"projector-{link.lower()}-viewport.png"))
        assert_projector_sized(page)
        if link == "Report":  # seam 8: the table whole on the screen, without sideways scrolling
            assert _sideways_overflow(page.get_by_test_id("stDataFrame").first) <= 0
        if link == "Results":
            matrix = page.locator(".js-plotly-plot", has=page.locator("text=predicted digit")).first
            matrix.scroll_into_view_if_needed()
            box = matrix.bounding_box()
            assert box["height"] <= 720 and box["x"] + box["width"] <= 1280, box
            page.screenshot(path=str(_artifacts() / "projector-results-matrix-viewport.png"))


def _sideways_overflow(table) -> int:
    """How many px of an st.dataframe lie beyond its box (its grid then scrolls sideways)."""
    return table.locator(".dvn-scroller").evaluate("node => node.scrollWidth - node.clientWidth")


def assert_projector_sized(page) -> None:
    """Every chart on the page in projector mode's type: tick labels ≥ 18 px, titles ≥ 24 px; the readings' text
    (Draw's and Inside's HTML) ≥ 18 px, each set of ten bars whole within its column."""
    sizes = page.locator(".js-plotly-plot .xtick text, .js-plotly-plot .gtitle").evaluate_all(
        "nodes => nodes.map(n => [n.getAttribute('class'), parseFloat(getComputedStyle(n).fontSize)])")
    sizes += page.locator(".mnl-read").evaluate_all(
        "nodes => nodes.map(n => ['reading', parseFloat(getComputedStyle(n).fontSize)])")
    for kind, size in sizes:
        assert size >= (24 if kind == "gtitle" else 18), (page.url, kind, size)
    overflow = page.locator(".mnl-bars").evaluate_all(
        "nodes => nodes.map(n => n.scrollWidth - n.clientWidth)")
    assert all(extra <= 0 for extra in overflow), (page.url, overflow)


def _artifacts():
    from test_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


BOXES_NEAR_THE_CANVAS = ("[data-testid=stSelectbox]", "[data-testid=stRadio]")  # the model box; Inside's "Look at"
TOOLBARS = "[data-testid=stElementToolbar], [data-testid=stToolbar]"


def test_no_toolbar_and_not_the_canvas_covers_the_model_box_or_look_at(classroom, browser):
    """Seam 2: with the pointer over the canvas (where toolbars show), nothing of the canvas or of any toolbar lies
    over the model box or Inside's "Look at" choice — at a projector's, a laptop's, a tablet's and a phone's size."""
    url, _ = classroom
    for width, height in ((1280, 720), (1000, 700), (768, 1024), (390, 844)):
        for path in ("draw", "inside"):
            page = _page(browser, url, path, width, height)
            canvas = page.locator("canvas.upper-canvas")
            canvas.wait_for()
            canvas.hover()
            page.wait_for_timeout(300)  # a toolbar fades in on hover
            covering = [canvas.bounding_box()] + [bar.bounding_box() for bar in page.locator(TOOLBARS).all()
                                                  if bar.is_visible()]
            for selector in BOXES_NEAR_THE_CANVAS:
                for box in page.locator(selector).all():
                    for cover in covering:
                        assert not _overlap(box.bounding_box(), cover), (width, path, selector, cover)
            page.context.close()


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
