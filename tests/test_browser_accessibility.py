"""Every page passes axe-core's WCAG 2 A and AA rules (issue 24), in a real browser: with five runs in the store and
drawings in the class set, a drawing on Draw's canvas, and once more in projector mode. axe-core comes from
axe-playwright-python, which ships it; the test fails on any violation and says which rule, where."""

from conftest import drawn_digit
from mnistlab.drawings import Drawings
from test_browser_inside import _stroke
from test_browser_seams import _page, _settle, browser, classroom  # noqa: F401  (fixtures)

PAGES = ("", "train", "results", "compare", "draw", "inside", "class_test", "report", "lesson")
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options=WCAG_AA).response["violations"]
    return [f"{rule['id']} ({rule['impact']}) × {len(rule['nodes'])}: "
            + " | ".join(f"{node['html'][:90]} — {' '.join(node['failureSummary'].split())[:200]}"
                         for node in rule["nodes"][:3])
            for rule in found]


def _walk(browser, url, projector: bool) -> dict[str, list[str]]:
    """Every page in one session, as a person goes from page to page (projector mode, once on, holds)."""
    from playwright.sync_api import expect

    page = _page(browser, url, "draw")
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    if projector:
        page.get_by_text("Projector mode").click()
        _settle(page)
    page.wait_for_timeout(500)
    _stroke(page, [(60, 60), (220, 60), (130, 240)])  # a 7 on the canvas: Draw, and Inside after it, read it
    expect(page.locator(".st-key-reading_headline").get_by_text("I read a")).to_be_visible(timeout=60_000)
    found = {"draw": _violations(page)}
    for path in PAGES:
        if path != "draw":
            page.get_by_role("link", name=_link_name(path)).first.click()
            _settle(page)
            page.wait_for_timeout(500)  # charts and tables draw themselves after the script has run
            found[path or "build"] = _violations(page)
    page.context.close()
    return found


def _link_name(path: str) -> str:
    return {"": "Build", "class_test": "Class test"}.get(path, path.capitalize())


def test_every_page_passes_axe_wcag_2_aa_with_a_drawing_and_in_projector_mode(classroom, browser, store_home):
    url, _ = classroom
    for index in (0, 1, 2):  # Class test has drawings to show
        Drawings(store_home).save(*drawn_digit(index), "session0")
    failing = {}
    for projector in (False, True):
        for name, violations in _walk(browser, url, projector).items():
            if violations:
                failing[f"{name}{' (projector)' if projector else ''}"] = violations
    assert not failing, "\n".join(f"{page}: {line}" for page, lines in failing.items() for line in lines)
