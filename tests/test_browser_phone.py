"""A student on a phone (issue 24): 390×844 with touch, in a real browser. No page is wider than the screen, and after
a stroke drawn with a finger the answer is in view without scrolling."""

import re

from test_browser import _shot
from test_browser_seams import _settle, browser, classroom  # noqa: F401  (fixtures)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PAGES = ("", "train", "results", "compare", "draw", "inside", "class_test", "report", "lesson")


def _phone(browser, url, path="", locale="en-US"):
    page = browser.new_context(**PHONE, locale=locale).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/{path}")
    _settle(page)
    return page


def _page_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def _touch_stroke(page, points):
    """One stroke with a finger: touchStart, touchMoves, touchEnd through the browser's own input pipeline."""
    session = page.context.new_cdp_session(page)
    box = page.locator("canvas.upper-canvas").bounding_box()
    at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for step in range(1, 9):
            point = {"x": box["x"] + x0 + (x1 - x0) * step / 8, "y": box["y"] + y0 + (y1 - y0) * step / 8}
            session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _answer_after_a_finger_stroke(page, where: str, answer: str) -> dict:
    """Draw a 7 with a finger on Draw's canvas; the answer's box on the screen once it shows."""
    from playwright.sync_api import expect

    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    page.wait_for_timeout(500)  # the canvas mounted: a stroke on a canvas still mounting draws nothing
    _touch_stroke(page, [(60, 60), (220, 60), (130, 240)])
    shown = page.locator(where).get_by_text(re.compile(answer))
    expect(shown).to_be_visible(timeout=60_000)
    return shown.bounding_box()


def test_no_page_is_wider_than_a_phone(classroom, browser):
    url, _ = classroom
    wide = {}
    for path in PAGES:
        page = _phone(browser, url, path)
        page.wait_for_timeout(500)  # charts and tables take their width after the script has run
        width = _page_width(page)
        if width > 390:
            wide[path or "build"] = width
        _shot(page, f"phone-{path or 'build'}")
        page.context.close()
    assert not wide, f"pages wider than a 390-px phone: {wide}"


def test_after_a_finger_stroke_the_answer_is_in_view_without_scrolling(classroom, browser):
    url, _ = classroom
    page = _phone(browser, url, "draw")
    box = _answer_after_a_finger_stroke(page, ".st-key-compact_reading", r"Reading: \d")
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844, box  # on screen, with the page not scrolled
    assert page.evaluate("window.scrollY") == 0
    page.wait_for_timeout(500)
    assert _page_width(page) <= 390  # the answers table below scrolls inside itself
    pills = page.get_by_role("radiogroup", name="Save it for the class test — it is a").get_by_role("radio")
    assert pills.count() == 10
    for index in range(10):  # every digit whole on the screen: the pills wrap
        box = pills.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
    _shot(page, "phone-draw-after-a-stroke")


TABLET = {"viewport": {"width": 768, "height": 1024}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_a_tablet_shows_every_page_within_its_width_and_the_answer_beside_the_canvas(classroom, browser):
    """768×1024 with touch: the phone's compact reading is hidden there (readings._style), so the answer in view is
    the page's own headline, beside the canvas."""
    url, _ = classroom
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.set_default_timeout(60_000)
    wide = {}
    for path in PAGES:
        page.goto(f"{url}/{path}")
        _settle(page)
        page.wait_for_timeout(500)  # charts and tables take their width after the script has run
        if _page_width(page) > 768:
            wide[path or "build"] = _page_width(page)
        _shot(page, f"tablet-{path or 'build'}")
    assert not wide, f"pages wider than a 768-px tablet: {wide}"
    page.goto(f"{url}/draw")
    _settle(page)
    box = _answer_after_a_finger_stroke(page, ".st-key-reading_headline", r"I read a \d")
    assert 0 <= box["y"] and box["y"] + box["height"] <= 1024 and box["x"] + box["width"] <= 768, box
    assert page.evaluate("window.scrollY") == 0
    _shot(page, "tablet-draw-after-a-stroke")
    context.close()


def test_a_student_on_a_phone_in_portuguese(classroom, browser):
    """The phone's layout with Portuguese's longer words: no page wider than the screen, the answer in view after a
    finger stroke, and every Save pill whole."""
    url, _ = classroom
    wide = {}
    for path in PAGES:
        page = _phone(browser, url, path, locale="pt-BR")
        page.wait_for_timeout(500)
        if _page_width(page) > 390:
            wide[path or "build"] = _page_width(page)
        _shot(page, f"phone-pt-BR-{path or 'build'}")
        page.context.close()
    assert not wide, f"pages wider than a 390-px phone in Portuguese: {wide}"
    page = _phone(browser, url, "draw", locale="pt-BR")
    box = _answer_after_a_finger_stroke(page, ".st-key-compact_reading", r"Leitura: \d")
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844 and page.evaluate("window.scrollY") == 0, box
    page.wait_for_timeout(500)
    pills = page.get_by_role("radiogroup", name="Salve para o teste da turma — é um").get_by_role("radio")
    assert pills.count() == 10
    for index in range(10):
        box = pills.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
    _shot(page, "phone-pt-BR-draw-after-a-stroke")
    page.context.close()
