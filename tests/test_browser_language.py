"""The interface's language per browser session (issue 25), in a real browser: a pt-BR browser starts in Portuguese,
an en-US one in English, and the sidebar's switch changes one session only and holds across pages."""

import re

from playwright.sync_api import expect

from conftest import drawn_digit
from test_browser import _shot
from test_browser_seams import _settle, _sideways_overflow, browser, classroom  # noqa: F401  (fixtures)


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


DECIMAL_COMMA = re.compile(r"^0,\d{4}$")
ENGLISH = ["Build", "Train", "Results", "Compare", "Draw", "Inside", "Class test", "Report", "Lesson"]
PORTUGUESE = ["Construir", "Treinar", "Resultados", "Comparar", "Desenhar", "Por dentro", "Teste da turma",
              "Relatório", "Aula"]


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


TITLES = {"Construir": "Construa uma rede", "Treinar": "Treinar", "Resultados": "Resultados",
          "Comparar": "Compare os treinos", "Desenhar": "Desenhe um dígito", "Por dentro": "Dentro da rede",
          "Teste da turma": "Teste da turma", "Relatório": "O relatório do curso, reproduzido", "Aula": "Aula"}
ENGLISH_LEFT = ["Build a network", "Start from", "Test accuracy", "Which is better?", "Draw one digit", "Look at",
                "Most confident mistakes", "Do the report's findings hold up?", "The drawings", "Layers", "Will MLP",
                "What changes"]


def test_every_page_speaks_portuguese_with_portuguese_numbers(classroom, browser, store_home):
    """A pt-BR browser on every page at 1280×720: the page's title in Portuguese, none of the English texts the pages
    used to show, nothing wider than the screen (Portuguese runs ~20% longer), and numbers with decimal commas on
    Results, Compare and Class test."""
    from mnistlab.drawings import Drawings

    drawings = Drawings(store_home)
    for index in range(5):
        drawings.save(*drawn_digit(index))
    url, _names = classroom
    page = _open(browser, url, "pt-BR")
    for link, title in TITLES.items():
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
        _settle(page)
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        main = page.get_by_test_id("stMain").inner_text()
        assert not [text for text in ENGLISH_LEFT if text in main], (link, main[:2000])
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, link
        _shot(page, f"pt-BR-{link.replace(' ', '-')}")
        if link == "Relatório":  # seam 8 in Portuguese: the table whole on the screen, without sideways scrolling
            assert _sideways_overflow(page.get_by_test_id("stDataFrame").first) <= 0
        if link == "Resultados":
            expect(page.get_by_test_id("stMetricValue").first).to_have_text(DECIMAL_COMMA)
        if link == "Comparar":  # the accuracy chart's labels: "Run A · 0,8758"
            expect(page.locator(".js-plotly-plot .ytick text").first).to_have_text(re.compile(r"· 0,\d{4}$"))
        if link == "Teste da turma":  # the gap sentence: "Quick CNN: 87,6% no MNIST, 40,0% nos 5 desenhos da sua turma"
            expect(page.get_by_role("heading", name=re.compile(r"\d+,\d% no MNIST, \d+,\d% nos 5 desenhos"))) \
                .to_be_visible()
    page.context.close()
