"""The class's drawings in a real browser (issue 14): a student draws, picks the digit they meant, saves, and the
count rises; a second student in another browser context adds to the same set."""

import re

from playwright.sync_api import expect

from launch import start_server, stop_server
from test_browser_inside import _stroke
from test_browser_seams import _expand, _page, _settle, _tick, browser  # noqa: F401  (a fixture)


def _draw_label_save(page, points, digit):
    _stroke(page, points)
    page.get_by_text(re.compile(r"I read a \d")).first.wait_for()
    _settle(page)
    page.get_by_role("radio", name=digit, exact=True).click()  # the digit the student meant
    _settle(page)
    page.get_by_role("button", name="Save", exact=True).click()
    _settle(page)


def test_students_draw_label_and_save_and_the_count_rises(browser, trained_store, store_home):  # noqa: F811
    import shutil

    from mnistlab.drawings import Drawings

    home, _ = trained_store
    shutil.copytree(home, store_home)
    process, url = start_server(store_home)
    try:
        first, second = _page(browser, url, "draw"), _page(browser, url, "draw")
        _draw_label_save(first, [(60, 60), (220, 60), (130, 240)], "7")
        first.get_by_text("Saved as a 7. The class's set has 1 drawing.").wait_for()
        first.get_by_text("Draw a digit on the canvas").first.wait_for()  # a clean canvas for the next one
        _draw_label_save(second, [(140, 40), (140, 240)], "1")
        second.get_by_text("Saved as a 1. The class's set has 2 drawings.").wait_for()
        kept = Drawings(store_home).all()
        assert sorted(d.label for d in kept) == [1, 7] and len({d.session for d in kept}) == 2  # two students
    finally:
        stop_server(process)


def test_the_teacher_exports_clears_and_imports_the_set(browser, trained_store, store_home, tmp_path):  # noqa: F811
    import shutil

    import numpy as np

    from conftest import drawn_digit
    from mnistlab.drawings import Drawings

    home, _ = trained_store
    shutil.copytree(home, store_home)
    for i in range(3):
        Drawings(store_home).save(*drawn_digit(i))
    process, url = start_server(store_home)
    try:
        page = _page(browser, url, "class_test", height=1000)
        _expand(page, "The drawings (3)")
        _settle(page)
        with page.expect_download() as exported:
            page.get_by_role("button", name="Download as .npz").click()
        assert exported.value.suggested_filename == "class-drawings.npz"
        saved = tmp_path / exported.value.suggested_filename
        exported.value.save_as(saved)
        with np.load(saved, allow_pickle=False) as npz:
            assert npz["x_test"].shape == (3, 28, 28) and npz["y_test"].tolist() == [7, 2, 1]
        _tick(page, "Yes, delete all 3 drawings")
        expect(page.get_by_role("button", name="Delete all drawings")).to_be_enabled(timeout=30_000)
        page.get_by_role("button", name="Delete all drawings").click()
        page.get_by_text("No drawings yet").first.wait_for()
        assert Drawings(store_home).all() == []
        _expand(page, "The drawings (0)")
        _settle(page)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(saved))
        _settle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("3 drawings imported.").wait_for()
        assert sorted(d.label for d in Drawings(store_home).all()) == [1, 2, 7]
    finally:
        stop_server(process)

