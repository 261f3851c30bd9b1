"""The interface's language per browser session (issue 25), in a real browser: a pt-BR browser starts in Portuguese,
an en-US one in English, and the sidebar's switch changes one session only and holds across pages."""

from playwright.sync_api import expect

from test_browser import _shot
from test_browser_seams import _settle, browser, classroom  # noqa: F401  (fixtures)


def _open(browser, url, locale, path=""):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/{path}")
    _settle(page)
    return page


def _navigation(page) -> list[str]:
    return [text.split("\n")[-1].strip()  # after the icon's name
            for text in page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()]


ENGLISH = ["Build", "Train", "Results", "Compare", "Draw", "Inside", "Class test", "Report"]
PORTUGUESE = ["Construir", "Treinar", "Resultados", "Comparar", "Desenhar", "Por dentro", "Teste da turma",
              "Relatório"]


def test_each_browser_starts_in_its_language_and_the_switch_changes_one_session_only(classroom, browser):
    url, _ = classroom
    brazilian, american, other = (_open(browser, url, locale) for locale in ("pt-BR", "en-US", "en-US"))
    assert _navigation(brazilian) == PORTUGUESE and _navigation(american) == ENGLISH
    expect(brazilian.get_by_text("Modo projetor")).to_be_visible()
    expect(american.get_by_text("Projector mode")).to_be_visible()
    _shot(brazilian, "language-pt-BR-build")

    american.get_by_label("Language").click()  # with the mouse, as a student would
    american.get_by_role("option", name="Português (Brasil)").click()
    expect(american.get_by_text("Modo projetor")).to_be_visible()
    assert _navigation(american) == PORTUGUESE
    american.get_by_role("link", name="Desenhar").click()  # the choice holds across pages
    _settle(american)
    expect(american.get_by_label("Idioma")).to_be_visible()
    assert _navigation(american) == PORTUGUESE

    other.reload()  # another session of the same kind of browser is not changed by it
    _settle(other)
    assert _navigation(other) == ENGLISH
    brazilian.get_by_label("Idioma").click()
    brazilian.get_by_role("option", name="English").click()
    expect(brazilian.get_by_text("Projector mode")).to_be_visible()
    assert _navigation(american) == PORTUGUESE
    for page in (brazilian, american, other):
        page.context.close()
