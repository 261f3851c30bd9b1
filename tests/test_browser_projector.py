"""Projector mode from the back of a room (issue 24): on Draw, Inside and Class test every text a teacher points at is
18 px or more, and the reading's headline is clearly larger than without projector mode."""

import re

from conftest import drawn_digit
from mnistlab.drawings import Drawings
from test_browser import _shot
from test_browser_inside import _stroke
from test_browser_seams import _page, _settle, browser, classroom  # noqa: F401  (fixtures)

SMALL_TEXT = """() => {
  const small = [];
  const main = document.querySelector('[data-testid="stMain"]');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, element = node.parentElement;
    if (!node.textContent.trim() || element.closest('svg, [data-testid="stTooltipIcon"], [data-testid="stIconMaterial"], [role="tooltip"]')) continue;
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    if (style.fontFamily.includes('Material')) continue;  // an icon: its name is a ligature, not text
    const size = parseFloat(style.fontSize);
    if (size < 18) small.push(`${size}px: ${node.textContent.trim().slice(0, 40)}`);
  }
  return small;
}"""


def _headline(page, words):
    return page.locator(".st-key-reading_headline").get_by_text(re.compile(words + r" \d"))


def _headline_px(page) -> float:
    headline = page.locator(".st-key-reading_headline h3").first
    return float(headline.evaluate("node => parseFloat(getComputedStyle(node).fontSize)"))


def test_every_text_a_teacher_points_at_is_18_px_or_more_in_projector_mode(classroom, browser, store_home):
    from playwright.sync_api import expect

    url, _ = classroom
    for index in (0, 1, 2):
        Drawings(store_home).save(*drawn_digit(index), "session0")
    page = _page(browser, url, "draw")
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    page.wait_for_timeout(500)
    _stroke(page, [(60, 60), (220, 60), (130, 240)])  # a 7
    expect(_headline(page, "I read a")).to_be_visible(timeout=60_000)
    normal = _headline_px(page)
    page.get_by_text("Projector mode").click()
    _settle(page)
    expect(_headline(page, "I read a")).to_be_visible(timeout=60_000)
    assert _headline_px(page) >= 1.6 * normal, (normal, _headline_px(page))
    assert page.evaluate(SMALL_TEXT) == []
    _shot(page, "projector-draw-text")

    page.get_by_role("button", name="Open on the Inside page").click()
    _settle(page)
    expect(_headline(page, "It reads a")).to_be_visible(timeout=60_000)
    assert _headline_px(page) >= 1.6 * normal
    assert page.evaluate(SMALL_TEXT) == []
    _shot(page, "projector-inside-text")

    page.get_by_role("link", name="Class test").click()
    _settle(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    small = page.evaluate(SMALL_TEXT)
    assert small == [], "\n".join(small)
    _shot(page, "projector-class-test-text")
